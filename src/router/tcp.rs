//! TCP routes: one listener per external port on the router's address, opened and closed as
//! the route table changes. Each connection goes to the next instance in round-robin order
//! (a refused connect tries the next one); with no routable instance it is closed at once
//! rather than held.

use super::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How often a TCP route whose port another program holds is tried again.
const TCP_BIND_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps one listener per TCP route port until `cancel` fires.
pub async fn serve(router: Arc<Router>, cancel: CancellationToken) {
    // Connections in flight when the router stops (a node restart) are given the shutdown
    // grace to finish before the process goes.
    let connections = tokio_util::task::TaskTracker::new();
    serve_ports(&router, &cancel, &connections).await;
    connections.close();
    let _ = tokio::time::timeout(router.config.shutdown_grace, connections.wait()).await;
}

async fn serve_ports(
    router: &Arc<Router>,
    cancel: &CancellationToken,
    connections: &tokio_util::task::TaskTracker,
) {
    let mut changes = router.subscribe();
    let mut listeners: HashMap<u16, CancellationToken> = HashMap::new();
    let mut failing: std::collections::HashSet<u16> = std::collections::HashSet::new();
    loop {
        let wanted = router.table().tcp_ports();
        listeners.retain(|port, token| {
            let keep = wanted.contains(port);
            if !keep {
                token.cancel();
                router.drop_socket(*port);
                router.tcp_listening.send_modify(|open| {
                    open.remove(port);
                });
            }
            keep
        });
        for &port in &wanted {
            if listeners.contains_key(&port) {
                continue;
            }
            let addr = SocketAddr::new(router.listen_ip, port);
            match open(router, addr, port).await {
                Ok(listener) => {
                    let token = cancel.child_token();
                    listeners.insert(port, token.clone());
                    router.tcp_listening.send_modify(|open| {
                        open.insert(port);
                    });
                    failing.remove(&port);
                    tokio::spawn(accept_loop(
                        router.clone(),
                        listener,
                        port,
                        token,
                        connections.clone(),
                    ));
                }
                Err(e) => {
                    if failing.insert(port) {
                        crate::logging::log(format!("router: cannot open TCP route {addr}: {e}"));
                    }
                }
            }
        }
        // Ports that failed are logged once, until they open or their route goes.
        failing.retain(|port| wanted.contains(port));
        // A port another program held is tried again until it is free.
        let retry = async {
            if failing.is_empty() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(TCP_BIND_RETRY).await;
        };
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = retry => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// The listener of a TCP route: the one the previous node handed over, else a new one. A
/// copy is kept for the next handover.
async fn open(router: &Router, addr: SocketAddr, port: u16) -> std::io::Result<TcpListener> {
    let listener = match router.take_inherited(port) {
        Some(listener) => listener,
        None => TcpListener::bind(addr).await?.into_std()?,
    };
    listener.set_nonblocking(true)?;
    router.keep_socket(port, &listener);
    TcpListener::from_std(listener)
}

async fn accept_loop(
    router: Arc<Router>,
    listener: TcpListener,
    port: u16,
    cancel: CancellationToken,
    connections: tokio_util::task::TaskTracker,
) {
    loop {
        let client = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
            _ = cancel.cancelled() => return,
        };
        let router = router.clone();
        connections.spawn(async move {
            let candidates = match router.table().tcp_pool(port) {
                Some(pool) => pool.candidates(router.config.max_attempts),
                None => Vec::new(),
            };
            for backend in candidates {
                let connect = tokio::time::timeout(
                    router.config.dial_timeout,
                    TcpStream::connect(backend.addr),
                );
                match connect.await {
                    Ok(Ok(mut upstream)) => {
                        let _ = upstream.set_nodelay(true);
                        let _guard = backend.track();
                        let mut client = client;
                        let _ = super::splice::both_ways(&mut client, &mut upstream).await;
                        return;
                    }
                    _ => backend.mark_failed(),
                }
            }
            // No instance: dropping the connection closes it at once.
            drop(client);
        });
    }
}
