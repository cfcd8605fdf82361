//! The v3 paths: the request's `Authorization` checked, the call run against the same
//! orders and refunds as V2, the answer signed.

use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};
use tenpay_sign_v3::{Authorization, VerifyError};
use tenpay_xml::Fen;

use super::{V3Signing, refund_json, transaction_json};
use crate::clock::{compact, now_unix};
use crate::ids::random_u64;
use crate::model::{FaultKind, MerchantAccount};
use crate::protocol::{Engine, RefundRefusal};
use crate::state::{Order, OrderKey, TradeState};

/// A v3 answer: status, JSON body (empty for 204) and whether it is signed.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// A v3 error answer.
struct Refused {
    status: StatusCode,
    code: &'static str,
    message: String,
    detail: Option<Value>,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        status,
        code,
        message: message.into(),
        detail: None,
    }
}

fn param(message: impl Into<String>) -> Refused {
    refuse(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
}

/// A v3 answer's body: JSON, none (204), or a file (the unsigned bill download).
enum Body {
    Json(Value),
    Empty,
    File(Vec<u8>),
}

type Outcome = Result<(StatusCode, Body), Refused>;

/// The name faults are injected under for a v3 path (`v3/jsapi`, `v3/refunds`, …).
pub(crate) fn fault_name(path: &str) -> &'static str {
    let p = path.trim_end_matches('/');
    if p.ends_with("/close") {
        "v3/close"
    } else if p.starts_with("/v3/pay/transactions/out-trade-no/")
        || p.starts_with("/v3/pay/transactions/id/")
    {
        "v3/transactions"
    } else if p.starts_with("/v3/refund/domestic/refunds") {
        "v3/refunds"
    } else {
        match p {
            "/v3/pay/transactions/jsapi" => "v3/jsapi",
            "/v3/pay/transactions/app" => "v3/app",
            "/v3/pay/transactions/h5" => "v3/h5",
            "/v3/pay/transactions/native" => "v3/native",
            "/v3/certificates" => "v3/certificates",
            "/v3/bill/tradebill" | "/v3/bill/fundflowbill" => "v3/bill",
            "/v3/billdownload/file" => "v3/billdownload",
            _ => "v3/other",
        }
    }
}

/// Answers one v3 request. `fault`: the injected fault that changes the answer itself
/// (the transport faults are the listener's).
pub(crate) fn answer(
    engine: &Arc<Engine>,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    fault: Option<&FaultKind>,
) -> Answer {
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let (signing, outcome) = match authorize(engine, method, path_and_query, headers, body) {
        Err(r) => (V3Signing::Certificate, Err(r)),
        Ok(merchant) => {
            let account_signing = merchant.v3.as_ref().map(|v| v.signing).unwrap_or_default();
            // The migration's second bar: a request naming the public key gets an answer
            // signed with it.
            let named = headers
                .get(tenpay_sign_v3::header::SERIAL)
                .and_then(|v| v.to_str().ok())
                == Some(super::PUBLIC_KEY_ID);
            let signing = if named {
                V3Signing::PublicKey
            } else {
                account_signing
            };
            let outcome = match fault {
                Some(FaultKind::SystemError) => Err(system_error()),
                Some(FaultKind::BusinessError { err_code }) => Err(Refused {
                    status: StatusCode::BAD_REQUEST,
                    code: "INVALID_REQUEST",
                    message: format!("{err_code}: injected by the simulator"),
                    detail: None,
                }),
                Some(FaultKind::SystemErrorAfterProcessing) => {
                    let _ = route(engine, merchant, method, path_and_query, body, &host);
                    Err(system_error())
                }
                _ => route(engine, merchant, method, path_and_query, body, &host),
            };
            (signing, outcome)
        }
    };
    let (status, body, signed) = match outcome {
        Ok((status, Body::Json(v))) => (status, v.to_string().into_bytes(), true),
        Ok((status, Body::Empty)) => (status, Vec::new(), true),
        // The bill file is not signed: its integrity is the hash the bill call gave.
        Ok((status, Body::File(bytes))) => (status, bytes, false),
        Err(r) => {
            let mut v = json!({ "code": r.code, "message": r.message });
            if let Some(d) = r.detail {
                v["detail"] = d;
            }
            (r.status, v.to_string().into_bytes(), true)
        }
    };
    let mut headers = if signed {
        engine.platform.sign(signing, &body)
    } else {
        Vec::new()
    };
    headers.push((
        "Request-ID",
        format!("{:016X}{:016X}", random_u64(), random_u64()),
    ));
    if matches!(fault, Some(FaultKind::BadSignature))
        && let Some((_, sig)) = headers
            .iter_mut()
            .find(|(n, _)| *n == tenpay_sign_v3::header::SIGNATURE)
    {
        // Another message's signature: well formed, wrong.
        *sig = engine
            .platform
            .sign(signing, b"{\"forged\":true}")
            .into_iter()
            .find(|(n, _)| *n == tenpay_sign_v3::header::SIGNATURE)
            .map(|(_, s)| s)
            .unwrap_or_default();
    }
    Answer {
        status,
        body,
        headers,
    }
}

fn system_error() -> Refused {
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "SYSTEM_ERROR",
        "系统错误",
    )
}

/// Checks `Authorization` against the merchant's API certificate.
fn authorize<'e>(
    engine: &'e Engine,
    method: &Method,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<&'e MerchantAccount, Refused> {
    let sign_error = |issue: String| Refused {
        status: StatusCode::UNAUTHORIZED,
        code: "SIGN_ERROR",
        message: "错误的签名，验签失败".into(),
        detail: Some(json!({
            "field": "signature",
            "location": "authorization",
            "detail": { "issue": issue },
            "sign_information": {
                "method": method.as_str(),
                "url": url,
                "sign_message_length": 0,
            },
        })),
    };
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| sign_error("no Authorization header".into()))?;
    let auth = Authorization::parse(header).map_err(|e| sign_error(e.to_string()))?;
    let merchant = engine
        .merchant(auth.mchid())
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "商户号不存在"))?;
    let account = merchant.v3.as_ref().ok_or_else(|| {
        sign_error("this merchant has no API v3 certificate in the simulator".into())
    })?;
    if auth.serial() != &account.serial {
        return Err(sign_error(format!(
            "serial_no {} is not this merchant's API certificate ({})",
            auth.serial(),
            account.serial
        )));
    }
    let now = u64::try_from(now_unix()).unwrap_or(0);
    match auth.verify(&account.public_key, method.as_str(), url, body, now) {
        Ok(()) => Ok(merchant),
        Err(VerifyError::ClockSkew { .. }) => Err(sign_error("timestamp expired".into())),
        Err(_) => {
            let message = tenpay_sign_v3::request_message(
                method.as_str(),
                url,
                auth.timestamp(),
                auth.nonce(),
                body,
            );
            let mut refused = sign_error("sign not match".into());
            if let Some(d) = refused.detail.as_mut() {
                d["sign_information"]["sign_message_length"] = json!(message.len());
                d["sign_information"]["truncated_sign_message"] =
                    json!(String::from_utf8_lossy(&message[..message.len().min(120)]));
            }
            Err(refused)
        }
    }
}

fn route(
    engine: &Arc<Engine>,
    merchant: &MerchantAccount,
    method: &Method,
    url: &str,
    body: &[u8],
    host: &str,
) -> Outcome {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query_value = |name: &str| {
        query.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        })
    };
    let json_body = || -> Result<Value, Refused> {
        serde_json::from_slice(body).map_err(|_| param("请求体不是合法的JSON"))
    };
    let decoded: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    match (method, segments.as_slice()) {
        (
            &Method::POST,
            [
                "v3",
                "pay",
                "transactions",
                kind @ ("jsapi" | "app" | "h5" | "native"),
            ],
        ) => create(engine, Payee::direct(merchant), kind, &json_body()?),
        (
            &Method::POST,
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                kind @ ("jsapi" | "app" | "h5" | "native"),
            ],
        ) => {
            let b = json_body()?;
            let payee = Payee::partner(merchant, b["sp_mchid"].as_str(), b["sub_mchid"].as_str())?;
            create(engine, payee, kind, &b)
        }
        (
            &Method::GET,
            [
                "v3",
                "pay",
                "transactions",
                by @ ("out-trade-no" | "id"),
                no,
            ],
        ) => {
            if query_value("mchid").as_deref() != Some(merchant.mch_id()) {
                return Err(param("mchid与请求方不一致"));
            }
            query_order(engine, Payee::direct(merchant), *by == "id", no)
        }
        (
            &Method::GET,
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                by @ ("out-trade-no" | "id"),
                no,
            ],
        ) => {
            let payee = Payee::partner(
                merchant,
                query_value("sp_mchid").as_deref(),
                query_value("sub_mchid").as_deref(),
            )?;
            query_order(engine, payee, *by == "id", no)
        }
        (&Method::POST, ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
            let b = json_body()?;
            if b["mchid"].as_str() != Some(merchant.mch_id()) {
                return Err(param("mchid与请求方不一致"));
            }
            close(engine, Payee::direct(merchant), no)
        }
        (
            &Method::POST,
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                "out-trade-no",
                no,
                "close",
            ],
        ) => {
            let b = json_body()?;
            let payee = Payee::partner(merchant, b["sp_mchid"].as_str(), b["sub_mchid"].as_str())?;
            close(engine, payee, no)
        }
        (&Method::POST, ["v3", "refund", "domestic", "refunds"]) => {
            let b = json_body()?;
            let payee = match b["sub_mchid"].as_str() {
                Some(sub) => Payee::partner(merchant, Some(merchant.mch_id()), Some(sub))?,
                None => Payee::direct(merchant),
            };
            refund(engine, payee, &b)
        }
        (&Method::GET, ["v3", "refund", "domestic", "refunds", no]) => {
            let payee = match query_value("sub_mchid") {
                Some(sub) => Payee::partner(merchant, Some(merchant.mch_id()), Some(&sub))?,
                None => Payee::direct(merchant),
            };
            query_refund(engine, payee, no)
        }
        (&Method::GET, ["v3", "certificates"]) => certificates(engine, merchant),
        (&Method::GET, ["v3", "bill", kind @ ("tradebill" | "fundflowbill")]) => {
            bill(engine, merchant, kind, &query_value, host)
        }
        (&Method::GET, ["v3", "billdownload", "file"]) => {
            let token = query_value("token").unwrap_or_default();
            engine
                .v3_bills
                .take(merchant.mch_id(), &token)
                .map(|bytes| (StatusCode::OK, Body::File(bytes)))
                .ok_or_else(|| {
                    refuse(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_EXISTS",
                        "下载链接无效或已过期",
                    )
                })
        }
        _ => Err(refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "接口不存在")),
    }
}

/// Whose order: a direct merchant's, or a service provider's sub-merchant's (the
/// `/partner/` paths, or `sub_mchid` on refunds).
#[derive(Clone, Copy)]
struct Payee<'m> {
    merchant: &'m MerchantAccount,
    sub: Option<&'m crate::SubMerchant>,
}

impl<'m> Payee<'m> {
    fn direct(merchant: &'m MerchantAccount) -> Self {
        Self {
            merchant,
            sub: None,
        }
    }

    /// A sub-merchant of the calling service provider.
    fn partner(
        merchant: &'m MerchantAccount,
        sp_mchid: Option<&str>,
        sub_mchid: Option<&str>,
    ) -> Result<Self, Refused> {
        if sp_mchid != Some(merchant.mch_id()) {
            return Err(param("sp_mchid与请求方的商户号不一致"));
        }
        let sub = merchant
            .subs
            .iter()
            .find(|s| Some(s.sub_mch_id.as_str()) == sub_mchid)
            .ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "sub_mchid不是该服务商的特约商户",
                )
            })?;
        Ok(Self {
            merchant,
            sub: Some(sub),
        })
    }

    fn key(&self, out_trade_no: &str) -> OrderKey {
        (
            self.merchant.mch_id().to_owned(),
            self.sub.map(|s| s.sub_mch_id.clone()).unwrap_or_default(),
            out_trade_no.to_owned(),
        )
    }

    fn owns(&self, order: &Order) -> bool {
        order.mch_id == self.merchant.mch_id()
            && order.sub_mch_id.as_deref() == self.sub.map(|s| s.sub_mch_id.as_str())
    }
}

fn valid_out_trade_no(no: &str) -> bool {
    (6..=32).contains(&no.len())
        && no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
}

fn amount(v: &Value) -> Option<Fen> {
    v.as_u64()
        .map(Fen::new)
        .filter(|f| !f.is_zero() && *f <= crate::protocol::rules::MAX_FEE)
}

fn create(engine: &Arc<Engine>, payee: Payee<'_>, kind: &str, b: &Value) -> Outcome {
    let merchant = payee.merchant;
    let (mchid_field, appid_field) = if payee.sub.is_some() {
        ("sp_mchid", "sp_appid")
    } else {
        ("mchid", "appid")
    };
    if b[mchid_field].as_str() != Some(merchant.mch_id()) {
        return Err(param(format!("{mchid_field}与请求方的商户号不一致")));
    }
    if b[appid_field].as_str() != Some(merchant.appid()) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            "AppID和mch_id不匹配",
        ));
    }
    let sub_appid = b["sub_appid"].as_str();
    if let Some(sub) = payee.sub
        && sub_appid.is_some()
        && sub.sub_appid.as_deref() != sub_appid
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            "sub_appid和sub_mchid不匹配",
        ));
    }
    let description = b["description"].as_str().unwrap_or_default();
    if description.is_empty() || description.len() > 127 {
        return Err(param("description为必填，长度不超过127字节"));
    }
    let out_trade_no = b["out_trade_no"].as_str().unwrap_or_default();
    if !valid_out_trade_no(out_trade_no) {
        return Err(param("out_trade_no须为6到32位数字、大小写字母或_-|*"));
    }
    let notify_url = b["notify_url"].as_str().unwrap_or_default();
    if let Err(why) = engine.check_notify_url(notify_url) {
        return Err(param(why.to_string()));
    }
    let total =
        amount(&b["amount"]["total"]).ok_or_else(|| param("amount.total须为正整数，单位为分"))?;
    let currency = b["amount"]["currency"].as_str().unwrap_or("CNY");
    if currency != "CNY" {
        return Err(param("境内商户仅支持人民币CNY"));
    }
    let (openid, sub_openid) = if payee.sub.is_some() {
        (
            b["payer"]["sp_openid"].as_str(),
            b["payer"]["sub_openid"].as_str(),
        )
    } else {
        (b["payer"]["openid"].as_str(), None)
    };
    if kind == "jsapi" && openid.is_none() && sub_openid.is_none() {
        return Err(param(
            "JSAPI下单须传payer.openid（服务商：sp_openid或sub_openid）",
        ));
    }
    if sub_openid.is_some() && sub_appid.is_none() {
        return Err(param("传sub_openid时须传sub_appid"));
    }
    if kind == "h5"
        && (b["scene_info"]["payer_client_ip"].as_str().is_none()
            || b["scene_info"]["h5_info"]["type"].as_str().is_none())
    {
        return Err(param(
            "H5下单须传scene_info.payer_client_ip和scene_info.h5_info.type",
        ));
    }
    let fingerprint: [u8; 16] = {
        let mut without_time = b.clone();
        if let Some(o) = without_time.as_object_mut() {
            o.remove("time_start");
        }
        Md5::digest(without_time.to_string().as_bytes()).into()
    };
    let trade_type = match kind {
        "jsapi" => "JSAPI",
        "app" => "APP",
        "h5" => "MWEB",
        _ => "NATIVE",
    };
    let key = payee.key(out_trade_no);
    let mut state = engine.lock();
    if let Some(existing) = state.order(&key) {
        return match existing.state {
            TradeState::Success | TradeState::Refund => {
                Err(refuse(StatusCode::FORBIDDEN, "ORDERPAID", "该订单已支付"))
            }
            TradeState::Closed | TradeState::Revoked => Err(refuse(
                StatusCode::BAD_REQUEST,
                "ORDER_CLOSED",
                "该订单已关闭",
            )),
            _ if existing.fingerprint != fingerprint || !existing.v3 => Err(refuse(
                StatusCode::FORBIDDEN,
                "OUT_TRADE_NO_USED",
                "商户订单号重复",
            )),
            _ => Ok((StatusCode::OK, Body::Json(prepay_answer(existing)))),
        };
    }
    let now = now_unix();
    let mut order = Order::blank(
        merchant.mch_id(),
        merchant.appid(),
        out_trade_no,
        trade_type,
        total,
        TradeState::NotPay,
    );
    order.v3 = true;
    order.fingerprint = fingerprint;
    order.body = description.to_owned();
    order.attach = b["attach"].as_str().map(str::to_owned);
    order.openid = openid.map(str::to_owned);
    order.sub_openid = sub_openid.map(str::to_owned);
    order.sub_mch_id = payee.sub.map(|s| s.sub_mch_id.clone());
    order.sub_appid = sub_appid.map(str::to_owned);
    order.notify_url = Some(notify_url.to_owned());
    order.profit_sharing = b["settle_info"]["profit_sharing"].as_bool() == Some(true);
    let prepay_id = format!("wx{}{:016x}", compact(now), random_u64());
    match trade_type {
        "NATIVE" => {
            order.code_url = Some(format!(
                "weixin://wxpay/bizpayurl?pr={:08x}",
                random_u64() % (1 << 32)
            ));
        }
        "MWEB" => {
            order.mweb_url = Some(format!(
                "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package={}",
                random_u64() % 10_000_000_000
            ));
        }
        _ => {}
    }
    order.prepay_id = Some(prepay_id);
    let answer = prepay_answer(&order);
    state.insert_order(key, order);
    Ok((StatusCode::OK, Body::Json(answer)))
}

fn prepay_answer(order: &Order) -> Value {
    match order.trade_type.as_str() {
        "NATIVE" => json!({ "code_url": order.code_url }),
        "MWEB" => json!({ "h5_url": order.mweb_url }),
        _ => json!({ "prepay_id": order.prepay_id }),
    }
}

fn query_order(engine: &Engine, payee: Payee<'_>, by_id: bool, no: &str) -> Outcome {
    let mut state = engine.lock();
    let found = if by_id {
        state.find_order(&payee.key(""), Some(no))
    } else {
        state.order_mut(&payee.key(no))
    };
    let order = found
        .filter(|o| payee.owns(o))
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
    Ok((StatusCode::OK, Body::Json(transaction_json(order))))
}

fn close(engine: &Engine, payee: Payee<'_>, no: &str) -> Outcome {
    let mut state = engine.lock();
    let order = state
        .order_mut(&payee.key(no))
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
    match order.state {
        TradeState::Success | TradeState::Refund => Err(refuse(
            StatusCode::BAD_REQUEST,
            "ORDERPAID",
            "订单已支付，不能关闭",
        )),
        _ => {
            order.state = TradeState::Closed;
            Ok((StatusCode::NO_CONTENT, Body::Empty))
        }
    }
}

fn refund(engine: &Arc<Engine>, payee: Payee<'_>, b: &Value) -> Outcome {
    let out_refund_no = b["out_refund_no"].as_str().unwrap_or_default();
    if !(1..=64).contains(&out_refund_no.len())
        || !out_refund_no
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_-|*@".contains(&c))
    {
        return Err(param("out_refund_no须为1到64位数字、大小写字母或_-|*@"));
    }
    let (Some(refund_fee), Some(total)) = (
        amount(&b["amount"]["refund"]),
        amount(&b["amount"]["total"]),
    ) else {
        return Err(param("amount.refund和amount.total须为正整数，单位为分"));
    };
    if b["amount"]["currency"].as_str() != Some("CNY") {
        return Err(param("amount.currency须为CNY"));
    }
    let notify_url = b["notify_url"].as_str().map(str::to_owned);
    if let Some(url) = &notify_url
        && let Err(why) = engine.check_notify_url(url)
    {
        return Err(param(why.to_string()));
    }
    let transaction_id = b["transaction_id"].as_str();
    let out_trade_no = b["out_trade_no"].as_str().unwrap_or_default();
    if transaction_id.is_none() && out_trade_no.is_empty() {
        return Err(param("transaction_id和out_trade_no须二选一"));
    }
    let mut state = engine.lock();
    let order = state
        .find_order(&payee.key(out_trade_no), transaction_id)
        .filter(|o| payee.owns(o))
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在"))?;
    if !matches!(order.state, TradeState::Success | TradeState::Refund) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "INVALID_REQUEST",
            "订单未支付，不能退款",
        ));
    }
    if total != order.total_fee {
        return Err(param("amount.total与订单金额不一致"));
    }
    let cap = order.total_fee;
    let refund = match engine.apply_refund(order, cap, out_refund_no, refund_fee, notify_url) {
        Ok(r) => r,
        Err(RefundRefusal::AmountChanged) => {
            return Err(param("同一out_refund_no的退款金额须一致"));
        }
        Err(RefundRefusal::TooMany) => {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "INVALID_REQUEST",
                "退款次数超过限制(50次)",
            ));
        }
        Err(RefundRefusal::TooMuch) => {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "NOT_ENOUGH",
                "累计退款金额大于支付金额",
            ));
        }
    };
    Ok((StatusCode::OK, Body::Json(refund_json(order, &refund))))
}

fn query_refund(engine: &Engine, payee: Payee<'_>, no: &str) -> Outcome {
    let state = engine.lock();
    state
        .orders()
        .filter(|o| payee.owns(o))
        .find_map(|o| {
            o.refunds
                .iter()
                .find(|r| r.out_refund_no == no)
                .map(|r| refund_json(o, r))
        })
        .map(|v| (StatusCode::OK, Body::Json(v)))
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"))
}

fn certificates(engine: &Engine, merchant: &MerchantAccount) -> Outcome {
    let Some(account) = merchant.v3.as_ref() else {
        return Err(system_error());
    };
    if matches!(account.signing, V3Signing::PublicKey) {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。",
        ));
    }
    let certs = engine.platform.certs();
    let mut data = Vec::new();
    for c in certs.iter() {
        let nonce: String = crate::ids::nonce().chars().take(12).collect();
        let sealed = tenpay_sign_v3::Resource::seal(
            &account.apiv3_key,
            &nonce,
            "certificate",
            None,
            c.pem.as_bytes(),
        )
        .map_err(|_| system_error())?;
        data.push(json!({
            "serial_no": c.serial,
            "effective_time": crate::clock::rfc3339(c.not_before),
            "expire_time": crate::clock::rfc3339(c.not_after),
            "encrypt_certificate": sealed,
        }));
    }
    Ok((StatusCode::OK, Body::Json(json!({ "data": data }))))
}

/// `GET /v3/bill/tradebill` and `/v3/bill/fundflowbill`: the day's bill (the same CSV as
/// V2's), kept behind a one-time `download_url` with the SHA-1 of the bill (of the
/// uncompressed text, as the official field description says; gzip on `tar_type=GZIP`).
fn bill(
    engine: &Engine,
    merchant: &MerchantAccount,
    kind: &str,
    query: &dyn Fn(&str) -> Option<String>,
    host: &str,
) -> Outcome {
    use sha1::Digest as _;
    let date = query("bill_date").unwrap_or_default();
    let day = (date.len() == 10)
        .then(|| format!("{}000000", date.replace('-', "")))
        .and_then(|t| t.parse::<tenpay_xml::BeijingTime>().ok())
        .map(|t| t.unix())
        .ok_or_else(|| param("bill_date须为yyyy-MM-dd"))?;
    let csv = {
        let state = engine.lock();
        if kind == "tradebill" {
            let bill_type = query("bill_type").unwrap_or_else(|| "ALL".into());
            if !["ALL", "SUCCESS", "REFUND"].contains(&bill_type.as_str()) {
                return Err(param("bill_type须为ALL、SUCCESS或REFUND"));
            }
            crate::protocol::bill::render::render(&state, merchant.mch_id(), &bill_type, day)
        } else {
            let account = match query("account_type").as_deref().unwrap_or("BASIC") {
                "BASIC" => "Basic",
                "OPERATION" => "Operation",
                "FEES" => "Fees",
                _ => return Err(param("account_type须为BASIC、OPERATION或FEES")),
            };
            crate::protocol::bill::render::render_fund_flow(&state, merchant.mch_id(), account, day)
        }
    }
    .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "NO_STATEMENT_EXIST", "账单不存在"))?;
    let hash = crate::ids::hex_upper(&sha1::Sha1::digest(csv.as_bytes())).to_ascii_lowercase();
    let gzip = query("tar_type").as_deref() == Some("GZIP");
    let file = if gzip {
        crate::protocol::bill::render::gzip(csv.as_bytes())
    } else {
        csv.into_bytes()
    };
    let token = engine.v3_bills.put(merchant.mch_id(), file);
    let mut url = format!("http://{host}/v3/billdownload/file?token={token}");
    if gzip {
        url.push_str("&tartype=gzip");
    }
    Ok((
        StatusCode::OK,
        Body::Json(json!({ "hash_type": "SHA1", "hash_value": hash, "download_url": url })),
    ))
}
