//! Telling HTTP/2 with prior knowledge (h2c) from HTTP/1.1 by a connection's first bytes.
//!
//! hyper-util's `auto` builder does the same, but reads those bytes 24 at a time, so every
//! HTTP/1 connection costs a second `recv` before hyper sees its request, and waits for them
//! without a deadline. Here the first read takes whatever the client sent (a whole ordinary
//! request head), the caller bounds it by the header timeout, and [`Prefixed`] hands the bytes
//! to hyper in front of the socket.

use bytes::{Buf, Bytes, BytesMut};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The client connection preface of HTTP/2 (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How much the first read takes: more than most request heads.
const FIRST_READ: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// Reads until the bytes received tell the protocol; returns it with those bytes. A client
/// that closes first is an `UnexpectedEof` error.
pub async fn sniff(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<(Protocol, Bytes)> {
    let mut received = BytesMut::with_capacity(FIRST_READ);
    loop {
        if stream.read_buf(&mut received).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let common = received.len().min(H2_PREFACE.len());
        if received[..common] != H2_PREFACE[..common] {
            return Ok((Protocol::Http1, received.freeze()));
        }
        if received.len() >= H2_PREFACE.len() {
            return Ok((Protocol::Http2, received.freeze()));
        }
    }
}

/// An I/O object whose first reads return bytes already taken from it. For HTTP/1 it also
/// makes request targets as lenient as nginx's where that is safe: the `http` crate (and so
/// hyper) refuses `"`, `<`, `>`, `` ` ``, `{` and `}` in a target with a 400, while nginx and
/// most apps take them; they are percent-encoded in the request line before hyper parses it,
/// which means the same to an app that decodes its target. Spaces and control bytes stay
/// refused.
pub struct Prefixed<T> {
    prefix: Bytes,
    io: TokioIo<T>,
    /// HTTP/1: the next read starts a request (the connection is new, or a response was
    /// written since the last read).
    at_request: bool,
    lenient: bool,
    scratch: BytesMut,
}

impl<T> Prefixed<T> {
    pub fn new(prefix: Bytes, io: T) -> Self {
        Prefixed {
            prefix,
            io: TokioIo::new(io),
            at_request: false,
            lenient: false,
            scratch: BytesMut::new(),
        }
    }

    /// An HTTP/1 connection: request targets are made lenient (see [`Prefixed`]).
    pub fn http1(prefix: Bytes, io: T) -> Self {
        Prefixed {
            prefix: lenient_request_line(&prefix).map_or(prefix, Bytes::from),
            io: TokioIo::new(io),
            at_request: false,
            lenient: true,
            scratch: BytesMut::new(),
        }
    }
}

/// Bytes a request target may not hold for the `http` crate that nginx accepts.
const LENIENT: &[u8] = b"\"<>`{}";

/// The head with its request line's target percent-encoded where it holds [`LENIENT`] bytes,
/// or `None` when nothing is to change (or the first line is no whole request line).
pub fn lenient_request_line(head: &[u8]) -> Option<Vec<u8>> {
    let end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = &head[..end];
    let first = line.iter().position(|b| *b == b' ')?;
    let last = line.iter().rposition(|b| *b == b' ')?;
    let method = &line[..first];
    let target = line.get(first + 1..last)?;
    let request_line = first < last
        && !method.is_empty()
        && method.iter().all(u8::is_ascii_uppercase)
        && line[last + 1..].starts_with(b"HTTP/1.");
    if !request_line
        || !target.iter().any(|b| LENIENT.contains(b))
        || target.iter().any(|b| *b <= b' ' || *b == 0x7f)
    {
        return None;
    }
    let mut out = Vec::with_capacity(head.len() + 2 * target.len());
    out.extend_from_slice(&line[..=first]);
    for byte in target {
        if LENIENT.contains(byte) {
            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
        } else {
            out.push(*byte);
        }
    }
    out.extend_from_slice(&line[last..]);
    out.extend_from_slice(&head[end..]);
    Some(out)
}

impl<T: AsyncRead + tokio::io::AsyncWrite + Unpin> Read for Prefixed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        if self.prefix.is_empty() && self.lenient && self.at_request {
            // The first read of a request goes through a buffer of ours (kept, so nothing is
            // allocated or zeroed per request), so its request line can be made lenient
            // before hyper sees it.
            let this = &mut *self;
            if this.scratch.capacity() < FIRST_READ {
                this.scratch.reserve(FIRST_READ);
            }
            match tokio_util::io::poll_read_buf(
                Pin::new(this.io.inner_mut()),
                cx,
                &mut this.scratch,
            ) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            this.at_request = false;
            let filled = this.scratch.split();
            this.prefix = match lenient_request_line(&filled) {
                Some(rewritten) => Bytes::from(rewritten),
                None => filled.freeze(),
            };
            if this.prefix.is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
        if self.prefix.is_empty() {
            return Pin::new(&mut self.io).poll_read(cx, buf);
        }
        let n = self.prefix.len().min(buf.remaining());
        buf.put_slice(&self.prefix[..n]);
        self.prefix.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + tokio::io::AsyncWrite + Unpin> Write for Prefixed<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        // HTTP/1 without pipelining: what the client sends after a response is a request.
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.at_request = true;
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.at_request = true;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_with_what_nginx_accepts_is_percent_encoded_and_nothing_else_changes() {
        let head = b"GET /q?filter={\"a\":1}&x=<b>`c` HTTP/1.1\r\nHost: w\r\n\r\nbody";
        let out = lenient_request_line(head).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /q?filter=%7B%22a%22:1%7D&x=%3Cb%3E%60c%60 HTTP/1.1\r\nHost: w\r\n\r\nbody"
        );
        // Already acceptable, not a request line, spaces, control bytes, no whole line: as is.
        for head in [
            &b"GET /plain?a=1 HTTP/1.1\r\n\r\n"[..],
            b"{\"json\": \"body\"}\r\n",
            b"GET /a b{ HTTP/1.1\r\n\r\n",
            b"GET /a\x01{ HTTP/1.1\r\n\r\n",
            b"GET /a{ HTTP/1.1",
            b"GET {  HTTP/1.1\r\n",
        ] {
            assert_eq!(
                lenient_request_line(head),
                None,
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }
    use tokio::io::AsyncWriteExt;

    async fn sniffed(chunks: &[&[u8]]) -> io::Result<(Protocol, Bytes)> {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        for chunk in chunks {
            client.write_all(chunk).await.unwrap();
            tokio::task::yield_now().await;
        }
        drop(client);
        sniff(&mut server).await
    }

    #[tokio::test]
    async fn an_http1_request_is_told_from_its_first_byte_and_kept_whole() {
        let request = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n";
        let (protocol, bytes) = sniffed(&[request]).await.unwrap();
        assert_eq!(protocol, Protocol::Http1);
        assert_eq!(&bytes[..], request);
    }

    #[tokio::test]
    async fn the_h2_preface_is_recognised_even_when_it_arrives_in_pieces() {
        let (protocol, bytes) = sniffed(&[&H2_PREFACE[..3], &H2_PREFACE[3..20], &H2_PREFACE[20..]])
            .await
            .unwrap();
        assert_eq!(protocol, Protocol::Http2);
        assert_eq!(&bytes[..], H2_PREFACE);
        // A start that looks like the preface and then is not is HTTP/1.
        let (protocol, _) = sniffed(&[b"PRI", b" /x HTTP/1.1\r\n"]).await.unwrap();
        assert_eq!(protocol, Protocol::Http1);
    }

    #[tokio::test]
    async fn a_client_that_closes_before_sending_anything_is_an_error() {
        let error = sniffed(&[]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        // Closing halfway through the preface too.
        let error = sniffed(&[&H2_PREFACE[..10]]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn the_prefix_is_read_first_then_the_stream() {
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(b" world").await.unwrap();
        drop(client);
        let mut io = TokioIo::new(Prefixed::new(Bytes::from_static(b"hello"), server));
        let mut all = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut io, &mut all)
            .await
            .unwrap();
        assert_eq!(all, b"hello world");
    }
}
