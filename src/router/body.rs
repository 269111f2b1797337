//! Request bodies on a clock. A client that sends its body slowly pins a connection of the
//! router every app shares (slowloris on the body), so a body must keep moving: at most
//! [`super::BODY_IDLE_TIMEOUT`] between two chunks and, all told, at most a total that depends
//! on whether the body is kept for a retry. A body that stalls ends in an error, never in an
//! early end of stream: the instance sees a broken request, never a short complete one, and the
//! client gets 408.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The error of a body the router passes on: the client's, or the router's own timeout.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The client stopped sending its body in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

/// A body that fails with [`BodyTimeout`] when it stalls for `idle` or lasts past `total`.
pub struct TimedBody<B> {
    inner: B,
    idle: Duration,
    deadline: Instant,
    timer: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl<B> TimedBody<B> {
    pub fn new(inner: B, idle: Duration, total: Duration) -> TimedBody<B> {
        let now = Instant::now();
        let deadline = now + total;
        TimedBody {
            inner,
            idle,
            deadline,
            timer: Box::pin(tokio::time::sleep_until((now + idle).min(deadline))),
            expired: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Set once the body timed out, so whoever sent it can tell a timeout from a failure.
    pub fn expired(&self) -> Arc<AtomicBool> {
        self.expired.clone()
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BodyError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = (Instant::now() + self.idle).min(self.deadline);
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.expired.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(BodyTimeout.into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    /// A body that yields one chunk every `every`, `count` times.
    fn trickle(
        every: Duration,
        count: usize,
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, BodyError>> + Unpin> {
        let stream = futures_util::stream::unfold(0, move |n| async move {
            if n == count {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), n + 1))
        });
        StreamBody::new(Box::pin(stream))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_moving_within_its_total_passes() {
        let body = TimedBody::new(
            trickle(Duration::from_secs(1), 5),
            Duration::from_secs(2),
            Duration::from_secs(10),
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_longer_than_the_idle_timeout_fails() {
        let body = TimedBody::new(
            trickle(Duration::from_secs(3), 5),
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        let expired = body.expired();
        let error = body.collect().await.unwrap_err();
        assert!(error.is::<BodyTimeout>(), "{error}");
        assert!(expired.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_trickles_past_its_total_fails() {
        let started = Instant::now();
        let body = TimedBody::new(
            trickle(Duration::from_secs(1), 100),
            Duration::from_secs(2),
            Duration::from_secs(10),
        );
        let error = body.collect().await.unwrap_err();
        assert!(error.is::<BodyTimeout>(), "{error}");
        assert_eq!(started.elapsed().as_secs(), 10);
    }
}
