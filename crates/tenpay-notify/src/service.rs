//! The notify endpoint as a `tower_service::Service` (see [`NotifyService`]).

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use crate::{ACK, Error, Notification, Notifier, nack};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Notifier {}
    #[cfg(feature = "v3")]
    impl Sealed for crate::v3::Notifier {}
}

/// What a [`NotifyService`] verifies with: V2's [`Notifier`] (XML bodies, signed fields) or
/// v3's [`v3::Notifier`](crate::v3::Notifier) (JSON bodies, signed headers). Sealed: the
/// service's guarantees (answer only after the handler, every failure retried) hold for
/// these two.
pub trait Verify: sealed::Sealed + fmt::Debug + Send + Sync + 'static {
    /// A verified notification.
    type Notification: fmt::Debug + Send + 'static;
    /// Why a notification was refused.
    type Error: std::error::Error + Send + 'static;
    /// Verifies one request's headers and raw body.
    #[doc(hidden)]
    fn verify_request(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Self::Notification, Self::Error>;
    /// The kind and the order number of a notification, for the log.
    #[doc(hidden)]
    fn describe(notification: &Self::Notification) -> (&'static str, String);
    /// The success answer: status and body.
    #[doc(hidden)]
    fn ack(&self) -> (StatusCode, Vec<u8>);
    /// A failure answer's body.
    #[doc(hidden)]
    fn nack(&self, message: &str) -> Vec<u8>;
    /// The answers' content type.
    #[doc(hidden)]
    fn content_type(&self) -> &'static str;
}

impl Verify for Notifier {
    type Notification = Notification;
    type Error = Error;

    fn verify_request(&self, _: &http::HeaderMap, body: &[u8]) -> Result<Notification, Error> {
        self.handle(body)
    }

    fn describe(notification: &Notification) -> (&'static str, String) {
        match notification {
            Notification::Pay(p) => ("pay", p.out_trade_no().to_string()),
            Notification::Refund(r) => ("refund", r.out_trade_no.to_string()),
            Notification::Contract(c) => ("contract", c.contract_code().to_owned()),
        }
    }

    fn ack(&self) -> (StatusCode, Vec<u8>) {
        (StatusCode::OK, ACK.to_vec())
    }

    fn nack(&self, message: &str) -> Vec<u8> {
        nack(message)
    }

    fn content_type(&self) -> &'static str {
        "text/xml; charset=utf-8"
    }
}

#[cfg(feature = "v3")]
impl Verify for crate::v3::Notifier {
    type Notification = crate::v3::Notification;
    type Error = crate::v3::Error;

    fn verify_request(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<crate::v3::Notification, crate::v3::Error> {
        let signed =
            tenpay_sign_v3::SignedHeaders::from_fn(|name| headers.get(name)?.to_str().ok());
        self.handle(&signed, body, self.now())
    }

    fn describe(notification: &crate::v3::Notification) -> (&'static str, String) {
        match &notification.event {
            crate::v3::Event::Transaction(p) => ("transaction", p.out_trade_no().to_string()),
            crate::v3::Event::Refund(r) => ("refund", r.out_trade_no.to_string()),
            _ => ("other", notification.id.clone()),
        }
    }

    fn ack(&self) -> (StatusCode, Vec<u8>) {
        (StatusCode::NO_CONTENT, Vec::new())
    }

    fn nack(&self, message: &str) -> Vec<u8> {
        crate::v3::nack(message)
    }

    fn content_type(&self) -> &'static str {
        "application/json"
    }
}

/// What the audit hook sees for every request that carried a body: the raw bytes and the
/// verdict, before the handler runs.
#[derive(Debug)]
#[non_exhaustive]
pub struct Audit<'a, N = Notification, E = Error> {
    /// The raw body, exactly as received.
    pub body: &'a [u8],
    /// The verified notification, or why it was refused.
    pub verdict: Result<&'a N, &'a E>,
}

type AuditHook<N, E> = dyn Fn(&Audit<'_, N, E>) + Send + Sync;

/// One request's body and what verification made of it: what a [`Handler`] is called with
/// (V2's [`Notification`] by default; v3's with a v3 notifier).
#[derive(Debug)]
#[non_exhaustive]
pub struct Delivery<N = Notification, E = Error> {
    /// The raw body, exactly as received.
    pub body: Bytes,
    /// The verified notification, or why it was refused.
    pub verdict: Result<N, E>,
}

/// The merchant's async handler, called with every delivery that carried a body, refused
/// ones included, so that the audit row and the state change can share one transaction. For
/// a verified notification `Ok` means "recorded, acknowledge it"; for a refused one the
/// result is only logged, and WeChat Pay is told to retry either way. To see verified
/// notifications only, wrap a function of [`Notification`] in [`verified`].
///
/// The error carries its cause: anything that converts into
/// `Box<dyn std::error::Error + Send + Sync>` (an error type, a `String`, a `&'static str`); it
/// is logged with its sources and never sent to WeChat Pay.
pub trait Handler<D = Delivery>: Send + Sync + 'static {
    /// The handler's error.
    type Error: Into<Box<dyn std::error::Error + Send + Sync>> + 'static;
    /// The handler's future.
    type Future: Future<Output = Result<(), Self::Error>> + Send + 'static;
    /// Handles one delivery.
    fn call(&self, delivery: D) -> Self::Future;
}

impl<F, Fut, E, D> Handler<D> for F
where
    F: Fn(D) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    type Error = E;
    type Future = Fut;

    fn call(&self, delivery: D) -> Fut {
        self(delivery)
    }
}

/// A handler of verified notifications only (see [`verified`]).
#[derive(Debug, Clone)]
pub struct Verified<F>(F);

/// Makes a [`Handler`] of a function of verified notifications: refused deliveries never reach
/// it (they are answered 400 and logged).
///
/// ```
/// use tenpay_notify::{Notification, Notifier, NotifyService, verified};
/// use tenpay_sign::{ApiKey, Merchant, SignType};
///
/// # fn main() -> Result<(), tenpay_sign::Error> {
/// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
/// let notifier = Notifier::new(&Merchant::new("wx2421b1c4370ec43b", "10000100", key, SignType::HmacSha256));
/// let service = NotifyService::new(notifier, verified(|n: Notification| async move {
///     // Look the order up, settle it against your own amount, commit; then Ok.
///     let _ = n;
///     Ok::<(), std::io::Error>(())
/// }));
/// # let _ = service;
/// # Ok(())
/// # }
/// ```
pub fn verified<F, N, Fut, E>(handler: F) -> Verified<F>
where
    F: Fn(N) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    Verified(handler)
}

impl<F, N, X, Fut, E> Handler<Delivery<N, X>> for Verified<F>
where
    F: Fn(N) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Error = E;
    type Future = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

    fn call(&self, delivery: Delivery<N, X>) -> Self::Future {
        match delivery.verdict {
            Ok(n) => Box::pin((self.0)(n)),
            Err(_) => Box::pin(core::future::ready(Ok(()))),
        }
    }
}

/// A handler's error, kept with its cause until it is logged.
type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The error with its chain of sources, on one line.
fn chain(e: &HandlerError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The notify endpoint as a `tower_service::Service` over `http::Request`: bounded body,
/// verification, the merchant's async handler, and the reply WeChat Pay needs.
///
/// It acknowledges (V2: HTTP 200 with [`ACK`]; v3: HTTP 204) only after the handler returned
/// `Ok`. A handler error or panic answers 500 with a failure body (V2's XML, v3's
/// `{"code":"FAIL"}`), a refused notification 400, a body over the limit 413 (without reading
/// it all), a method other than POST 405: every failure makes WeChat Pay send the
/// notification again, so its retries cover every failure. The service itself never fails
/// (`Error = Infallible`), and it needs no particular runtime. Which protocol is the
/// verifier's: [`Notifier`] (the default) or [`v3::Notifier`](crate::v3::Notifier).
///
/// One kind of handler, [`Handler`]: called with every request that carried a body, as a
/// [`Delivery`] (the raw bytes and the verdict), so that the audit row and the state change
/// can share one database transaction. A refused delivery is answered 400 whatever the
/// handler returns; a verified one is acknowledged only after `Ok`. [`verified`] makes a
/// handler of a function that sees verified notifications only.
///
/// Serving it with hyper:
///
/// ```no_run
/// use hyper_util::rt::TokioIo;
/// use hyper_util::service::TowerToHyperService;
/// use tenpay_notify::{Notification, Notifier, NotifyService, verified};
/// use tenpay_sign::{ApiKey, Merchant, SignType};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let key = ApiKey::new(std::env::var("WECHAT_API_KEY")?)?;
/// let notifier = Notifier::new(&Merchant::new("wx2421b1c4370ec43b", "10000100", key, SignType::HmacSha256));
/// let service = NotifyService::new(notifier, verified(|n: Notification| async move {
///     // Look the order up, settle it against your own amount, commit; then return Ok.
///     let _ = n;
///     Ok::<(), std::io::Error>(())
/// }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// loop {
///     let (stream, _) = listener.accept().await?;
///     let service = TowerToHyperService::new(service.clone());
///     tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service));
/// }
/// # }
/// # let _ = run;
/// ```
///
/// Cheap to clone.
pub struct NotifyService<H, V: Verify = Notifier> {
    notifier: Arc<V>,
    handler: Arc<H>,
    audit: Option<Arc<AuditHook<V::Notification, V::Error>>>,
    max_body: usize,
}

impl<H, V: Verify> Clone for NotifyService<H, V> {
    fn clone(&self) -> Self {
        Self {
            notifier: Arc::clone(&self.notifier),
            handler: Arc::clone(&self.handler),
            audit: self.audit.clone(),
            max_body: self.max_body,
        }
    }
}

impl<H, V: Verify> fmt::Debug for NotifyService<H, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyService")
            .field("notifier", &self.notifier)
            .field("audit", &self.audit.is_some())
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl<V: Verify, H: Handler<Delivery<V::Notification, V::Error>>> NotifyService<H, V> {
    /// A service verifying with `notifier` and handing every delivery, refused ones included,
    /// to `handler` with its raw body: one place, one transaction, for the audit row and the
    /// state change. Bodies are limited to 64 KiB. For verified notifications only, pass
    /// [`verified`]`(f)`.
    ///
    /// ```
    /// use tenpay_notify::{Delivery, Notification, Notifier, NotifyService};
    /// use tenpay_sign::{ApiKey, Merchant, SignType};
    ///
    /// # fn main() -> Result<(), tenpay_sign::Error> {
    /// let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
    /// let notifier = Notifier::new(&Merchant::new("wx2421b1c4370ec43b", "10000100", key, SignType::HmacSha256));
    /// let service = NotifyService::new(notifier, |d: Delivery| async move {
    ///     // BEGIN; INSERT the raw body and the verdict into the audit table;
    ///     // for Ok(Notification::Pay(p)): load the order, p.settle(amount)?, mark it paid;
    ///     // COMMIT. Then Ok(()): the service acknowledges.
    ///     let _paid = (d.body.len(), matches!(d.verdict, Ok(Notification::Pay(_))));
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// # let _ = service;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(notifier: V, handler: H) -> Self {
        Self {
            notifier: Arc::new(notifier),
            handler: Arc::new(handler),
            audit: None,
            max_body: 64 * 1024,
        }
    }

    /// A hook that receives every raw body with its verdict before anything else happens
    /// (the audit trail: keep every notification you were sent).
    #[must_use]
    pub fn audit(
        mut self,
        hook: impl Fn(&Audit<'_, V::Notification, V::Error>) + Send + Sync + 'static,
    ) -> Self {
        self.audit = Some(Arc::new(hook));
        self
    }

    /// The largest body read; more gets 413.
    #[must_use]
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }
}

impl<V: Verify, H: Handler<Delivery<V::Notification, V::Error>>> NotifyService<H, V> {
    async fn respond<B>(self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if req.method() != Method::POST {
            tracing::debug!(method = %req.method(), "notify: method not allowed");
            let mut r = self.fail(StatusCode::METHOD_NOT_ALLOWED, "POST only");
            r.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return r;
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            tracing::warn!(declared, limit = self.max_body, "notify: body too large");
            return self.fail(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
        let (parts, body) = req.into_parts();
        let headers = parts.headers;
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                tracing::warn!(limit = self.max_body, "notify: body too large");
                return self.fail(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
            }
            Err(_) => {
                tracing::warn!("notify: could not read the body");
                return self.fail(StatusCode::BAD_REQUEST, "could not read body");
            }
        };
        let verdict = self.notifier.verify_request(&headers, &body);
        if let Some(audit) = &self.audit {
            audit(&Audit {
                body: &body,
                verdict: verdict.as_ref(),
            });
        }
        let (kind, out_trade_no) = match &verdict {
            Ok(n) => V::describe(n),
            Err(_) => ("refused", String::new()),
        };
        let refused = verdict.as_ref().err().map(ToString::to_string);
        // A panic while making the handler's future counts as a panic of the handler.
        let handler = Arc::clone(&self.handler);
        let dispatched = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let future = handler.call(Delivery { body, verdict });
            Box::pin(async move { future.await.map_err(Into::into) })
                as Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>
        }));
        let handled = match dispatched {
            Ok(future) => CatchUnwind { inner: future }.await,
            Err(_) => Err(()),
        };
        if let Some(reason) = refused {
            match handled {
                Ok(Err(e)) => {
                    tracing::error!(error = %chain(&e), "notify: handler failed on a refused delivery");
                }
                Err(()) => tracing::error!("notify: handler panicked on a refused delivery"),
                Ok(Ok(())) => {}
            }
            tracing::warn!(error = %reason, "notify: refused");
            return self.fail(StatusCode::BAD_REQUEST, "refused");
        }
        match handled {
            Ok(Ok(())) => {
                tracing::info!(kind, out_trade_no, "notify: handled, acknowledged");
                let (status, body) = self.notifier.ack();
                reply(status, body, self.notifier.content_type())
            }
            Ok(Err(e)) => {
                tracing::error!(kind, out_trade_no, error = %chain(&e), "notify: handler failed; WeChat Pay will retry");
                self.fail(StatusCode::INTERNAL_SERVER_ERROR, "not recorded")
            }
            Err(()) => {
                tracing::error!(
                    kind,
                    out_trade_no,
                    "notify: handler panicked; WeChat Pay will retry"
                );
                self.fail(StatusCode::INTERNAL_SERVER_ERROR, "not recorded")
            }
        }
    }
}

impl<H, V: Verify> NotifyService<H, V> {
    fn fail(&self, status: StatusCode, message: &str) -> Response<Full<Bytes>> {
        reply(
            status,
            self.notifier.nack(message),
            self.notifier.content_type(),
        )
    }
}

fn reply(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    r
}

impl<H, V, B> tower_service::Service<Request<B>> for NotifyService<H, V>
where
    V: Verify,
    H: Handler<Delivery<V::Notification, V::Error>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.respond(req).await) })
    }
}

/// Polls a boxed future, turning a panic into `Err(())`.
struct CatchUnwind<F: ?Sized> {
    inner: Pin<Box<F>>,
}

impl<F: Future + ?Sized> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("not recorded")]
    struct NotRecorded(#[source] std::io::Error);

    #[test]
    fn a_handler_error_is_logged_with_its_cause() {
        let e: HandlerError = NotRecorded(std::io::Error::other("database is down")).into();
        assert_eq!(chain(&e), "not recorded: database is down");
        let e: HandlerError = "plain text".into();
        assert_eq!(chain(&e), "plain text");
    }
}
