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

/// Lattice's `--monitor-timeout` default: the connect must finish within a second.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// First delay between checks of a starting instance; it doubles up to [`STARTUP_MAX_DELAY`].
/// Starting fast matters: most apps listen within tens of milliseconds, and `ltc create` waits
/// for this check.
pub const STARTUP_FIRST_DELAY: Duration = Duration::from_millis(20);

/// Lattice checked a starting instance every 0.5 s.
pub const STARTUP_MAX_DELAY: Duration = Duration::from_millis(500);

/// The delay before check number `attempt` (0-based) of a starting instance.
pub fn startup_delay(attempt: u32) -> Duration {
    STARTUP_FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(STARTUP_MAX_DELAY)
}

/// Whether something listens behind `addr`.
pub async fn port_listens(addr: SocketAddr) -> bool {
    let Ok(Ok(mut stream)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
    else {
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
        assert!(port_listens(addr).await);
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
        assert!(!port_listens(addr).await);
        closer.abort();
    }

    #[tokio::test]
    async fn nothing_listening_fails() {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        assert!(!port_listens(addr).await);
    }
}
