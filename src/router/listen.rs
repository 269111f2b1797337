//! Accepting and serving client connections: one thread per core, each with its own event
//! loop, accepting on its own copy of the plain listener and of the HTTPS one; a plain
//! connection's protocol is told by its first bytes, an HTTPS one's by ALPN, and both are then
//! served by hyper with [`super::http::handle`] for every request.

use super::connections::Connections;
use super::http::handle;
use super::sniff;
use super::{Client, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves client connections until `cancel` fires. Each router thread accepts on its own
/// clone of the listening socket and serves what it accepts on its own event loop, so neither
/// a connection nor a request ever changes threads (nginx's worker model).
pub async fn serve(router: Arc<Router>, listener: TcpListener, cancel: CancellationToken) {
    serve_with_tls(router, listener, None, cancel).await
}

/// As [`serve`], and HTTPS on a second listener when `tls` is given.
pub async fn serve_with_tls(
    router: Arc<Router>,
    listener: TcpListener,
    tls: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
    cancel: CancellationToken,
) {
    let tls = match tls.map(|(l, config)| (l.into_std(), config)) {
        Some((Ok(listener), config)) => {
            let _ = socket2::SockRef::from(&listener).set_tcp_nodelay(true);
            Some((listener, tokio_rustls::TlsAcceptor::from(config)))
        }
        Some((Err(e), _)) => {
            crate::logging::log(format!("router: cannot share the HTTPS socket: {e}"));
            None
        }
        None => None,
    };
    let listener = match listener.into_std() {
        Ok(listener) => listener,
        Err(e) => {
            crate::logging::log(format!("router: cannot share the listening socket: {e}"));
            return;
        }
    };
    // Set once here rather than on every accepted connection: on Linux accepted sockets
    // inherit it. Small responses and heads must not wait for Nagle's algorithm.
    if let Err(e) = socket2::SockRef::from(&listener).set_tcp_nodelay(true) {
        crate::logging::log(format!("router: cannot set TCP_NODELAY: {e}"));
    }
    let mut threads = Vec::new();
    for n in 0..router.config.workers.max(1) {
        let Ok(listener) = listener.try_clone() else {
            break;
        };
        let tls = tls
            .as_ref()
            .and_then(|(l, acceptor)| Some((l.try_clone().ok()?, acceptor.clone())));
        let (router, cancel) = (router.clone(), cancel.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("ltc-router-{n}"))
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(worker(router, listener, tls, cancel)),
                    Err(e) => crate::logging::log(format!("router: cannot start thread {n}: {e}")),
                }
            });
        if let Ok(thread) = spawned {
            threads.push(thread);
        }
    }
    cancel.cancelled().await;
    // Endless responses (the dashboard's streams) end now, so the last requests are not held
    // up by them; their browsers reconnect to the next node.
    router.closing.cancel();
    crate::logging::log("router: stopping; open streams end");
    // Each thread stops accepting at once and ends when its requests in flight are answered
    // (bounded by the drain timeout).
    let _ = tokio::task::spawn_blocking(move || {
        for thread in threads {
            let _ = thread.join();
        }
    })
    .await;
}

/// How long a connection accepted before the router stops may take to send its request.
const LAST_REQUEST_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// hyper's HTTP/1 and HTTP/2 server settings, shared by a router thread's connections.
type Builders = (
    hyper::server::conn::http1::Builder,
    hyper::server::conn::http2::Builder<TokioExecutor>,
);

/// What a router thread serves connections with: hyper's settings and its instance pool.
struct Serving {
    router: Arc<Router>,
    builders: Builders,
    connections: Arc<Connections>,
}

/// Serves one plain client connection: tells HTTP/1 from h2c by its first bytes, then hands
/// it to hyper.
async fn serve_connection(
    serving: Arc<Serving>,
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    cancel: CancellationToken,
) {
    // A client that sends nothing is dropped after the header timeout, like one that sends
    // its head too slowly.
    let header_timeout = serving.router.config.client_header_timeout;
    let Ok(Ok((protocol, received))) =
        tokio::time::timeout(header_timeout, sniff::sniff(&mut stream)).await
    else {
        return;
    };
    if received.first() == Some(&TLS_HANDSHAKE) {
        return refuse_tls_on_plain(stream).await;
    }
    let io = match protocol {
        sniff::Protocol::Http1 => sniff::Prefixed::http1(received, stream),
        sniff::Protocol::Http2 => sniff::Prefixed::new(received, stream),
    };
    let client = Client {
        peer,
        secure: false,
    };
    serve_io(serving, io, protocol, client, cancel).await
}

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves one HTTPS connection: the TLS handshake (within the header timeout), then HTTP/2 or
/// HTTP/1.1 as ALPN chose. Plain HTTP sent to this port is answered with a plain 400 saying
/// so, as nginx does.
async fn serve_tls_connection(
    serving: Arc<Serving>,
    acceptor: tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    cancel: CancellationToken,
) {
    let header_timeout = serving.router.config.client_header_timeout;
    let mut first = [0u8; 1];
    match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => {}
        Ok(Ok(1)) => return refuse_plain_on_tls(stream).await,
        _ => return,
    }
    let Ok(Ok(tls)) = tokio::time::timeout(header_timeout, acceptor.accept(stream)).await else {
        return;
    };
    let protocol = match tls.get_ref().1.alpn_protocol() {
        Some(b"h2") => sniff::Protocol::Http2,
        _ => sniff::Protocol::Http1,
    };
    let client = Client { peer, secure: true };
    serve_io(serving, TokioIo::new(tls), protocol, client, cancel).await
}

/// Answers a TLS handshake sent to the plain port with a TLS alert (`protocol_version`), so
/// the client says the handshake failed instead of waiting, and closes.
async fn refuse_tls_on_plain(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    // An alert record: fatal (2), protocol_version (70).
    const ALERT: [u8; 7] = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70];
    let _ = stream.write_all(&ALERT).await;
    let _ = stream.shutdown().await;
}

/// Answers plain HTTP sent to the HTTPS port, and closes.
async fn refuse_plain_on_tls(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The head is read first (it may come in several pieces), and what follows is drained
    // after the answer: closing with unread bytes would reset the connection before the
    // client reads the answer.
    let deadline = tokio::time::Instant::now() + PLAIN_ON_TLS_READ;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let body = "400 Bad Request: this port speaks HTTPS; use an https:// URL\n";
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + PLAIN_ON_TLS_READ;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

/// How long plain HTTP on the HTTPS port may take to send its head, and then to go away.
const PLAIN_ON_TLS_READ: std::time::Duration = std::time::Duration::from_millis(500);

/// Hands a connection to hyper. On shutdown a connection finishes the request it is serving,
/// then closes; an idle one closes at once.
async fn serve_io<I>(
    serving: Arc<Serving>,
    io: I,
    protocol: sniff::Protocol,
    client: Client,
    cancel: CancellationToken,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let builders = serving.clone();
    let service = hyper::service::service_fn(move |request| {
        let serving = serving.clone();
        async move {
            let response = handle(&serving.router, &serving.connections, client, request).await;
            Ok::<_, Infallible>(response)
        }
    });
    let (http1, http2) = &builders.builders;
    // Accepted just before the router stopped, a connection's request may not be read yet
    // (closing it now would answer nothing): it gets a moment to, then closes once what it
    // is serving is answered.
    macro_rules! finish_on_cancel {
        ($connection:expr) => {{
            let connection = $connection;
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = cancel.cancelled() => {
                    if tokio::time::timeout(LAST_REQUEST_GRACE, connection.as_mut())
                        .await
                        .is_err()
                    {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
            }
        }};
    }
    match protocol {
        sniff::Protocol::Http1 => {
            finish_on_cancel!(http1.serve_connection(io, service).with_upgrades())
        }
        sniff::Protocol::Http2 => finish_on_cancel!(http2.serve_connection(io, service)),
    }
}

/// One router thread: accepts and serves connections with its own backend pool.
async fn worker(
    router: Arc<Router>,
    listener: std::net::TcpListener,
    tls: Option<(std::net::TcpListener, tokio_rustls::TlsAcceptor)>,
    cancel: CancellationToken,
) {
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| TcpListener::from_std(listener))
    {
        Ok(listener) => listener,
        Err(e) => {
            crate::logging::log(format!("router: cannot listen: {e}"));
            return;
        }
    };
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // A client may send its request and then shut its write side (socat, `nc -N`): without
    // half_close hyper takes the EOF for the end of the connection and answers nothing.
    http1
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(router.config.client_header_timeout)
        .max_buf_size(router.config.max_head_bytes)
        .max_headers(router.config.max_headers);
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .max_header_list_size(router.config.max_head_bytes as u32);
    let connections = Connections::new(
        router.config.dial_timeout,
        router.config.backend_idle_timeout,
    );
    let serving = Arc::new(Serving {
        router: router.clone(),
        builders: (http1, http2),
        connections,
    });
    let tls = match tls {
        Some((listener, acceptor)) => match listener
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(listener))
        {
            Ok(listener) => Some((listener, acceptor)),
            Err(e) => {
                crate::logging::log(format!("router: cannot listen for HTTPS: {e}"));
                None
            }
        },
        None => None,
    };
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer, secure) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer, false),
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            accepted = accept_tls(&tls) => match accepted {
                Ok((stream, peer)) => (stream, peer, true),
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => break,
        };
        // Linux hands the listener's TCP_NODELAY down to accepted sockets (see `serve`).
        #[cfg(not(target_os = "linux"))]
        let _ = stream.set_nodelay(true);
        let (serving, cancel) = (serving.clone(), cancel.clone());
        match (&tls, secure) {
            (Some((_, acceptor)), true) => {
                tracker.spawn(serve_tls_connection(
                    serving,
                    acceptor.clone(),
                    stream,
                    peer,
                    cancel,
                ));
            }
            _ => {
                tracker.spawn(serve_connection(serving, stream, peer, cancel));
            }
        }
    }
    drop(listener);
    drop(tls);
    tracker.close();
    let _ = tokio::time::timeout(router.config.shutdown_grace, tracker.wait()).await;
}

/// The next connection on the HTTPS listener; never, without one.
async fn accept_tls(
    tls: &Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match tls {
        Some((listener, _)) => listener.accept().await,
        None => std::future::pending().await,
    }
}
