//! The API listener: WeChat Pay's paths, with injected faults, and `/_sim/` handed to the
//! control API and the dashboard.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::Site;
use super::body::{SimBody, respond};
use crate::model::FaultKind;
use crate::protocol::{Endpoint, Engine, Reply, Verdict, protocol_fail};

/// The `Drop` fault: the service fails, so hyper closes the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

pub(super) const XML: &str = "text/xml; charset=utf-8";

const HTML_PAGE: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";

/// What the connection carries: TLS or not, and the client certificate presented.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conn {
    pub(crate) tls: bool,
    pub(crate) peer_cert: Option<Vec<u8>>,
}

pub(crate) async fn handle(
    site: Arc<Site>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, Dropped> {
    let path = req.uri().path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return Ok(super::control::handle(&site, req).await);
    }
    let engine = &site.engine;
    if path.starts_with("/v3/") {
        return v3_request(engine, req).await;
    }
    if req.method() == Method::GET {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let query = req.uri().query().unwrap_or("");
        if let Some(page) = super::signing::page(engine, &path, query, host, conn.tls) {
            return Ok(page);
        }
    }
    let Some((endpoint, sandbox)) = Endpoint::route(&path, req.uri().query().unwrap_or("")) else {
        return Ok(respond(
            StatusCode::NOT_FOUND,
            XML,
            protocol_fail("接口不存在"),
        ));
    };
    let post = req.method() == Method::POST;
    let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(respond(
                StatusCode::OK,
                XML,
                protocol_fail("post数据过大或读取失败"),
            ));
        }
    };
    let fault = match before_processing(engine, endpoint.name(), XML, StatusCode::OK).await {
        Ok(fault) => fault,
        Err(answer) => return Ok(answer),
    };
    let reply = match engine.check(endpoint, sandbox, post, &body) {
        Err(Verdict::Protocol(msg)) => Reply::Xml(protocol_fail(&msg)),
        Err(_) => Reply::Xml(protocol_fail("系统错误")),
        Ok(checked)
            if endpoint.secapi() && !has_client_cert(engine, &conn, &checked.merchant.mch_id) =>
        {
            Reply::Xml(protocol_fail("证书错误：此接口需要商户API证书（双向TLS）"))
        }
        Ok(mut checked) => {
            if let Some(FaultKind::Settles { state, reason }) = &fault {
                checked.settles = Some((state.clone(), reason.clone()));
            }
            let verdict = match &fault {
                Some(FaultKind::SystemError) => {
                    Verdict::Business("SYSTEMERROR".into(), "系统繁忙，请稍后再试".into())
                }
                Some(FaultKind::BusinessError { err_code }) => {
                    Verdict::Business(err_code.clone(), "injected by the simulator".into())
                }
                Some(FaultKind::SystemErrorAfterProcessing) => {
                    let _ = engine.run(endpoint, &checked);
                    Verdict::Business("SYSTEMERROR".into(), "系统繁忙，请稍后再试".into())
                }
                _ => engine.run(endpoint, &checked),
            };
            engine.write(&checked, verdict)
        }
    };
    let (content_type, bytes) = match reply {
        Reply::Xml(x) => (XML, x.into_bytes()),
        Reply::Raw { content_type, body } => (content_type, body),
    };
    Ok(match fault {
        Some(FaultKind::Drop) => return Err(Dropped),
        Some(FaultKind::BadSignature) => respond(StatusCode::OK, content_type, corrupt_sign(bytes)),
        Some(FaultKind::Truncated) => {
            let half = bytes.len() / 2;
            let mut r = respond(StatusCode::OK, content_type, Bytes::new());
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            *r.body_mut() = SimBody::cut(Bytes::from(bytes).slice(..half));
            r
        }
        _ => respond(StatusCode::OK, content_type, bytes),
    })
}

/// Counts the call and takes its fault; the faults that answer before anything is processed
/// (HTTP 500, a proxy's HTML page with `html_status`) answer here, a delay waits here.
async fn before_processing(
    engine: &Engine,
    name: &'static str,
    content_type: &'static str,
    html_status: StatusCode,
) -> Result<Option<FaultKind>, Response<SimBody>> {
    let fault = {
        let mut state = engine.lock();
        state.count_call(name);
        state.take_fault(name)
    };
    match &fault {
        Some(FaultKind::Http500) => Err(respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            content_type,
            Bytes::new(),
        )),
        Some(FaultKind::Html) => Err(respond(html_status, "text/html; charset=utf-8", HTML_PAGE)),
        Some(FaultKind::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
            Ok(fault)
        }
        _ => Ok(fault),
    }
}

/// A v3 request: the same faults as V2's, on v3's wire (JSON, signed headers).
async fn v3_request(
    engine: &Arc<Engine>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, Dropped> {
    const JSON: &str = "application/json";
    let method = req.method().clone();
    let url = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let name = crate::v3::fault_name(req.uri().path());
    let (parts, body) = req.into_parts();
    let Ok(body) = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map(|b| b.to_bytes())
    else {
        return Ok(respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            JSON,
            r#"{"code":"PARAM_ERROR","message":"请求体过大或读取失败"}"#,
        ));
    };
    let fault = match before_processing(engine, name, JSON, StatusCode::BAD_GATEWAY).await {
        Ok(fault) => fault,
        Err(answer) => return Ok(answer),
    };
    let answer = crate::v3::answer(engine, &method, &url, &parts.headers, &body, fault.as_ref());
    let mut r = respond(answer.status, JSON, Bytes::new());
    for (name, value) in answer.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    match fault {
        Some(FaultKind::Drop) => return Err(Dropped),
        Some(FaultKind::Truncated) => {
            let half = answer.body.len() / 2;
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(answer.body.len()));
            *r.body_mut() = SimBody::cut(Bytes::from(answer.body).slice(..half));
        }
        _ => *r.body_mut() = SimBody::full(answer.body),
    }
    Ok(r)
}

/// Without TLS configured, calls that need a certificate (`/secapi/`, downloadfundflow) are
/// accepted on the plain listener (a convenience);
/// with TLS, they need the merchant's own client certificate on the TLS listener.
fn has_client_cert(engine: &Engine, conn: &Conn, mch_id: &str) -> bool {
    let Some(material) = &engine.tls else {
        return true;
    };
    let expected = material.identity(mch_id).map(|i| i.cert_der.as_slice());
    conn.tls && expected.is_some() && conn.peer_cert.as_deref() == expected
}

/// Flips the first character of the `<sign>` value.
fn corrupt_sign(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(b) = bytes
        .windows(6)
        .position(|w| w == b"<sign>")
        .and_then(|i| bytes.get_mut(i + 6))
    {
        *b = if *b == b'A' { b'B' } else { b'A' };
    }
    bytes
}

/// Serves connections until `shutdown` fires; with an acceptor, over TLS.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    site: Arc<Site>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut stopped = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let site = Arc::clone(&site);
        let stop = shutdown.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, site, Conn::default(), stop).await,
                Some(acceptor) => {
                    let Ok(Ok(stream)) = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    else {
                        return;
                    };
                    let peer_cert = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.to_vec());
                    serve_connection(
                        stream,
                        site,
                        Conn {
                            tls: true,
                            peer_cert,
                        },
                        stop,
                    )
                    .await;
                }
            }
        });
    }
}

async fn serve_connection<S>(
    stream: S,
    site: Arc<Site>,
    conn: Conn,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = Arc::new(conn);
    let service =
        hyper::service::service_fn(move |req| handle(Arc::clone(&site), Arc::clone(&conn), req));
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.as_mut().await;
        }
    }
}
