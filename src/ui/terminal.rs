//! The user's terminal while a remote command owns it (`ltc ssh`): raw mode for as long as a
//! [`RawMode`] lives, restored when it is dropped, whatever the way out (return, error,
//! panic unwinding).

use std::io::IsTerminal;

/// Raw mode on the controlling terminal: keys go to the remote process as typed (Ctrl-C
/// included), nothing is echoed or buffered locally.
pub struct RawMode {
    _private: (),
}

impl RawMode {
    /// Switches stdin's terminal to raw mode; `None` when stdin is not a terminal.
    pub fn enable() -> std::io::Result<Option<RawMode>> {
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        crossterm::terminal::enable_raw_mode()?;
        Ok(Some(RawMode { _private: () }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The terminal's size as (columns, rows), when stdout or stdin is one.
pub fn size() -> Option<(u16, u16)> {
    crossterm::terminal::size()
        .ok()
        .filter(|(columns, rows)| *columns > 0 && *rows > 0)
}
