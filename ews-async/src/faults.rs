//! Fault injection for this crate's own tests and for applications that test how they
//! cope with a flaky network (feature `fault-injection`; not for production use).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector whose connections, when `kind` is set, fail their first read after a
/// request was sent (see [`FlakyStream`]).
#[derive(Clone, Debug)]
pub(crate) struct FlakyConnector<C> {
    pub(crate) inner: C,
    pub(crate) kind: Option<io::ErrorKind>,
}

impl<C> tower_service::Service<Uri> for FlakyConnector<C>
where
    C: tower_service::Service<Uri> + Send,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = FlakyStream<C::Response>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let kind = self.kind;
        Box::pin(async move {
            let inner = connecting.await.map_err(Into::into)?;
            Ok(FlakyStream {
                inner,
                kind,
                sent: false,
            })
        })
    }
}

/// A connection that, once a request was written, waits for the server's answer to
/// begin (so the server has processed the request) and then fails the read with `kind`,
/// as an established socket does when its route dies.
#[derive(Debug)]
pub(crate) struct FlakyStream<T> {
    inner: T,
    kind: Option<io::ErrorKind>,
    sent: bool,
}

impl<T: Read + Unpin> Read for FlakyStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(kind) = this.kind.filter(|_| this.sent) else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        // Read into a scratch buffer: what arrives is thrown away with the error.
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 512];
        let mut scratch = hyper::rt::ReadBuf::uninit(&mut scratch);
        ready!(Pin::new(&mut this.inner).poll_read(cx, scratch.unfilled()))?;
        Poll::Ready(Err(io::Error::new(
            kind,
            "injected fault: the read after the request failed",
        )))
    }
}

impl<T: Write + Unpin> Write for FlakyStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.sent |= n > 0;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<T: Connection> Connection for FlakyStream<T> {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}
