//! Test support: requests built by hand from the protocol reference, a raw HTTP client, and a
//! scriptable merchant notify endpoint.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{MerchantAccount, SimHandle, Simulator};
use tenpay_xml::XmlMap;

pub const APPID: &str = "wx2421b1c4370ec43b";
pub const MCH: &str = "10000100";
pub const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

pub fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

pub async fn sim() -> SimHandle {
    Simulator::builder()
        .merchant(
            MerchantAccount::new(APPID, MCH, key())
                .sub_merchant("1900000109", Some("wxsub0000000001".into())),
        )
        .merchant(MerchantAccount::new(
            "wx0000000000000002",
            "10000200",
            ApiKey::new("another-merchant-key-000000000000").unwrap(),
        ))
        .time_scale(1000)
        .delivery_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap()
}

/// A signed request body: the common fields plus `extra`.
pub fn body(extra: &[(&str, &str)], st: SignType, key: &ApiKey) -> Vec<u8> {
    let mut m = XmlMap::new();
    m.insert("appid", APPID).unwrap();
    m.insert("mch_id", MCH).unwrap();
    m.insert("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
        .unwrap();
    if st == SignType::HmacSha256 {
        m.insert("sign_type", "HMAC-SHA256").unwrap();
    }
    for (k, v) in extra {
        m.insert(k, v).unwrap();
    }
    m.sign(key, st).unwrap();
    m.to_xml().into_bytes()
}

pub async fn http(method: &str, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    http_with(method, url, body, &[]).await
}

/// As [`http`], with extra request headers.
pub async fn http_with(
    method: &str,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Result<(u16, Vec<u8>), String> {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(if path.is_empty() { "/" } else { path });
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req = req.header("host", authority);
    }
    // WeChat Pay's paths take XML; the control API's POSTs must be JSON.
    let content_type = if path.starts_with("/_sim/") {
        "application/json"
    } else {
        "text/xml"
    };
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req = req.header("content-type", content_type);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, bytes.to_vec()))
}

pub async fn post(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    http("POST", url, body).await.unwrap()
}

/// Calls an endpoint with a signed request and returns the answer, verifying its signature
/// (with the request's algorithm) whenever `return_code` is SUCCESS.
pub async fn call(sim: &SimHandle, path: &str, extra: &[(&str, &str)], st: SignType) -> XmlMap {
    let (status, reply) = post(
        &format!("{}{path}", sim.base_url()),
        body(extra, st, &key()),
    )
    .await;
    assert_eq!(status, 200, "{path}");
    let m = XmlMap::parse(&reply).unwrap();
    if m.get("return_code") == Some("SUCCESS") {
        m.verify(&key(), st)
            .unwrap_or_else(|e| panic!("{path}: answer signature: {e}"));
        assert!(!m.contains("sign_type"), "answers carry no sign_type");
        assert_eq!(m.get("appid"), Some(APPID));
        assert_eq!(m.get("mch_id"), Some(MCH));
        assert_eq!(m.get("nonce_str").map(str::len), Some(32));
    } else {
        assert!(!m.contains("sign"), "protocol failures are unsigned");
    }
    m
}

/// `err_code` of an MD5-signed call's answer (see [`call`] and [`err_code`]).
pub async fn md5_err_code(sim: &SimHandle, path: &str, extra: &[(&str, &str)]) -> Option<String> {
    err_code(&call(sim, path, extra, SignType::Md5).await).map(str::to_owned)
}

pub fn err_code(m: &XmlMap) -> Option<&str> {
    assert_eq!(m.get("return_code"), Some("SUCCESS"), "{m:?}");
    m.get("err_code")
}

/// How the fake merchant answers its next notification.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Ack,
    Fail,
    Html,
    Status500,
    Slow(u64),
}

/// A merchant notify endpoint on 127.0.0.1 that answers from a script (then acks).
#[derive(Clone)]
pub struct MerchantServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl MerchantServer {
    pub async fn start(script: &[Answer]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, script)
    }

    pub fn serve(listener: tokio::net::TcpListener, script: &[Answer]) -> Self {
        let addr = listener.local_addr().unwrap();
        let me = Self {
            addr,
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let server = me.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let server = server.clone();
                let svc = hyper::service::service_fn(
                    move |req: http::Request<hyper::body::Incoming>| {
                        let server = server.clone();
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                            server.received.lock().unwrap().push(body);
                            let answer = server
                                .script
                                .lock()
                                .unwrap()
                                .pop_front()
                                .unwrap_or(Answer::Ack);
                            let (status, text): (u16, &str) = match answer {
                                Answer::Ack => (
                                    200,
                                    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>",
                                ),
                                Answer::Fail => (
                                    200,
                                    "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[db down]]></return_msg></xml>",
                                ),
                                Answer::Html => (200, "<html><body>ok</body></html>"),
                                Answer::Status500 => (500, ""),
                                Answer::Slow(ms) => {
                                    tokio::time::sleep(Duration::from_millis(ms)).await;
                                    (
                                        200,
                                        "<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>",
                                    )
                                }
                            };
                            let mut r = http::Response::new(Full::new(Bytes::from(text)));
                            *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(r)
                        }
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc),
                );
            }
        });
        me
    }

    pub fn url(&self) -> String {
        format!("http://{}/wechat/notify", self.addr)
    }
}

/// Polls until `f` holds or the timeout passes.
pub async fn eventually(timeout_ms: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
    while tokio::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    f()
}

/// A unifiedorder request's fields for an order.
pub fn order_fields<'a>(
    out_trade_no: &'a str,
    trade_type: &'a str,
    notify_url: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("body", "腾讯充值中心-QQ会员充值"),
        ("out_trade_no", out_trade_no),
        ("total_fee", "888"),
        ("spbill_create_ip", "123.12.12.123"),
        ("notify_url", notify_url),
        ("trade_type", trade_type),
        ("device_info", "WEB"),
        ("attach", "深圳分店"),
    ];
    match trade_type {
        "JSAPI" => v.push(("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")),
        "NATIVE" => v.push(("product_id", "12235413214070356458058")),
        "MWEB" => v.push((
            "scene_info",
            r#"{"h5_info":{"type":"Wap","wap_url":"https://pay.qq.com","wap_name":"腾讯充值"}}"#,
        )),
        _ => {}
    }
    v
}
