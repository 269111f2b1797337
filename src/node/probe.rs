//! The port check that decides when a starting instance is RUNNING.
//!
//! Docker's userland proxy accepts every connection to a published port, even when nothing
//! listens in the container, and then closes it within a few milliseconds (DESIGN.md). So a
//! successful connect proves nothing: the check connects and then watches the connection for
//! [`PORT_HOLD`]. Still open, or the app spoke first: something listens. EOF or reset: nothing.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// How long the connection must stay open to count as a listener behind Docker's proxy.
/// Docker's proxy closes within 2 ms when nothing listens (measured here: 0.15 ms median), so
/// 50 ms is a wide margin; it is also the time `ltc create` waits beyond the app listening.
pub const PORT_HOLD: Duration = Duration::from_millis(50);

/// First delay between checks of a starting instance; it doubles up to [`STARTUP_MAX_DELAY`].
/// Starting fast matters: most apps listen within tens of milliseconds, and `ltc create` waits
/// for this check.
pub const STARTUP_FIRST_DELAY: Duration = Duration::from_millis(20);

/// Lattice checked a starting instance every 0.5 s.
pub const STARTUP_MAX_DELAY: Duration = Duration::from_millis(500);

/// Whether `GET path` on `addr` answers 200 within `timeout` (Lattice's URL monitor).
pub async fn url_answers_200(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<(), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ltc-monitor\r\nConnection: close\r\n\r\n"
        );
        tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n") && head.len() < 256 {
            match stream.read(&mut byte).await {
                Ok(0) => return Err("closed before answering".to_string()),
                Ok(_) => head.push(byte[0]),
                Err(e) => return Err(e.to_string()),
            }
        }
        let line = String::from_utf8_lossy(&head);
        match line.split_whitespace().nth(1) {
            Some("200") => Ok(()),
            Some(status) => Err(format!("{path} answered {status}")),
            None => Err("not an HTTP answer".to_string()),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
}

/// The delay before check number `attempt` (0-based) of a starting instance.
pub fn startup_delay(attempt: u32) -> Duration {
    STARTUP_FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(STARTUP_MAX_DELAY)
}

/// Whether something listens behind `addr`; the connect may take `timeout`.
pub async fn port_listens(addr: SocketAddr, timeout: Duration) -> bool {
    let Ok(Ok(mut stream)) = tokio::time::timeout(timeout, TcpStream::connect(addr)).await else {
        return false;
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(PORT_HOLD, stream.read(&mut byte)).await {
        Err(_elapsed) => true,
        Ok(Ok(0)) => false,
        Ok(Ok(_)) => true,
        Ok(Err(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn startup_checks_start_fast_and_settle_at_half_a_second() {
        assert_eq!(startup_delay(0), Duration::from_millis(20));
        assert_eq!(startup_delay(1), Duration::from_millis(40));
        assert_eq!(startup_delay(4), Duration::from_millis(320));
        assert_eq!(startup_delay(5), Duration::from_millis(500));
        assert_eq!(startup_delay(100), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_listener_that_holds_the_connection_passes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let holder = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            drop(stream);
        });
        assert!(port_listens(addr, Duration::from_secs(1)).await);
        holder.abort();
    }

    #[tokio::test]
    async fn a_listener_that_closes_at_once_fails_like_dockers_proxy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let closer = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                drop(stream);
            }
        });
        assert!(!port_listens(addr, Duration::from_secs(1)).await);
        closer.abort();
    }

    #[tokio::test]
    async fn nothing_listening_fails() {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        assert!(!port_listens(addr, Duration::from_secs(1)).await);
    }
}
