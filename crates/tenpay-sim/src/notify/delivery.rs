//! Delivery: POST to the merchant, judge the reply, retry on WeChat's schedule, keep a bounded
//! log of every notification and attempt.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;

use crate::clock::Clock;
use crate::error::Refusal;
use crate::ids::seq;
use crate::model::{Attempt, DeliveryKind, DeliveryView};

/// WeChat Pay's notification retry intervals after the first attempt (seconds, before the
/// simulator's time scale divides them).
pub const RETRY_SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// How much of a merchant's reply is read (and kept for people).
const MAX_REPLY_BYTES: usize = 64 * 1024;
const KEPT_REPLY_BYTES: usize = 512;

/// Where a notification goes: `http(s)://host[:port]/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self, &'static str> {
        let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err("must be an absolute http(s) URL");
        };
        if url.len() > 256 {
            return Err("longer than 256 characters");
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if path.contains('?') {
            return Err("must not carry a query string");
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("bad IPv6 host")?;
            (h, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("has no host");
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| "bad port")?,
            None if https => 443,
            None => 80,
        };
        Ok(Self {
            https,
            host: host.to_owned(),
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
        })
    }

    pub(crate) fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Why an attempt got no reply to judge: its text is the attempt's outcome, for people (so
/// each message carries its cause; nothing walks a source chain here).
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttemptError {
    #[error("bad notify_url: {0}")]
    Url(&'static str),
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    #[error("bad TLS server name")]
    ServerName,
    #[error("TLS setup failed")]
    TlsSetup,
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("HTTP failed: {0}")]
    Http(hyper::Error),
    #[error("bad request: {0}")]
    Request(http::Error),
    #[error("reply unreadable or over {MAX_REPLY_BYTES} bytes")]
    Reply,
    #[error("no reply within {0:?}")]
    Timeout(Duration),
}

/// The notifications sent so far, with their attempts: at most `limit`, the oldest finished
/// (acknowledged or abandoned) dropped first.
#[derive(Debug)]
struct Log {
    deliveries: VecDeque<DeliveryView>,
    /// How each kept notification goes on the wire (v3 ones are signed at each attempt).
    wires: std::collections::HashMap<u64, Wire>,
    limit: usize,
}

impl Log {
    fn push(&mut self, d: DeliveryView) {
        if self.deliveries.len() >= self.limit {
            let finished = self
                .deliveries
                .iter()
                .take(64)
                .position(|d| d.acknowledged || d.abandoned)
                .unwrap_or(0);
            if let Some(gone) = self.deliveries.remove(finished) {
                self.wires.remove(&gone.id);
            }
        }
        self.deliveries.push_back(d);
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut DeliveryView> {
        self.deliveries.iter_mut().find(|d| d.id == id)
    }
}

/// Signs a v3 notification's body now: its signature headers.
pub(crate) type Stamp = dyn Fn(&[u8]) -> Vec<(&'static str, String)> + Send + Sync;

/// How a notification is put on the wire and its reply judged.
#[derive(Clone)]
pub(crate) enum Wire {
    /// V2: an XML body, acknowledged by HTTP 200 with `return_code` SUCCESS.
    Xml,
    /// v3: a JSON body with signature headers made at each attempt (WeChat Pay signs every
    /// delivery anew, so a retry a day later is not stale), acknowledged by HTTP 200 or 204.
    Json(Arc<Stamp>),
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Xml => "Xml",
            Self::Json(_) => "Json",
        })
    }
}

/// Sends notifications and keeps their log.
pub(crate) struct Outbox {
    log: Mutex<Log>,
    /// The runtime the simulator was started on: deliveries are spawned there, so a control
    /// operation works from any thread (a synchronous test, the dashboard).
    rt: tokio::runtime::Handle,
    clock: Clock,
    timeout: Duration,
    tls: Arc<rustls::ClientConfig>,
}

impl Outbox {
    /// Must be called on the runtime the deliveries run on.
    pub(crate) fn new(
        clock: Clock,
        timeout: Duration,
        tls: Arc<rustls::ClientConfig>,
        limit: usize,
    ) -> Self {
        Self {
            log: Mutex::new(Log {
                deliveries: VecDeque::new(),
                wires: std::collections::HashMap::new(),
                limit: limit.max(1),
            }),
            rt: tokio::runtime::Handle::current(),
            clock,
            timeout,
            tls,
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every notification kept, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<DeliveryView> {
        self.log().deliveries.iter().cloned().collect()
    }

    /// Records a notification and starts its attempts in the background.
    pub(crate) fn send(
        self: &Arc<Self>,
        kind: DeliveryKind,
        mch_id: &str,
        out_trade_no: &str,
        url: String,
        body: String,
        wire: Wire,
    ) -> u64 {
        let id = seq();
        self.log().push(DeliveryView {
            id,
            kind,
            mch_id: mch_id.to_owned(),
            out_trade_no: out_trade_no.to_owned(),
            url: url.clone(),
            body: body.clone(),
            acknowledged: false,
            abandoned: false,
            attempts: Vec::new(),
        });
        let outbox = Arc::clone(self);
        self.log().wires.insert(id, wire.clone());
        self.rt
            .spawn(async move { outbox.retry(id, url, body, wire).await });
        id
    }

    /// One more attempt of a notification now, outside its schedule (the dashboard's
    /// "redeliver"); the scheduled attempts go on until one is acknowledged.
    pub(crate) fn redeliver(self: &Arc<Self>, id: u64) -> Result<(), Refusal> {
        let (url, body) = {
            let log = self.log();
            let d = log
                .deliveries
                .iter()
                .find(|d| d.id == id)
                .ok_or(Refusal::UnknownDelivery { id })?;
            (d.url.clone(), d.body.clone())
        };
        let wire = self.log().wires.get(&id).cloned().unwrap_or(Wire::Xml);
        let outbox = Arc::clone(self);
        self.rt.spawn(async move {
            let attempt = outbox.attempt(&url, &body, &wire).await;
            if let Some(d) = outbox.log().get_mut(id) {
                d.acknowledged |= attempt.acknowledged;
                d.attempts.push(attempt);
            }
        });
        Ok(())
    }

    async fn retry(self: Arc<Self>, id: u64, url: String, body: String, wire: Wire) {
        for n in 0..=RETRY_SCHEDULE_SECS.len() {
            if n > 0 {
                tokio::time::sleep(self.clock.scaled(RETRY_SCHEDULE_SECS[n - 1])).await;
                // Acknowledged in the meantime (a redelivery): stop.
                match self.log().get_mut(id) {
                    Some(d) if !d.acknowledged => {}
                    _ => return,
                }
            }
            let attempt = self.attempt(&url, &body, &wire).await;
            tracing::debug!(id, n, acknowledged = attempt.acknowledged, outcome = %attempt.outcome, "sim: notification attempt");
            let mut log = self.log();
            let Some(d) = log.get_mut(id) else {
                return;
            };
            let acknowledged = attempt.acknowledged;
            d.attempts.push(attempt);
            if acknowledged {
                d.acknowledged = true;
                return;
            }
            if n == RETRY_SCHEDULE_SECS.len() {
                d.abandoned = true;
            }
        }
    }

    /// One POST to the merchant that expects an answer (the scan callback), with the
    /// deliveries' timeout and TLS trust: the status and the reply, or why there is none.
    pub(crate) async fn exchange(
        &self,
        url: &str,
        body: &str,
    ) -> Result<(u16, Bytes), AttemptError> {
        request(url, body, &Wire::Xml, self.timeout, &self.tls).await
    }

    async fn attempt(&self, url: &str, body: &str, wire: &Wire) -> Attempt {
        let at_ms = self.clock.elapsed_ms();
        let mut a = post(url, body, wire, self.timeout, &self.tls).await;
        a.at_ms = at_ms;
        a
    }
}

/// One delivery of a notification body to `url`, judged as WeChat Pay judges the reply (HTTP
/// 200 and `return_code` SUCCESS), within `timeout`. `https://` URLs are checked against the
/// public web PKI. `at_ms` is 0.
pub async fn deliver_once(url: &str, body: &str, timeout: Duration) -> Attempt {
    let tls = crate::tls::delivery_config(None, &[]).ok();
    match tls {
        Some(tls) => post(url, body, &Wire::Xml, timeout, &tls).await,
        None => failed(AttemptError::TlsSetup),
    }
}

async fn post(
    url: &str,
    body: &str,
    wire: &Wire,
    timeout: Duration,
    tls: &Arc<rustls::ClientConfig>,
) -> Attempt {
    match request(url, body, wire, timeout, tls).await {
        Ok((status, reply)) => judge(status, &reply, wire),
        Err(e) => failed(e),
    }
}

/// One POST of `body` to `url` within `timeout`: the status and the reply (at most 64 KiB).
async fn request(
    url: &str,
    body: &str,
    wire: &Wire,
    timeout: Duration,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(u16, Bytes), AttemptError> {
    let exchange = async {
        let target = Target::parse(url).map_err(AttemptError::Url)?;
        let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(AttemptError::Connect)?;
        if !target.https {
            return exchange(TokioIo::new(stream), &target, body, wire).await;
        }
        let name =
            ServerName::try_from(target.host.clone()).map_err(|_| AttemptError::ServerName)?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
            .connect(name, stream)
            .await
            .map_err(AttemptError::Tls)?;
        exchange(TokioIo::new(stream), &target, body, wire).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(AttemptError::Timeout(timeout)))
}

fn failed(e: AttemptError) -> Attempt {
    Attempt {
        at_ms: 0,
        status: None,
        acknowledged: false,
        outcome: e.to_string(),
        reply: None,
    }
}

/// One POST of the notification over an open connection (plain or TLS).
async fn exchange<I>(
    io: I,
    target: &Target,
    body: &str,
    wire: &Wire,
) -> Result<(u16, Bytes), AttemptError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(AttemptError::Http)?;
    tokio::spawn(conn);
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut request = http::Request::post(&target.path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "Mozilla/4.0 (tenpay-sim)");
    request = match wire {
        Wire::Xml => request.header(http::header::CONTENT_TYPE, "text/xml"),
        Wire::Json(sign) => {
            let mut r = request.header(http::header::CONTENT_TYPE, "application/json");
            for (name, value) in sign(body.as_bytes()) {
                r = r.header(name, value);
            }
            r
        }
    };
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(AttemptError::Request)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(AttemptError::Http)?;
    let status = response.status().as_u16();
    let reply = Limited::new(response.into_body(), MAX_REPLY_BYTES)
        .collect()
        .await
        .map_err(|_| AttemptError::Reply)?
        .to_bytes();
    Ok((status, reply))
}

/// WeChat Pay counts a V2 reply as an acknowledgement only when it is HTTP 200 and its
/// `return_code` is `SUCCESS`; a v3 reply when it is HTTP 200 or 204 (the status decides,
/// not the body).
fn judge(status: u16, reply: &[u8], wire: &Wire) -> Attempt {
    let (acknowledged, outcome) = if matches!(wire, Wire::Json(_)) {
        if status == 200 || status == 204 {
            (true, "acknowledged".to_owned())
        } else {
            (false, format!("HTTP {status}"))
        }
    } else if status != 200 {
        (false, format!("HTTP {status}"))
    } else {
        match tenpay_xml::XmlMap::parse(reply) {
            Ok(m) if m.get("return_code") == Some("SUCCESS") => (true, "acknowledged".into()),
            Ok(m) => (
                false,
                format!("return_code={:?}", m.get("return_code").unwrap_or("")),
            ),
            Err(e) => (false, format!("reply is not a WeChat Pay ack: {e}")),
        }
    };
    let kept = &reply[..reply.len().min(KEPT_REPLY_BYTES)];
    Attempt {
        at_ms: 0,
        status: Some(status),
        acknowledged,
        outcome,
        reply: Some(String::from_utf8_lossy(kept).into_owned()),
    }
}

/// How long to wait for a merchant's reply before counting the attempt as failed.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
