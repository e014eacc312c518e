//! [`TokenProvider`]: where a `Bearer` client gets its OAuth2 tokens.

use std::future::Future;

use ews_proto::Secret;

use crate::transport::BoxFuture;

/// The error type a token provider reports; it ends the call as
/// [`Error::TokenProvider`](ews_proto::Error::TokenProvider).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Supplies bearer tokens to a client built with
/// [`token_provider`](crate::ClientBuilder::token_provider).
///
/// The client asks once before its first request (`refresh == false`) and once more per
/// call after a 401 (`refresh == true`: the previous token was refused, get a new one
/// rather than a cached one). The client never caches anything but the last token, and it
/// calls the provider without holding any lock, so a provider may take its time (a
/// network round trip to the identity provider). Two calls that start at the same moment
/// on a fresh client may both ask; a provider that must be asked only once caches itself.
///
/// Implemented for closures returning a future, so the simplest provider is
///
/// ```
/// use ews_async::{Client, Credentials, proto::Secret};
///
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .token_provider(|refresh: bool| async move {
///         // ask the identity provider here; `refresh` says the last token was refused
///         let _ = refresh;
///         Ok::<_, std::io::Error>(Secret::from("eyJ0eXAi..."))
///     })
///     .build()?;
/// # Ok::<(), ews_async::Error>(())
/// ```
///
/// or implement the trait on a type of your own (the method returns `impl Future +
/// Send`; write its body as an `async move` block).
pub trait TokenProvider: Send + Sync + 'static {
    /// A token; `refresh` is true when the previous one was refused with 401.
    fn token(&self, refresh: bool)
    -> impl Future<Output = Result<Secret<String>, BoxError>> + Send;
}

impl<F, Fut, T, E> TokenProvider for F
where
    F: Fn(bool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Into<Secret<String>>,
    E: Into<BoxError>,
{
    fn token(
        &self,
        refresh: bool,
    ) -> impl Future<Output = Result<Secret<String>, BoxError>> + Send {
        let fut = self(refresh);
        async move { fut.await.map(Into::into).map_err(Into::into) }
    }
}

/// The object-safe form the client stores.
pub(crate) trait DynTokenProvider: Send + Sync + 'static {
    fn token_boxed(&self, refresh: bool) -> BoxFuture<'_, Result<Secret<String>, BoxError>>;
}

impl<P: TokenProvider> DynTokenProvider for P {
    fn token_boxed(&self, refresh: bool) -> BoxFuture<'_, Result<Secret<String>, BoxError>> {
        Box::pin(self.token(refresh))
    }
}
