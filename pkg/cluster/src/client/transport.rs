//! How the client reaches the API server, and how it notices that it no
//! longer can.
//!
//! A link that goes silent (Wi-Fi gone, a VPN reconnecting, a NAT entry
//! expired, a laptop asleep) closes nothing: a request or a watch then waits
//! for as long as the outage lasts. Each kind of stream gets a heartbeat:
//! - **Requests and watches** go over HTTP/2 where the server offers it (the
//!   API server does), with PING frames every [`PING_INTERVAL`]. A
//!   connection whose ping is not answered within [`PING_TIMEOUT`] is closed,
//!   and every request and watch on it fails with a transport error, as a
//!   cut connection's would. client-go does the same (its HTTP/2 health
//!   check), with a bound of 45 s.
//! - **Exec streams** need HTTP/1.1's Upgrade for their WebSocket, so they
//!   have a client of their own ([`exec_client_builder`]); their heartbeat is
//!   the WebSocket ping of [`crate::client::exec_stream`].
//! - **New connections** are bounded by [`CONNECT_TIMEOUT`], TLS included: a
//!   black hole completes TCP's handshake and then says nothing.
//! - **Waiting** (a pod's watch while it starts) has no request of its own
//!   to fail: a watch that hears no event is quiet, not dead, and a watch
//!   whose connection the pings closed fails just as a cut one does. So the
//!   [`Link`] counts every byte read from the API server, on every
//!   connection. While pings run, the server says something at least every
//!   `PING_INTERVAL`; once it has said nothing for [`SILENCE_BOUND`], the
//!   link is silent and a wait ends there.
//!
//! Everything else is as kube builds it: the base URI, gzip, the retry of
//! 429/503/504 (API Priority and Fairness), authentication and the extra
//! headers.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use kube::Config;
use kube::client::{Body, ClientBuilder, ConfigExt, DynBody};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tower::{BoxError, ServiceBuilder, ServiceExt};

/// How often a connection that has said nothing is pinged.
pub const PING_INTERVAL: Duration = Duration::from_secs(4);
/// How long a ping may go unanswered before its connection is closed: a
/// silent link is noticed within `PING_INTERVAL + PING_TIMEOUT`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(8);
/// How long a new connection may take, TLS handshake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the API server may say nothing at all before the link counts
/// as silent: on an exec stream, pongs included; on every connection
/// together, while pings run. Two missed heartbeats and some, well inside
/// the 15 s a session may take to notice.
pub const SILENCE_BOUND: Duration = Duration::from_secs(10);

/// What the clients of one invocation have heard from the API server.
#[derive(Debug)]
pub struct Link {
    started: Instant,
    /// Milliseconds after `started` of the last byte read.
    last_heard_ms: AtomicU64,
    /// Whether the server speaks HTTP/2, so that pings keep the link
    /// talking: without them, a quiet link cannot be told from a dead one.
    pinged: AtomicBool,
    /// Milliseconds after `started` when a new connection last got no
    /// answer within [`CONNECT_TIMEOUT`]; 0 for never.
    unanswered_ms: AtomicU64,
    /// How many answers were the server pushing back (a 429, or a 503 with
    /// Retry-After), retried ones included: API Priority and Fairness
    /// refusing what the server cannot take now.
    pushbacks: AtomicU64,
    /// The last push-back's Retry-After, in seconds; 0 for none.
    retry_after_s: AtomicU64,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            started: Instant::now(),
            last_heard_ms: AtomicU64::new(0),
            pinged: AtomicBool::new(false),
            unanswered_ms: AtomicU64::new(0),
            pushbacks: AtomicU64::new(0),
            retry_after_s: AtomicU64::new(0),
        }
    }
}

impl Link {
    fn heard(&self) {
        self.last_heard_ms
            .fetch_max(self.now_ms(), Ordering::Relaxed);
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "never".
        (self.started.elapsed().as_millis() as u64).max(1)
    }

    fn connection_unanswered(&self) {
        self.unanswered_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Whether a new connection went unanswered within the last
    /// [`CONNECT_TIMEOUT`], with nothing heard since: the next one would
    /// wait as long for nothing. One black hole then costs one timeout,
    /// not one per request; after that, a connection is tried again.
    fn known_unanswered(&self) -> bool {
        let unanswered = self.unanswered_ms.load(Ordering::Relaxed);
        unanswered != 0
            && unanswered > self.last_heard_ms.load(Ordering::Relaxed)
            && self.now_ms() < unanswered + CONNECT_TIMEOUT.as_millis() as u64
    }

    /// Notes an answer that is the server pushing back.
    fn pushed_back(&self, retry_after: Option<Duration>) {
        self.retry_after_s.store(
            retry_after.map_or(0, |after| after.as_secs()),
            Ordering::Relaxed,
        );
        self.pushbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// How many answers so far were the server pushing back.
    pub fn pushbacks(&self) -> u64 {
        self.pushbacks.load(Ordering::Relaxed)
    }

    /// The Retry-After of the last push-back, if it had one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.retry_after_s.load(Ordering::Relaxed) {
            0 => None,
            seconds => Some(Duration::from_secs(seconds)),
        }
    }

    /// How long the server has said nothing, where pings would have made
    /// it answer; `None` where nothing pings (an HTTP/1.1-only server).
    pub fn silent_for(&self) -> Option<Duration> {
        if !self.pinged.load(Ordering::Relaxed) {
            return None;
        }
        let heard = Duration::from_millis(self.last_heard_ms.load(Ordering::Relaxed));
        Some(self.started.elapsed().saturating_sub(heard))
    }

    /// Resolves once the link has been silent for [`SILENCE_BOUND`] (never,
    /// where nothing pings), with how long that was.
    pub async fn silence(&self) -> Duration {
        loop {
            let wait = match self.silent_for() {
                Some(silent) if silent >= SILENCE_BOUND => return silent,
                Some(silent) => SILENCE_BOUND - silent,
                None => PING_INTERVAL,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// kube's client stack, as `ClientBuilder::try_from` makes it.
pub type Service =
    tower::util::BoxService<http::Request<Body>, http::Response<Box<DynBody>>, BoxError>;
pub type Builder = ClientBuilder<Service>;

/// The client for requests and watches: HTTP/2 with pings where the server
/// offers it, HTTP/1.1 elsewhere (a plain-HTTP `kubectl proxy`, say).
pub fn api_client_builder(config: &Config, link: &Arc<Link>) -> kube::Result<Builder> {
    builder(config, Protocols::Http2OrHttp1, link)
}

/// The client for exec streams: HTTP/1.1 only, as a WebSocket needs.
pub fn exec_client_builder(config: &Config, link: &Arc<Link>) -> kube::Result<Builder> {
    builder(config, Protocols::Http1, link)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocols {
    Http2OrHttp1,
    Http1,
}

fn builder(config: &Config, protocols: Protocols, link: &Arc<Link>) -> kube::Result<Builder> {
    // A proxy URL is for kube's own builder, which knows how to tunnel.
    if config.proxy_url.is_some() {
        return ClientBuilder::try_from(config.clone());
    }
    let http = HeardConnector::new(link.clone());
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config.rustls_client_config()?)
        .https_or_http();
    let tls = match &config.tls_server_name {
        Some(name) => tls.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(
            name.clone().try_into().map_err(|e| {
                kube::Error::RustlsTls(kube::client::RustlsTlsError::InvalidServerName(e))
            })?,
        )),
        None => tls,
    };
    let https = match protocols {
        Protocols::Http2OrHttp1 => tls.enable_http1().enable_http2().wrap_connector(http),
        Protocols::Http1 => tls.enable_http1().wrap_connector(http),
    };
    let mut timeouts = hyper_timeout::TimeoutConnector::new(https);
    let connect_timeout = config
        .connect_timeout
        .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT));
    timeouts.set_connect_timeout(Some(connect_timeout));
    timeouts.set_read_timeout(config.read_timeout);
    timeouts.set_write_timeout(config.write_timeout);
    timeouts.set_reset_reader_on_write(config.reset_reader_on_write);
    let connector = UnansweredConnector {
        inner: timeouts,
        link: link.clone(),
        timeout: connect_timeout,
    };

    let mut hyper = hyper_util::client::legacy::Builder::new(TokioExecutor::new());
    hyper.timer(TokioTimer::new()).pool_timer(TokioTimer::new());
    if protocols == Protocols::Http2OrHttp1 {
        hyper
            .http2_keep_alive_interval(PING_INTERVAL)
            .http2_keep_alive_timeout(PING_TIMEOUT)
            .http2_keep_alive_while_idle(true);
    }
    let hyper: hyper_util::client::legacy::Client<_, Body> = hyper.build(connector);
    let pinged = link.clone();

    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .layer(
            tower_http::decompression::DecompressionLayer::new()
                .no_br()
                .no_deflate()
                .no_zstd()
                .gzip(!config.disable_compression),
        )
        .option_layer(config.default_retry.then(|| {
            tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry())
        }))
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .layer(tower::retry::RetryLayer::new(ResendOnEarlyReset::default()))
        .map_err(BoxError::from)
        .service(hyper)
        // Below the retry layers: every answer is seen, a retried one too.
        .map_response(move |response| {
            if response.version() == http::Version::HTTP_2 {
                pinged.pinged.store(true, Ordering::Relaxed);
            }
            if let Some(retry_after) = push_back(&response) {
                pinged.pushed_back(retry_after);
            }
            response.map(|body| {
                Box::new(http_body_util::BodyExt::map_err(body, BoxError::from)) as Box<DynBody>
            })
        })
        .boxed();
    Ok(ClientBuilder::new(
        service,
        config.default_namespace.clone(),
    ))
}

/// Whether `response` is the server pushing back, and its Retry-After:
/// a 429, or a 503 that says when to come back (a 503 without one is a
/// server in trouble, not one asking for less).
fn push_back<B>(response: &http::Response<B>) -> Option<Option<Duration>> {
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match response.status() {
        http::StatusCode::TOO_MANY_REQUESTS => Some(retry_after),
        http::StatusCode::SERVICE_UNAVAILABLE if retry_after.is_some() => Some(retry_after),
        _ => None,
    }
}

/// Sends a request once more when HTTP/2 reset its stream with NO_ERROR
/// before its answer arrived. A server may answer before it has read a
/// request's body (a 401 at authentication, say) and then reset the stream
/// to say it wants no more of it; hyper can report that reset instead of
/// the answer, as "not a result of an error". Sent again, the request gets
/// its answer.
///
/// The same server may instead close the pooled connection just as the
/// next request checks it out; hyper-util then fails that request before
/// writing any of it ([`closed_before_sent`]), and it is sent once more on
/// a new connection.
///
/// Twice at most: a server that refuses the credentials may also end the
/// connection (kube-apiserver's HTTP/2 mitigation for unauthenticated
/// clients sends GOAWAY with NO_ERROR), and the first resend can meet that
/// same connection before the pool has let go of it.
#[derive(Clone, Default)]
struct ResendOnEarlyReset {
    resent: u8,
}

/// How many times one request is sent again ([`ResendOnEarlyReset`]).
const MAX_RESENDS: u8 = 2;

impl<Res> tower::retry::Policy<http::Request<Body>, Res, BoxError> for ResendOnEarlyReset {
    type Future = std::future::Ready<()>;

    fn retry(
        &mut self,
        _: &mut http::Request<Body>,
        result: &mut Result<Res, BoxError>,
    ) -> Option<Self::Future> {
        match result {
            Err(err)
                if self.resent < MAX_RESENDS
                    && (reset_with_no_error(err.as_ref()) || closed_before_sent(err.as_ref())) =>
            {
                self.resent += 1;
                Some(std::future::ready(()))
            }
            _ => None,
        }
    }

    fn clone_request(&mut self, request: &http::Request<Body>) -> Option<http::Request<Body>> {
        if self.resent >= MAX_RESENDS {
            return None;
        }
        crate::client::credentials::resendable_copy(request)
    }
}

fn reset_with_no_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<h2::Error>()
            .is_some_and(|h2| h2.reason() == Some(h2::Reason::NO_ERROR))
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// hyper-util's words, in its pool's error, for a connection that closed
/// between being checked out and the request being written. The error type
/// is private to hyper-util, so its words are what can be matched; hyper-util
/// resends such a request itself only on a client built HTTP/2-only, which
/// this one, negotiating by ALPN, is not.
const CLOSED_BEFORE_SENT: &str = "checked out connection was closed";

/// Whether `err` says the request never left: its pooled connection was
/// closed before any of it was written.
fn closed_before_sent(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(cause) = source {
        if cause.to_string() == CLOSED_BEFORE_SENT {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Connects as `HttpConnector` does, and tells `link` of every byte read.
#[derive(Clone)]
struct HeardConnector {
    inner: HttpConnector,
    link: Arc<Link>,
}

impl HeardConnector {
    fn new(link: Arc<Link>) -> Self {
        let mut inner = HttpConnector::new();
        inner.enforce_http(false);
        // Without TCP_NODELAY a request whose body follows its headers in a
        // second write (every patch, every exec upgrade) waits for the
        // server's delayed ACK of the first: about 40 ms each, measured in
        // the API server's audit log. Go's net package, and so kubectl,
        // sets it.
        inner.set_nodelay(true);
        HeardConnector { inner, link }
    }
}

impl tower::Service<http::Uri> for HeardConnector {
    type Response = TokioIo<Heard>;
    type Error = <HttpConnector as tower::Service<http::Uri>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let link = self.link.clone();
        Box::pin(async move {
            match connecting.await {
                Ok(stream) => Ok(TokioIo::new(Heard {
                    stream: stream.into_inner(),
                    link,
                })),
                // A refusal is an answer: the host is there and says no, as
                // a restarting API server does. Only a link that says
                // nothing at all is silent.
                Err(err) => {
                    if refused(&err) {
                        link.heard();
                    }
                    Err(err)
                }
            }
        })
    }
}

fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(cause) = source {
        if cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
            )
        }) {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Connects through `inner` (TLS and timeouts), and tells `link` of a new
/// connection that got no answer in time; while one did, the next fails at
/// once ([`Link::known_unanswered`]).
#[derive(Clone)]
struct UnansweredConnector<C> {
    inner: C,
    link: Arc<Link>,
    timeout: Duration,
}

impl<C> tower::Service<http::Uri> for UnansweredConnector<C>
where
    C: tower::Service<http::Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let unanswered = move |timeout: Duration| -> BoxError {
            Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no answer to a new connection within {}s",
                    timeout.as_secs()
                ),
            ))
        };
        if self.link.known_unanswered() {
            let timeout = self.timeout;
            return Box::pin(async move { Err(unanswered(timeout)) });
        }
        let connecting = self.inner.call(uri);
        let (link, timeout) = (self.link.clone(), self.timeout);
        Box::pin(async move {
            connecting.await.map_err(|err| {
                let err: BoxError = err.into();
                let timed_out = err
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
                if timed_out {
                    link.connection_unanswered();
                    unanswered(timeout)
                } else {
                    err
                }
            })
        })
    }
}

/// A connection to the API server that tells its [`Link`] when it reads.
struct Heard {
    stream: TcpStream,
    link: Arc<Link>,
}

impl AsyncRead for Heard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.link.heard();
        }
        read
    }
}

impl AsyncWrite for Heard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Connection for Heard {
    fn connected(&self) -> Connected {
        self.stream.connected()
    }
}

/// How a session ended by a silent link says why, in words.
pub fn silence_reason(silent_for: Duration) -> String {
    format!(
        "no answer from the API server for {}s (the link went silent)",
        silent_for.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_or_a_503_with_retry_after_is_push_back() {
        let answer = |status: u16, retry_after: Option<&str>| {
            let mut builder = http::Response::builder().status(status);
            if let Some(after) = retry_after {
                builder = builder.header("Retry-After", after);
            }
            builder.body(()).unwrap()
        };
        assert_eq!(
            push_back(&answer(429, Some("3"))),
            Some(Some(Duration::from_secs(3)))
        );
        assert_eq!(push_back(&answer(429, None)), Some(None));
        assert_eq!(
            push_back(&answer(503, Some("1"))),
            Some(Some(Duration::from_secs(1)))
        );
        assert_eq!(push_back(&answer(503, None)), None);
        assert_eq!(push_back(&answer(200, Some("1"))), None);
        let link = Link::default();
        link.pushed_back(Some(Duration::from_secs(2)));
        assert_eq!(
            (link.pushbacks(), link.retry_after()),
            (1, Some(Duration::from_secs(2)))
        );
    }

    #[tokio::test]
    async fn connections_send_small_writes_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri: http::Uri = format!("http://{}", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let mut connector = HeardConnector::new(Arc::default());
        let connected = tower::Service::call(&mut connector, uri).await.unwrap();
        assert!(
            connected.inner().stream.nodelay().unwrap(),
            "TCP_NODELAY is off: a request's body would wait ~40 ms for the server's delayed ACK"
        );
    }

    /// An error with words of its own and, maybe, a cause.
    #[derive(Debug)]
    struct Said(&'static str, Option<Box<Said>>);

    impl std::fmt::Display for Said {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Said {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|cause| cause as _)
        }
    }

    #[test]
    fn a_request_whose_pooled_connection_closed_before_it_was_written_is_resent() {
        let closed = Said(
            "client error (Connect)",
            Some(Box::new(Said(CLOSED_BEFORE_SENT, None))),
        );
        assert!(closed_before_sent(&closed));
        let refused = Said(
            "client error (Connect)",
            Some(Box::new(Said(
                "tcp connect error: Connection refused",
                None,
            ))),
        );
        assert!(
            !closed_before_sent(&refused),
            "a refused connection is not resent"
        );
        let mut policy = ResendOnEarlyReset::default();
        let mut request = http::Request::new(Body::empty());
        let mut result: Result<(), BoxError> = Err(Box::new(closed));
        assert!(
            tower::retry::Policy::<_, (), BoxError>::retry(&mut policy, &mut request, &mut result)
                .is_some()
        );
        let again = || -> Result<(), BoxError> {
            Err(Box::new(Said(
                "client error (Connect)",
                Some(Box::new(Said(CLOSED_BEFORE_SENT, None))),
            )))
        };
        assert!(
            tower::retry::Policy::<_, (), BoxError>::retry(&mut policy, &mut request, &mut again())
                .is_some(),
            "a second time"
        );
        assert!(
            tower::retry::Policy::<_, (), BoxError>::retry(&mut policy, &mut request, &mut again())
                .is_none(),
            "twice only"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_link_is_silent_only_where_pings_would_have_been_answered() {
        let link = Link::default();
        tokio::time::sleep(SILENCE_BOUND * 3).await;
        assert_eq!(link.silent_for(), None, "no HTTP/2: quiet is not silent");
        link.pinged.store(true, Ordering::Relaxed);
        link.heard();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(link.silent_for(), Some(Duration::from_secs(3)));
        let started = Instant::now();
        assert_eq!(link.silence().await, SILENCE_BOUND);
        assert_eq!(started.elapsed(), SILENCE_BOUND - Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn one_unanswered_connection_fails_the_next_until_heard_from_or_its_timeout_passed() {
        let link = Link::default();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!link.known_unanswered());
        link.connection_unanswered();
        assert!(link.known_unanswered());
        tokio::time::sleep(Duration::from_secs(1)).await;
        link.heard();
        assert!(!link.known_unanswered(), "heard from since");
        link.connection_unanswered();
        tokio::time::sleep(CONNECT_TIMEOUT).await;
        assert!(
            !link.known_unanswered(),
            "tried again after a timeout's time"
        );
    }
}
