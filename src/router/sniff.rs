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

/// An I/O object whose first reads return bytes already taken from it.
pub struct Prefixed<T> {
    prefix: Bytes,
    io: TokioIo<T>,
}

impl<T> Prefixed<T> {
    pub fn new(prefix: Bytes, io: T) -> Self {
        Prefixed {
            prefix,
            io: TokioIo::new(io),
        }
    }
}

impl<T: AsyncRead + tokio::io::AsyncWrite + Unpin> Read for Prefixed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
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
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
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
