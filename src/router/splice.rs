//! Copying a TCP route's bytes. A small message goes through memory: a read that returns less
//! than the buffer holds has emptied the socket (TCP hands over what is queued), so a message
//! costs one `recv` and one `send`, and the socket's readiness is cleared without a third call.
//! A read that fills the buffer means more is queued, a bulk transfer: the rest moves with
//! `splice(2)`, from the socket into a pipe and from the pipe into the other socket, so those
//! bytes never enter the router's memory, until the socket is empty again. Where a pipe cannot
//! be made (out of descriptors), bulk goes through memory too.

use rustix::pipe::{PipeFlags, SpliceFlags};
use std::io;
use std::os::fd::OwnedFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};

/// Bytes held in a pipe at once: large enough that a bulk transfer moves a lot per call.
const PIPE_SIZE: usize = 1 << 20;

/// A read of this much or less is copied through memory.
const COPY_SIZE: usize = 16 * 1024;

/// Copies both ways until both sides have finished sending, or either fails. Each side's
/// end of stream is passed on as a half-close, as `tokio::io::copy_bidirectional` does.
pub async fn both_ways(client: &mut TcpStream, upstream: &mut TcpStream) -> io::Result<()> {
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    tokio::try_join!(
        one_way(client_read, upstream_write),
        one_way(upstream_read, client_write)
    )?;
    Ok(())
}

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    size: usize,
}

impl Pipe {
    fn new() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
        // The default (64 KiB) stays when a larger pipe is not allowed.
        let size = rustix::pipe::fcntl_setpipe_size(&write, PIPE_SIZE).unwrap_or(64 * 1024);
        Ok(Pipe { read, write, size })
    }
}

const FLAGS: SpliceFlags = SpliceFlags::MOVE.union(SpliceFlags::NONBLOCK);

async fn one_way(mut from: ReadHalf<'_>, mut to: WriteHalf<'_>) -> io::Result<()> {
    let mut buffer = vec![0u8; COPY_SIZE];
    // Made at the first bulk transfer: a connection of small messages never holds one.
    let mut pipe: Option<Pipe> = None;
    loop {
        let n = from.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        to.write_all(&buffer[..n]).await?;
        if n < buffer.len() {
            continue;
        }
        if pipe.is_none() {
            pipe = Pipe::new().ok();
        }
        if let Some(pipe) = &pipe
            && !spliced(from.as_ref(), to.as_ref(), pipe).await?
        {
            break;
        }
    }
    // Everything sent: pass the end of stream on.
    let _ = rustix::net::shutdown(to.as_ref(), rustix::net::Shutdown::Write);
    Ok(())
}

/// Moves bytes through the pipe until the socket is empty and the pipe drained (true: back to
/// copying through memory), or the stream ended and everything was passed on (false).
async fn spliced(from: &TcpStream, to: &TcpStream, pipe: &Pipe) -> io::Result<bool> {
    let mut held = 0usize;
    let mut ended = false;
    loop {
        if !ended && held < pipe.size {
            let splice = || {
                rustix::pipe::splice(from, None, &pipe.write, None, pipe.size - held, FLAGS)
                    .map_err(io::Error::from)
            };
            // With bytes in the pipe, "would block" may mean the pipe is full (a slot per
            // packet, not per byte), not that the socket is empty: the socket's readiness
            // is then left as it is, or its next edge could be waited for in vain.
            let spliced = match held {
                0 => from.try_io(Interest::READABLE, splice),
                _ => splice(),
            };
            match spliced {
                Ok(0) => ended = true,
                Ok(n) => held += n,
                // An empty pipe and an empty socket: the readiness is cleared, and the next
                // bytes are read as a message.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && held == 0 => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if held > 0 {
            let spliced = to.try_io(Interest::WRITABLE, || {
                rustix::pipe::splice(&pipe.read, None, to, None, held, FLAGS)
                    .map_err(io::Error::from)
            });
            match spliced {
                Ok(n) => held -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => to.writable().await?,
                Err(e) => return Err(e),
            }
        } else if ended {
            return Ok(false);
        }
    }
}
