//! Copying a TCP route's bytes with `splice(2)`: from one socket into a pipe and from the pipe
//! into the other, so the bytes never enter the router's memory. A bulk transfer costs a
//! fraction of what a read and a write per 8 KiB chunk cost; a small message costs the same
//! two calls. Where a pipe cannot be made (out of descriptors), the copy goes through memory.

use rustix::pipe::{PipeFlags, SpliceFlags};
use std::io;
use std::os::fd::OwnedFd;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Bytes held in a pipe at once: large enough that a bulk transfer moves a lot per call.
const PIPE_SIZE: usize = 1 << 20;

/// Copies both ways until both sides have finished sending, or either fails. Each side's
/// end of stream is passed on as a half-close, as `tokio::io::copy_bidirectional` does.
pub async fn both_ways(client: &mut TcpStream, upstream: &mut TcpStream) -> io::Result<()> {
    let (Ok(up), Ok(down)) = (Pipe::new(), Pipe::new()) else {
        tokio::io::copy_bidirectional(client, upstream).await?;
        return Ok(());
    };
    let (client, upstream) = (&*client, &*upstream);
    tokio::try_join!(
        one_way(client, upstream, up),
        one_way(upstream, client, down)
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

async fn one_way(from: &TcpStream, to: &TcpStream, pipe: Pipe) -> io::Result<()> {
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if held == 0 {
                        from.readable().await?;
                        continue;
                    }
                }
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
            // Everything sent: pass the end of stream on.
            let _ = rustix::net::shutdown(to, rustix::net::Shutdown::Write);
            return Ok(());
        }
    }
}
