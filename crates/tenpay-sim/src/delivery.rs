//! Notification delivery: POST to the merchant, judge the reply, retry on WeChat's schedule.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;

use crate::engine::{Engine, RETRY_SCHEDULE};
use crate::ids::seq;
use crate::model::{Attempt, DeliveryKind, DeliveryView};
use crate::state::Order;

/// Where a notification goes: `http://host[:port]/path`.
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

impl Engine {
    /// Records a delivery and starts its attempts in the background.
    pub(crate) fn start_delivery(
        self: &Arc<Self>,
        kind: DeliveryKind,
        order: &Order,
        url: String,
        body: String,
    ) {
        let id = seq();
        self.lock().deliveries.push(DeliveryView {
            id,
            kind,
            mch_id: order.mch_id.clone(),
            out_trade_no: order.out_trade_no.clone(),
            url: url.clone(),
            body: body.clone(),
            acknowledged: false,
            abandoned: false,
            attempts: Vec::new(),
        });
        let engine = Arc::clone(self);
        tokio::spawn(async move { engine.deliver(id, url, body).await });
    }

    async fn deliver(self: Arc<Self>, id: u64, url: String, body: String) {
        for attempt in 0..=RETRY_SCHEDULE.len() {
            if attempt > 0 {
                tokio::time::sleep(self.scaled(RETRY_SCHEDULE[attempt - 1])).await;
            }
            let at_ms = self.elapsed_ms();
            let (status, acknowledged, outcome) = match self.post(&url, &body).await {
                Ok((status, reply)) => judge(status, &reply),
                Err(e) => (None, false, e),
            };
            tracing::debug!(
                id,
                attempt,
                acknowledged,
                outcome,
                "sim: notification attempt"
            );
            let mut state = self.lock();
            let Some(d) = state.deliveries.iter_mut().find(|d| d.id == id) else {
                return;
            };
            d.attempts.push(Attempt {
                at_ms,
                status,
                acknowledged,
                outcome,
            });
            if acknowledged {
                d.acknowledged = true;
                return;
            }
            if attempt == RETRY_SCHEDULE.len() {
                d.abandoned = true;
            }
        }
    }

    async fn post(&self, url: &str, body: &str) -> Result<(u16, Bytes), String> {
        let target = Target::parse(url).map_err(|e| format!("bad notify_url: {e}"))?;
        let attempt = async {
            let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|e| format!("connect failed: {e}"))?;
            if !target.https {
                return exchange(TokioIo::new(stream), &target, body).await;
            }
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| format!("bad TLS server name: {e}"))?;
            let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.notify_tls))
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            exchange(TokioIo::new(tls), &target, body).await
        };
        tokio::time::timeout(self.delivery_timeout, attempt)
            .await
            .unwrap_or_else(|_| Err(format!("no reply within {:?}", self.delivery_timeout)))
    }
}

/// One POST of the notification over an open connection (plain or TLS).
async fn exchange<I>(io: I, target: &Target, body: &str) -> Result<(u16, Bytes), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("handshake failed: {e}"))?;
    tokio::spawn(conn);
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let request = http::Request::post(&target.path)
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "text/xml")
        .header(http::header::USER_AGENT, "Mozilla/4.0 (tenpay-sim)")
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let reply = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reply unreadable: {e}"))?
        .to_bytes();
    Ok((status, reply))
}

/// WeChat Pay counts a reply as an acknowledgement only when it is HTTP 200 and its
/// `return_code` is `SUCCESS`.
fn judge(status: u16, reply: &[u8]) -> (Option<u16>, bool, String) {
    if status != 200 {
        return (Some(status), false, format!("HTTP {status}"));
    }
    match tenpay_xml::XmlMap::parse(reply) {
        Ok(m) if m.get("return_code") == Some("SUCCESS") => {
            (Some(status), true, "acknowledged".into())
        }
        Ok(m) => (
            Some(status),
            false,
            format!("return_code={:?}", m.get("return_code").unwrap_or("")),
        ),
        Err(e) => (
            Some(status),
            false,
            format!("reply is not a WeChat Pay ack: {e}"),
        ),
    }
}

/// How long to wait for a merchant's reply before counting the attempt as failed.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
