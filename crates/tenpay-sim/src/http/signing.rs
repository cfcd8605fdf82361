//! The papay signing pages, as WeChat Pay serves them: the official-account page a user's
//! browser opens (`entrustweb`), and the H5 request a merchant's server makes
//! (`h5entrustweb`, answered with XML and a `redirect_url`) with the page that URL opens.

use http::{Response, StatusCode};

use super::body::{SimBody, respond};
use super::server::XML;
use crate::protocol::{Engine, protocol_fail};

/// The page (or the H5 answer) for a GET of `path`, or `None` when `path` is not one of
/// them. `host` is the request's `Host` (the H5 answer's `redirect_url` points back at it).
pub(super) fn page(
    engine: &Engine,
    path: &str,
    query: &str,
    host: Option<&str>,
    tls: bool,
) -> Option<Response<SimBody>> {
    if SIGNING_PAGES.contains(&path) {
        if path.ends_with("/h5entrustweb") {
            let scheme = if tls { "https" } else { "http" };
            let base = format!("{scheme}://{}", host.unwrap_or("127.0.0.1"));
            return Some(h5_signing(engine, path, query, &base));
        }
        return Some(signing_page(engine, path, query));
    }
    (path == H5_SIGNING_PAGE).then(|| h5_signing_page(engine, query))
}

/// The papay signing pages a user's browser opens (the merchant's and a provider's).
const SIGNING_PAGES: &[&str] = &[
    "/papay/entrustweb",
    "/papay/h5entrustweb",
    "/papay/partner/entrustweb",
    "/papay/partner/h5entrustweb",
];

/// Where the H5 signing answer sends the user's browser.
const H5_SIGNING_PAGE: &str = "/papay/h5signing";

/// The H5 signing request, as the merchant's server makes it (a GET of the signed URL): the
/// signature is checked (HMAC-SHA256) and the signing waits for the user, and the answer is
/// XML naming the page to send the user to (`redirect_url`, on this simulator at `base`);
/// a bad URL is `return_code=FAIL`.
fn h5_signing(engine: &Engine, path: &str, query: &str, base: &str) -> Response<SimBody> {
    match engine.open_signing_url(&format!("{path}?{query}")) {
        Ok(()) => {
            let field = |name: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .unwrap_or("")
            };
            let mut m = tenpay_xml::XmlMap::new();
            let redirect = format!(
                "{base}{H5_SIGNING_PAGE}?mch_id={}&contract_code={}",
                field("mch_id"),
                field("contract_code")
            );
            for (k, v) in [
                ("return_code", "SUCCESS"),
                ("return_msg", "OK"),
                ("result_code", "SUCCESS"),
                ("result_msg", "OK"),
                ("redirect_url", redirect.as_str()),
            ] {
                let _ = m.insert(k, v);
            }
            respond(StatusCode::OK, XML, m.to_xml())
        }
        Err(_) => respond(StatusCode::OK, XML, protocol_fail("签名错误")),
    }
}

/// The page the H5 answer's `redirect_url` opens: the signing waiting for the user, or
/// WeChat Pay's error page when none waits.
fn h5_signing_page(engine: &Engine, query: &str) -> Response<SimBody> {
    let field = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    let (mch_id, code) = (field("mch_id"), field("contract_code"));
    if engine.signing_waits(&mch_id, &code) {
        waiting_page(&code)
    } else {
        error_page("签约请求已失效或不存在")
    }
}

/// A signing page, as the user's browser gets it: the URL's signature is checked (MD5, or
/// HMAC-SHA256 for the H5 pages) and the signing waits for the user, who signs on the
/// dashboard or through `SimHandle::sign_contract`; a bad URL gets WeChat Pay's error page.
fn signing_page(engine: &Engine, path: &str, query: &str) -> Response<SimBody> {
    match engine.open_signing_url(&format!("{path}?{query}")) {
        Ok(()) => {
            let code = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("contract_code="))
                .map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            waiting_page(&code)
        }
        Err(e) => error_page(&e.to_string()),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// WeChat Pay's signing page, waiting for the user to sign `code`.
fn waiting_page(code: &str) -> Response<SimBody> {
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微信支付 签约</title></head>\
         <body><h1>开通免密支付 (tenpay-sim)</h1><p>contract_code <code>{}</code> waits for the user: \
         sign it on the dashboard or with SimHandle::sign_contract.</p></body></html>",
        escape_html(code)
    );
    respond(StatusCode::OK, SIGNING_HTML, page)
}

/// WeChat Pay's error page (HTTP 400).
fn error_page(reason: &str) -> Response<SimBody> {
    respond(
        StatusCode::BAD_REQUEST,
        SIGNING_HTML,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微信支付</title></head>\
             <body><h1>参数错误</h1><p>{}</p></body></html>",
            escape_html(reason)
        ),
    )
}

const SIGNING_HTML: &str = "text/html; charset=utf-8";
