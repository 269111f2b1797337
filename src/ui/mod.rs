//! The only place that prints. stdout carries data (tables, JSON, URLs); stderr carries
//! progress, notes, warnings and errors. Colour and progress bars appear only on a terminal,
//! never with `NO_COLOR`, an empty `TERM` or `TERM=dumb`. A closed stdout (`ltc list | head -1`)
//! ends the process quietly with exit 0.

pub mod progress;
pub mod terminal;

use crate::config::Settings;
use crate::error::Error;
use serde::Serialize;
use std::fmt::Display;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Red,
    Green,
    Yellow,
    Cyan,
    Bold,
    Gray,
}

impl Color {
    /// Lattice's ANSI codes.
    fn code(self) -> &'static str {
        match self {
            Color::Red => "91",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Cyan => "36",
            Color::Bold => "1",
            Color::Gray => "90",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    out_color: bool,
    err_color: bool,
    pub err_is_terminal: bool,
    pub out_is_terminal: bool,
    /// Set while `--rate` redraws a frame (see [`Ui::begin_frame`]).
    redrawing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Shows the cursor again when a `--rate` display ends, however it ends (Ctrl-C included).
pub struct Redraw {
    ui: Ui,
}

impl Drop for Redraw {
    fn drop(&mut self) {
        self.ui.end_frame();
        self.ui.out_raw("\x1b[?25h");
    }
}

impl Ui {
    pub fn new(settings: &Settings, json: bool, quiet: bool) -> Ui {
        let out_is_terminal = std::io::stdout().is_terminal();
        let err_is_terminal = std::io::stderr().is_terminal();
        Ui {
            json,
            quiet,
            out_color: settings.color_allowed && out_is_terminal,
            err_color: settings.color_allowed && err_is_terminal,
            err_is_terminal,
            out_is_terminal,
            redrawing: Default::default(),
        }
    }

    /// A printer with no terminal and no colour, for errors before settings exist.
    pub fn plain(json: bool) -> Ui {
        Ui {
            json,
            quiet: false,
            out_color: false,
            err_color: false,
            err_is_terminal: false,
            out_is_terminal: false,
            redrawing: Default::default(),
        }
    }

    /// `text` in `color` when stdout shows colour.
    pub fn paint(&self, color: Color, text: impl Display) -> String {
        paint(self.out_color, color, text)
    }

    /// `text` in `color` when stderr shows colour.
    pub fn paint_err(&self, color: Color, text: impl Display) -> String {
        paint(self.err_color, color, text)
    }

    /// One line of data on stdout.
    pub fn out(&self, text: impl Display) {
        let mut stdout = std::io::stdout().lock();
        // While a frame is redrawn in place, each line also erases what an earlier, longer
        // frame left to its right.
        let erase = if self.redrawing.load(std::sync::atomic::Ordering::Relaxed) {
            "\x1b[K"
        } else {
            ""
        };
        if let Err(e) = writeln!(stdout, "{text}{erase}").and_then(|()| stdout.flush())
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// Text on stdout without a newline (terminal control).
    pub fn out_raw(&self, text: &str) {
        self.out_bytes(text.as_bytes());
    }

    /// Raw bytes on stdout (a generated script).
    pub fn out_bytes(&self, bytes: &[u8]) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush())
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// Starts redrawing in place (`--rate`): the screen is cleared once and the cursor hidden;
    /// each frame then goes over the previous one line by line, so nothing is pushed into the
    /// terminal's scrollback. The cursor comes back when the returned guard drops.
    pub fn start_redraw(&self) -> Redraw {
        self.out_raw("\x1b[?25l\x1b[2J");
        Redraw { ui: self.clone() }
    }

    /// Begins a frame at the top left.
    pub fn begin_frame(&self) {
        self.out_raw("\x1b[H");
        self.redrawing
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Ends a frame: what an earlier, longer frame left below it goes.
    pub fn end_frame(&self) {
        if self
            .redrawing
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            self.out_raw("\x1b[J");
        }
    }

    /// A JSON document on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) {
        self.out(serde_json::to_string_pretty(value).expect("serialisable"));
    }

    /// A line for the human on stderr (progress, notes); silent with `--quiet`, and with
    /// `--json`, whose stderr holds nothing but the error object.
    pub fn note(&self, text: impl Display) {
        if !self.quiet && !self.json {
            eprintln!("{text}");
        }
    }

    /// A warning on stderr; silent with `--quiet` and with `--json` (whose answers carry their
    /// warnings).
    pub fn warn(&self, text: impl Display) {
        if !self.quiet && !self.json {
            eprintln!(
                "{}",
                self.paint_err(Color::Yellow, format!("Warning: {text}"))
            );
        }
    }

    /// The error that ends the command: one line (and a hint), or one JSON object with `--json`.
    pub fn error(&self, error: &Error) {
        if self.json {
            let value = serde_json::json!({
                "error": error.message,
                "kind": error.kind,
                "exit_code": error.exit_code(),
                "hint": error.hint,
            });
            eprintln!("{value}");
            return;
        }
        eprintln!(
            "{}",
            self.paint_err(Color::Red, format!("ltc: {}", error.message))
        );
        if let Some(hint) = &error.hint {
            eprintln!("hint: {hint}");
        }
    }
}

fn paint(enabled: bool, color: Color, text: impl Display) -> String {
    if enabled {
        format!("\x1b[{}m{text}\x1b[0m", color.code())
    } else {
        text.to_string()
    }
}

/// A cell of a table: the text and how to paint it.
pub struct Cell {
    pub text: String,
    pub color: Option<Color>,
}

impl Cell {
    pub fn plain(text: impl Display) -> Cell {
        Cell {
            text: text.to_string(),
            color: None,
        }
    }

    pub fn colored(text: impl Display, color: Color) -> Cell {
        Cell {
            text: text.to_string(),
            color: Some(color),
        }
    }
}

/// Lays rows out in columns two spaces apart (widths measured without colour codes).
pub fn table(ui: &Ui, rows: &[Vec<Cell>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let text = match cell.color {
                    Some(color) => ui.paint(color, &cell.text),
                    None => cell.text.clone(),
                };
                line.push_str(&text);
                if c + 1 < row.len() {
                    let pad = widths[c] - cell.text.chars().count() + 2;
                    line.push_str(&" ".repeat(pad));
                }
            }
            line
        })
        .collect()
}

/// Bytes as Lattice showed memory: `4.2M`, `1.1G`.
pub fn format_bytes(bytes: u64) -> String {
    let units = [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)];
    for (unit, size) in units {
        if bytes >= size {
            return format!("{:.1}{unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes}B")
}

/// Uptime as Go printed durations, which Lattice showed: `1h2m3s`.
pub fn format_duration(duration: std::time::Duration) -> String {
    let total = duration.as_secs();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_on_text_width() {
        let ui = Ui::plain(false);
        let rows = vec![
            vec![Cell::plain("App Name"), Cell::plain("Instances")],
            vec![Cell::colored("web", Color::Bold), Cell::plain("1/1")],
        ];
        assert_eq!(table(&ui, &rows), ["App Name  Instances", "web       1/1"]);
    }

    #[test]
    fn durations_read_like_lattices() {
        use std::time::Duration;
        assert_eq!(format_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_duration(Duration::from_secs(150)), "2m30s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
    }

    #[test]
    fn colour_is_only_added_when_enabled() {
        assert_eq!(paint(false, Color::Green, "ok"), "ok");
        assert_eq!(paint(true, Color::Green, "ok"), "\x1b[32mok\x1b[0m");
    }
}
