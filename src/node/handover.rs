//! Node restarts that refuse nothing: the running node hands its router's listening sockets
//! to the node that replaces it.
//!
//! The sockets themselves are passed (`SCM_RIGHTS` over `$LTC_HOME/handover.sock`), not
//! re-bound with `SO_REUSEPORT`: with two sockets in a reuseport group, the connections
//! queued on the one that closes are reset, and the kernel's migration of them
//! (`tcp_migrate_req`) is off by default. A passed socket is the same socket: its queue is
//! accepted by whichever process accepts next, so no connection is refused.
//!
//! The order: the new node finds the home locked and connects here; the old node sends its
//! route table (as published) with the sockets; the new node serves that table on them and
//! answers `ready`; only then does the old node stop accepting, finish its requests in flight
//! and exit, releasing the lock; the new node takes the lock, restores its state, and keeps
//! serving the inherited table until its own view of the instances is complete.

use super::Node;
use crate::config::Paths;
use crate::error::{Error, Result};
use crate::logging::log;
use crate::router::table::AppRoutes;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

/// Most sockets passed at once: the HTTP listener and the TCP routes'.
const MAX_SOCKETS: usize = 256;

/// How long the old node waits for the new one to say it serves.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What comes with the sockets.
#[derive(Debug, Serialize, Deserialize)]
struct Offer {
    /// The port each passed socket serves, in the order passed (0: HTTP).
    ports: Vec<u16>,
    /// Whether one more socket follows the ports': the HTTPS listener.
    #[serde(default)]
    https: bool,
    domain: String,
    routes: Vec<AppRoutes>,
}

/// What the new node inherits: the sockets by port (0: HTTP), the table to serve on them, and
/// the connection to say `ready` on.
pub struct Inherited {
    pub sockets: HashMap<u16, std::net::TcpListener>,
    /// The HTTPS listener, when the running node served HTTPS.
    pub https: Option<std::net::TcpListener>,
    pub domain: String,
    pub routes: Vec<AppRoutes>,
    channel: UnixStream,
}

impl Inherited {
    /// Tells the old node that this one serves: it stops accepting and exits.
    pub fn ready(mut self) -> Result<()> {
        self.channel
            .write_all(b"ready\n")
            .map_err(|e| Error::failed(format!("handover: cannot answer the old node: {e}")))
    }
}

/// Takes over the router of the node that runs for this home, when it offers one.
pub fn take_over(paths: &Paths) -> Result<Option<Inherited>> {
    let Ok(channel) = UnixStream::connect(paths.handover_socket()) else {
        return Ok(None);
    };
    let failed = |e: &dyn std::fmt::Display| {
        Error::failed(format!(
            "handover: the running node's offer was unreadable: {e}"
        ))
    };
    channel
        .set_read_timeout(Some(READY_TIMEOUT))
        .map_err(|e| failed(&e))?;
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_SOCKETS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut first = vec![0u8; 64 * 1024];
    let received = rustix::net::recvmsg(
        &channel,
        &mut [IoSliceMut::new(&mut first)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .map_err(|e| failed(&e))?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(passed) = message {
            fds.extend(passed);
        }
    }
    // The rest of the offer, up to its end of line.
    let mut text = first[..received.bytes].to_vec();
    if !text.ends_with(b"\n") {
        let mut reader = std::io::BufReader::new(&channel);
        reader
            .read_until(b'\n', &mut text)
            .map_err(|e| failed(&e))?;
    }
    let offer: Offer = serde_json::from_slice(&text).map_err(|e| failed(&e))?;
    let mut fds = fds;
    let https = match offer.https {
        true if fds.len() == offer.ports.len() + 1 => fds.pop().map(std::net::TcpListener::from),
        _ => None,
    };
    if offer.ports.len() != fds.len() {
        return Err(failed(&format!(
            "{} sockets for {} ports",
            fds.len(),
            offer.ports.len()
        )));
    }
    let sockets = offer
        .ports
        .iter()
        .zip(fds)
        .map(|(port, fd)| (*port, std::net::TcpListener::from(fd)))
        .collect();
    Ok(Some(Inherited {
        sockets,
        https,
        domain: offer.domain,
        routes: offer.routes,
        channel,
    }))
}

impl Node {
    /// Offers this node's router to a node that replaces it, until this node stops.
    pub(super) async fn offer_handover(self: Arc<Self>, listener: tokio::net::UnixListener) {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                _ = self.cancel.cancelled() => return,
            };
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            let node = self.clone();
            let handed = tokio::task::spawn_blocking(move || node.hand_over(stream)).await;
            match handed {
                Ok(Ok(())) => {
                    log("handed the router to the next node; finishing requests in flight");
                    self.shutdown();
                    return;
                }
                Ok(Err(e)) => log(format!("handover: {e}; this node keeps serving")),
                Err(e) => log(format!("handover: {e}; this node keeps serving")),
            }
        }
    }

    /// Sends the router's sockets and table, and waits for the new node's `ready`.
    fn hand_over(&self, stream: UnixStream) -> std::io::Result<()> {
        stream.set_nonblocking(false)?;
        let sockets = self.router.sockets();
        // What the router serves (which may be a table handed to this node that it has not
        // replaced yet), not this node's own view.
        let (domain, routes) = self.router.published();
        let https = self.router.https_socket();
        let offer = Offer {
            ports: sockets.iter().map(|(port, _)| *port).collect(),
            https: https.is_some(),
            domain,
            routes,
        };
        let mut text = serde_json::to_vec(&offer)?;
        text.push(b'\n');
        let fds: Vec<_> = sockets
            .iter()
            .map(|(_, socket)| socket.as_fd())
            .chain(https.as_ref().map(|socket| socket.as_fd()))
            .collect();
        let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(std::io::Error::other("too many sockets to pass"));
        }
        let sent = rustix::net::sendmsg(
            &stream,
            &[IoSlice::new(&text)],
            &mut control,
            SendFlags::empty(),
        )?;
        (&stream).write_all(&text[sent..])?;
        stream.set_read_timeout(Some(READY_TIMEOUT))?;
        let mut answer = String::new();
        std::io::BufReader::new(&stream).read_line(&mut answer)?;
        match answer.trim() {
            "ready" => Ok(()),
            other => Err(std::io::Error::other(format!(
                "the next node did not take over ({other:?})"
            ))),
        }
    }
}
