//! The protocol side: request checks, the order state machine, signed answers.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{BeijingDateTime, BeijingTime, Fen, XmlMap};

use crate::ids::{nonce, now_unix, random_u64, seq};
use crate::model::{DeliveryKind, Merchant, PayOptions};
use crate::state::{MicropayPlan, Order, OrderKey, Refund, State, TradeState};

/// The endpoints, by their production path (without a sandbox prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    UnifiedOrder,
    OrderQuery,
    CloseOrder,
    Refund,
    RefundQuery,
    DownloadBill,
    DownloadFundFlow,
    Micropay,
    Reverse,
    AuthCodeToOpenid,
    GetSignKey,
}

impl Endpoint {
    /// The endpoint for a path and whether it was under a sandbox prefix.
    pub(crate) fn route(path: &str) -> Option<(Self, bool)> {
        if path == "/sandboxnew/pay/getsignkey" || path == "/xdc/apiv2getsignkey/sign/getsignkey" {
            return Some((Self::GetSignKey, false));
        }
        let (rest, sandbox) = match path
            .strip_prefix("/sandboxnew")
            .or_else(|| path.strip_prefix("/xdc/apiv2sandbox"))
        {
            Some(rest) => (rest, true),
            None => (path, false),
        };
        let e = match rest {
            "/pay/unifiedorder" => Self::UnifiedOrder,
            "/pay/orderquery" => Self::OrderQuery,
            "/pay/closeorder" => Self::CloseOrder,
            // GOPAY uses /sandboxnew/pay/refund; accept it in the sandbox.
            "/secapi/pay/refund" => Self::Refund,
            "/pay/refund" if sandbox => Self::Refund,
            "/pay/refundquery" => Self::RefundQuery,
            "/pay/downloadbill" => Self::DownloadBill,
            "/pay/downloadfundflow" => Self::DownloadFundFlow,
            "/pay/micropay" => Self::Micropay,
            "/secapi/pay/reverse" => Self::Reverse,
            "/tools/authcodetoopenid" => Self::AuthCodeToOpenid,
            _ => return None,
        };
        Some((e, sandbox))
    }

    /// Whether the endpoint needs the merchant's client certificate.
    pub(crate) fn secapi(self) -> bool {
        matches!(self, Self::Refund | Self::Reverse | Self::DownloadFundFlow)
    }

    /// The name used for faults and call counts.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::UnifiedOrder => "unifiedorder",
            Self::OrderQuery => "orderquery",
            Self::CloseOrder => "closeorder",
            Self::Refund => "refund",
            Self::RefundQuery => "refundquery",
            Self::DownloadBill => "downloadbill",
            Self::DownloadFundFlow => "downloadfundflow",
            Self::Micropay => "micropay",
            Self::Reverse => "reverse",
            Self::AuthCodeToOpenid => "authcodetoopenid",
            Self::GetSignKey => "getsignkey",
        }
    }
}

/// What to send back.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An XML body (HTTP 200).
    Xml(String),
    /// Raw bytes (bills), HTTP 200.
    Raw {
        content_type: &'static str,
        body: Vec<u8>,
    },
}

/// WeChat Pay's notify retry intervals after the first attempt, in seconds.
pub(crate) const RETRY_SCHEDULE: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

pub(crate) struct Engine {
    pub(crate) merchants: Vec<Merchant>,
    pub(crate) state: Mutex<State>,
    pub(crate) scale: u32,
    pub(crate) allow_any_notify_url: bool,
    pub(crate) started: Instant,
    pub(crate) delivery_timeout: Duration,
    pub(crate) tls: Option<crate::tls::TlsMaterial>,
    /// For `https://` notify URLs.
    pub(crate) notify_tls: Arc<rustls::ClientConfig>,
}

/// A request that passed the protocol checks.
pub(crate) struct Req<'a> {
    pub(crate) map: XmlMap,
    pub(crate) merchant: &'a Merchant,
    pub(crate) sign_type: SignType,
    pub(crate) sandbox: bool,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
}

impl Req<'_> {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).filter(|v| !v.is_empty())
    }

    fn key(&self) -> &ApiKey {
        if self.sandbox {
            &self.merchant.sandbox_key
        } else {
            &self.merchant.key
        }
    }

    fn order_key(&self, out_trade_no: &str) -> OrderKey {
        (
            self.merchant.mch_id.clone(),
            self.sub_mch_id.clone().unwrap_or_default(),
            out_trade_no.to_owned(),
        )
    }

    /// The order a request is about: its key and the `transaction_id` (which takes precedence
    /// when given), or the protocol error when it names neither.
    fn order_ref(&self) -> Result<(OrderKey, Option<&str>), Verdict> {
        let out_trade_no = self.get("out_trade_no").unwrap_or_default();
        let transaction_id = self.get("transaction_id");
        if out_trade_no.is_empty() && transaction_id.is_none() {
            return Err(Verdict::Protocol("缺少参数out_trade_no".into()));
        }
        Ok((self.order_key(out_trade_no), transaction_id))
    }
}

/// An endpoint's verdict before it is written.
pub(crate) enum Verdict {
    /// `return_code=FAIL` with this message, unsigned.
    Protocol(String),
    /// `result_code=FAIL` with `err_code` and description, signed.
    Business(String, String),
    /// Success fields, signed.
    Ok(Vec<(String, String)>),
    /// A body that is not the usual envelope (bills, bill errors, the sandbox key).
    Reply(Reply),
}

fn ok<I, K, V>(fields: I) -> Verdict
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Verdict::Ok(
        fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
    )
}

fn biz(code: &str, des: impl Into<String>) -> Verdict {
    Verdict::Business(code.to_owned(), des.into())
}

/// `return_code=FAIL` as the server writes it (no signature).
pub(crate) fn protocol_fail(msg: &str) -> String {
    let mut m = XmlMap::new();
    let _ = m.insert("return_code", "FAIL");
    let _ = m.insert("return_msg", msg);
    m.to_xml()
}

impl Engine {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves state a test will look at; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn scaled(&self, secs: u64) -> Duration {
        Duration::from_millis(secs.saturating_mul(1000) / u64::from(self.scale.max(1)))
    }

    pub(crate) fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The protocol checks every endpoint shares; `Err` is a `return_code=FAIL` message.
    pub(crate) fn check<'a>(
        &'a self,
        endpoint: Endpoint,
        sandbox: bool,
        post: bool,
        body: &[u8],
    ) -> Result<Req<'a>, String> {
        if !post {
            return Err("请使用post方法".into());
        }
        if body.is_empty() {
            return Err("post数据为空".into());
        }
        let map = XmlMap::parse(body).map_err(|e| match e {
            tenpay_xml::Error::NotUtf8 { .. } => "编码格式错误，请使用UTF-8编码".to_owned(),
            _ => "XML格式错误".to_owned(),
        })?;
        let get = |name: &str| map.get(name).filter(|v| !v.is_empty());
        let sign_type = match get("sign_type") {
            None => SignType::Md5,
            Some(s) => s
                .parse::<SignType>()
                .map_err(|_| "sign_type参数错误".to_owned())?,
        };
        if (sandbox || endpoint == Endpoint::GetSignKey) && !matches!(sign_type, SignType::Md5) {
            return Err("沙箱环境仅支持MD5签名".into());
        }
        // The fund flow takes HMAC-SHA256 only (the simulator's wording).
        if endpoint == Endpoint::DownloadFundFlow && !matches!(sign_type, SignType::HmacSha256) {
            return Err("sign_type参数错误，仅支持HMAC-SHA256".into());
        }
        let mch_id = get("mch_id").ok_or("缺少参数mch_id")?;
        let merchant = self
            .merchants
            .iter()
            .find(|m| m.mch_id == mch_id)
            .ok_or("商户号mch_id不存在")?;
        if endpoint != Endpoint::GetSignKey {
            let appid = get("appid").ok_or("缺少参数appid")?;
            if appid != merchant.appid {
                return Err("appid和mch_id不匹配".into());
            }
        }
        let sub_mch_id = get("sub_mch_id").map(str::to_owned);
        let sub_appid = get("sub_appid").map(str::to_owned);
        if let Some(sub) = &sub_mch_id {
            let found = merchant
                .subs
                .iter()
                .find(|s| &s.sub_mch_id == sub)
                .ok_or("sub_mch_id与mch_id不匹配")?;
            if sub_appid.is_some() && sub_appid != found.sub_appid {
                return Err("sub_appid和sub_mch_id不匹配".into());
            }
        } else if sub_appid.is_some() {
            return Err("缺少参数sub_mch_id".into());
        }
        let nonce_str = get("nonce_str").ok_or("缺少参数nonce_str")?;
        if nonce_str.chars().count() > 32 {
            return Err("nonce_str参数长度有误".into());
        }
        get("sign").ok_or("缺少参数sign")?;
        let key = if sandbox {
            &merchant.sandbox_key
        } else {
            &merchant.key
        };
        map.verify(key, sign_type)
            .map_err(|_| "签名错误".to_owned())?;
        Ok(Req {
            map,
            merchant,
            sign_type,
            sandbox,
            sub_mch_id,
            sub_appid,
        })
    }

    /// Writes a verdict: protocol failures unsigned, everything else signed with the request's
    /// algorithm, a fresh nonce and no `sign_type` field.
    pub(crate) fn write(&self, req: &Req<'_>, verdict: Verdict) -> Reply {
        let (result_code, err, fields) = match verdict {
            Verdict::Protocol(msg) => return Reply::Xml(protocol_fail(&msg)),
            Verdict::Reply(r) => return r,
            Verdict::Business(code, des) => ("FAIL", Some((code, des)), Vec::new()),
            Verdict::Ok(fields) => ("SUCCESS", None, fields),
        };
        let mut m = XmlMap::new();
        let mut put = |k: &str, v: &str| {
            let _ = m.insert(k, v);
        };
        put("return_code", "SUCCESS");
        put("return_msg", "OK");
        put("appid", &req.merchant.appid);
        put("mch_id", &req.merchant.mch_id);
        if let Some(s) = &req.sub_appid {
            put("sub_appid", s);
        }
        if let Some(s) = &req.sub_mch_id {
            put("sub_mch_id", s);
        }
        put("nonce_str", &nonce());
        put("result_code", result_code);
        if let Some((code, des)) = &err {
            put("err_code", code);
            put("err_code_des", des);
        }
        for (k, v) in &fields {
            put(k, v);
        }
        let _ = m.sign(req.key(), req.sign_type);
        Reply::Xml(m.to_xml())
    }

    /// Runs an endpoint on a checked request.
    pub(crate) fn run(self: &Arc<Self>, endpoint: Endpoint, req: &Req<'_>) -> Verdict {
        let missing = |names: &[&str]| {
            names
                .iter()
                .find(|n| req.get(n).is_none())
                .map(|n| Verdict::Protocol(format!("缺少参数{n}")))
        };
        match endpoint {
            Endpoint::UnifiedOrder => missing(&[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "notify_url",
                "trade_type",
            ])
            .unwrap_or_else(|| self.unified_order(req)),
            Endpoint::OrderQuery => self.order_query(req),
            Endpoint::CloseOrder => {
                missing(&["out_trade_no"]).unwrap_or_else(|| self.close_order(req))
            }
            Endpoint::Refund => missing(&["out_refund_no", "total_fee", "refund_fee"])
                .unwrap_or_else(|| self.refund(req)),
            Endpoint::RefundQuery => self.refund_query(req),
            Endpoint::DownloadBill => {
                missing(&["bill_date"]).unwrap_or_else(|| self.download_bill(req))
            }
            Endpoint::DownloadFundFlow => missing(&["bill_date", "account_type"])
                .unwrap_or_else(|| self.download_fund_flow(req)),
            Endpoint::Micropay => missing(&[
                "body",
                "out_trade_no",
                "total_fee",
                "spbill_create_ip",
                "auth_code",
            ])
            .unwrap_or_else(|| self.micropay(req)),
            Endpoint::Reverse => self.reverse(req),
            Endpoint::AuthCodeToOpenid => {
                missing(&["auth_code"]).unwrap_or_else(|| auth_code_to_openid(req))
            }
            Endpoint::GetSignKey => {
                let mut m = XmlMap::new();
                let _ = m.insert("return_code", "SUCCESS");
                let _ = m.insert("return_msg", "ok");
                let _ = m.insert("mch_id", &req.merchant.mch_id);
                let _ = m.insert("sandbox_signkey", req.merchant.sandbox_key.expose_secret());
                Verdict::Reply(Reply::Xml(m.to_xml()))
            }
        }
    }

    fn unified_order(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (out_trade_no, total_fee) = match common_order_fields(req, 5) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let trade_type = req.get("trade_type").unwrap_or_default();
        if !["JSAPI", "NATIVE", "APP", "MWEB"].contains(&trade_type) {
            return biz("PARAM_ERROR", "trade_type参数错误");
        }
        let openid = req.get("openid").or_else(|| req.get("sub_openid"));
        if trade_type == "JSAPI" && openid.is_none() {
            return biz("PARAM_ERROR", "JSAPI支付必须传openid");
        }
        if trade_type == "NATIVE" && req.get("product_id").is_none() {
            return biz("PARAM_ERROR", "NATIVE支付必须传product_id");
        }
        if trade_type == "MWEB" && req.get("scene_info").is_none() {
            return biz("PARAM_ERROR", "MWEB支付必须传scene_info");
        }
        let notify_url = req.get("notify_url").unwrap_or_default();
        if let Err(why) = self.check_notify_url(notify_url) {
            return biz("PARAM_ERROR", why);
        }
        // Everything that defines the order; nonce, sign, time_start and the IP may change.
        let fingerprint = req
            .map
            .iter()
            .filter(|(k, _)| {
                ![
                    "nonce_str",
                    "sign",
                    "sign_type",
                    "spbill_create_ip",
                    "time_start",
                ]
                .contains(k)
            })
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<Vec<_>>();
        let mut fingerprint = fingerprint;
        fingerprint.sort();
        let fingerprint = fingerprint.concat();

        let key = req.order_key(out_trade_no);
        let mut state = self.lock();
        if let Some(existing) = state.orders.get(&key) {
            return match existing.state {
                TradeState::Success | TradeState::Refund => biz("ORDERPAID", "该订单已支付"),
                TradeState::Closed | TradeState::Revoked => biz("ORDERCLOSED", "该订单已关闭"),
                _ if existing.fingerprint != fingerprint => {
                    biz("OUT_TRADE_NO_USED", "商户订单号重复")
                }
                _ => order_answer(existing),
            };
        }
        let prepay_id = format!("wx{}{:016x}", beijing_compact(now_unix()), random_u64());
        let code_url = (trade_type == "NATIVE")
            .then(|| format!("weixin://wxpay/bizpayurl?pr={:08x}", random_u64() as u32));
        let mweb_url = (trade_type == "MWEB").then(|| {
            format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package={}", random_u64() % 10_000_000_000)
        });
        let order = Order {
            mch_id: req.merchant.mch_id.clone(),
            appid: req.merchant.appid.clone(),
            sub_mch_id: req.sub_mch_id.clone(),
            sub_appid: req.sub_appid.clone(),
            out_trade_no: out_trade_no.to_owned(),
            fingerprint,
            trade_type: trade_type.to_owned(),
            total_fee,
            fee_type: req.get("fee_type").unwrap_or("CNY").to_owned(),
            body: req.get("body").unwrap_or_default().to_owned(),
            attach: req.get("attach").map(str::to_owned),
            device_info: req.get("device_info").map(str::to_owned),
            openid: req.get("openid").map(str::to_owned),
            sub_openid: req.get("sub_openid").map(str::to_owned),
            notify_url: Some(notify_url.to_owned()),
            sign_type: req.sign_type,
            state: TradeState::NotPay,
            prepay_id: Some(prepay_id),
            code_url,
            mweb_url,
            transaction_id: None,
            time_end: None,
            payer_openid: None,
            coupon_fee: 0,
            refunds: Vec::new(),
            micropay: MicropayPlan::None,
            err_code: None,
        };
        let answer = order_answer(&order);
        state.orders.insert(key, order);
        answer
    }

    fn check_notify_url(&self, url: &str) -> Result<(), String> {
        let target =
            crate::delivery::Target::parse(url).map_err(|e| format!("notify_url参数错误: {e}"))?;
        if !self.allow_any_notify_url && !target.is_loopback() {
            return Err(format!(
                "notify_url参数错误: the simulator delivers only to loopback addresses (got host {}); \
                 enable allow_any_notify_url for a test network",
                target.host
            ));
        }
        Ok(())
    }

    fn order_query(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "此交易订单号不存在");
        };
        let mut f: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| f.push((k.to_owned(), v));
        if let Some(d) = &order.device_info {
            put("device_info", d.clone());
        }
        let paid = order.transaction_id.is_some()
            && matches!(order.state, TradeState::Success | TradeState::Refund);
        if paid {
            put("openid", order.payer_openid.clone().unwrap_or_default());
            put("is_subscribe", "N".into());
        }
        put("trade_type", order.trade_type.clone());
        put("trade_state", order.state.as_str().into());
        if paid {
            put("bank_type", "CFT".into());
        }
        put("total_fee", order.total_fee.to_string());
        put("fee_type", order.fee_type.clone());
        if paid {
            put("cash_fee", (order.total_fee - order.coupon_fee).to_string());
            if order.coupon_fee > 0 {
                put("coupon_fee", order.coupon_fee.to_string());
                put("coupon_count", "1".into());
                put("coupon_type_0", "CASH".into());
                put("coupon_id_0", "2000000000000000001".into());
                put("coupon_fee_0", order.coupon_fee.to_string());
            }
            put(
                "transaction_id",
                order.transaction_id.clone().unwrap_or_default(),
            );
        }
        put("out_trade_no", order.out_trade_no.clone());
        if let Some(a) = &order.attach {
            put("attach", a.clone());
        }
        if let Some(t) = order.time_end {
            put("time_end", beijing_compact(t));
        }
        put("trade_state_desc", order.state.desc().into());
        Verdict::Ok(f)
    }

    fn close_order(&self, req: &Req<'_>) -> Verdict {
        let key = req.order_key(req.get("out_trade_no").unwrap_or_default());
        let mut state = self.lock();
        let Some(order) = state.orders.get_mut(&key) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        match order.state {
            TradeState::Success | TradeState::Refund => {
                biz("ORDERPAID", "订单已支付，不能发起关单")
            }
            TradeState::Closed | TradeState::Revoked => {
                biz("ORDERCLOSED", "订单已关闭，无需继续关闭")
            }
            TradeState::UserPaying => biz("TRADE_STATE_ERROR", "用户支付中，不能关单"),
            TradeState::NotPay | TradeState::PayError => {
                order.state = TradeState::Closed;
                ok([("result_msg", "OK")])
            }
        }
    }

    fn refund(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let out_refund_no = req.get("out_refund_no").unwrap_or_default();
        if !valid_trade_no(out_refund_no, 64) {
            return biz("PARAM_ERROR", "out_refund_no参数格式错误");
        }
        let (Ok(total_fee), Ok(refund_fee)) = (
            req.get("total_fee").unwrap_or_default().parse::<Fen>(),
            req.get("refund_fee").unwrap_or_default().parse::<Fen>(),
        ) else {
            return biz("PARAM_ERROR", "total_fee或refund_fee参数格式错误");
        };
        if refund_fee.get() == 0 {
            return biz("PARAM_ERROR", "退款金额必须大于0");
        }
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        if !matches!(order.state, TradeState::Success | TradeState::Refund) {
            return biz("TRADE_STATE_ERROR", "订单状态错误");
        }
        if total_fee.get() != order.total_fee {
            return biz(
                "PARAM_ERROR",
                "订单金额或退款金额与之前请求不一致，请核实后再试",
            );
        }
        let existing = order
            .refunds
            .iter()
            .find(|r| r.out_refund_no == out_refund_no)
            .cloned();
        let refund = match existing {
            Some(r) if r.refund_fee == refund_fee.get() => r,
            Some(_) => return biz("PARAM_ERROR", "同一out_refund_no退款金额要一致"),
            None => {
                if order.refunds.len() >= 50 {
                    return biz("PARAM_ERROR", "退款次数超过限制(50次)");
                }
                let fits = order
                    .refunded()
                    .checked_add(refund_fee.get())
                    .is_some_and(|total| total <= order.total_fee);
                if !fits {
                    return biz("PARAM_ERROR", "累计退款金额大于支付金额");
                }
                let refund = Refund {
                    out_refund_no: out_refund_no.to_owned(),
                    refund_id: format!("50000{}{:010}", beijing_compact(now_unix()), seq()),
                    refund_fee: refund_fee.get(),
                    status: "PROCESSING",
                    success_time: None,
                    notify_url: req
                        .get("notify_url")
                        .map(str::to_owned)
                        .or_else(|| req.merchant.refund_notify_url.clone()),
                };
                order.refunds.push(refund.clone());
                order.state = TradeState::Refund;
                let engine = Arc::clone(self);
                let (key, no) = (key_of(order), refund.out_refund_no.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(engine.scaled(60)).await;
                    engine.complete_refund(&key, &no);
                });
                refund
            }
        };
        let cash = order.total_fee - order.coupon_fee;
        ok([
            (
                "transaction_id",
                order.transaction_id.clone().unwrap_or_default(),
            ),
            ("out_trade_no", order.out_trade_no.clone()),
            ("out_refund_no", refund.out_refund_no.clone()),
            ("refund_id", refund.refund_id.clone()),
            ("refund_channel", String::new()),
            ("refund_fee", refund.refund_fee.to_string()),
            ("settlement_refund_fee", refund.refund_fee.to_string()),
            ("total_fee", order.total_fee.to_string()),
            ("settlement_total_fee", order.total_fee.to_string()),
            ("fee_type", order.fee_type.clone()),
            ("cash_fee", cash.to_string()),
            ("cash_refund_fee", refund.refund_fee.min(cash).to_string()),
        ])
    }

    /// PROCESSING → SUCCESS, then the refund notification.
    pub(crate) fn complete_refund(self: &Arc<Self>, key: &OrderKey, out_refund_no: &str) {
        let mut state = self.lock();
        let Some(order) = state.orders.get_mut(key) else {
            return;
        };
        let Some(refund) = order
            .refunds
            .iter_mut()
            .find(|r| r.out_refund_no == out_refund_no)
        else {
            return;
        };
        if refund.status != "PROCESSING" {
            return;
        }
        refund.status = "SUCCESS";
        refund.success_time = Some(now_unix());
        let refund = refund.clone();
        let order = order.clone();
        let Some(url) = refund.notify_url.clone() else {
            return;
        };
        let Some(merchant) = self.merchants.iter().find(|m| m.mch_id == order.mch_id) else {
            return;
        };
        let body = refund_notification(merchant, &order, &refund);
        drop(state);
        self.start_delivery(DeliveryKind::Refund, &order, url, body);
    }

    fn refund_query(&self, req: &Req<'_>) -> Verdict {
        let out_trade_no = req.get("out_trade_no").unwrap_or_default();
        let by = ["refund_id", "out_refund_no", "transaction_id"]
            .iter()
            .find_map(|k| req.get(k).map(|v| (*k, v)));
        if out_trade_no.is_empty() && by.is_none() {
            return Verdict::Protocol("缺少参数out_trade_no".into());
        }
        let offset = match req.get("offset").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return biz("PARAM_ERROR", "offset参数格式错误"),
        };
        let state = self.lock();
        let mch = &req.merchant.mch_id;
        let sub = req.sub_mch_id.clone().unwrap_or_default();
        let mine = |o: &&Order| &o.mch_id == mch && o.sub_mch_id.clone().unwrap_or_default() == sub;
        let found = state.orders.values().filter(mine).find(|o| match by {
            Some(("refund_id", v)) => o.refunds.iter().any(|r| r.refund_id == v),
            Some(("out_refund_no", v)) => o.refunds.iter().any(|r| r.out_refund_no == v),
            Some((_, v)) => o.transaction_id.as_deref() == Some(v),
            None => o.out_trade_no == out_trade_no,
        });
        let Some(order) = found.filter(|o| !o.refunds.is_empty()) else {
            return biz("REFUNDNOTEXIST", "退款订单查询失败");
        };
        let refunds: Vec<&Refund> = match by {
            Some(("refund_id", v)) => order.refunds.iter().filter(|r| r.refund_id == v).collect(),
            Some(("out_refund_no", v)) => order
                .refunds
                .iter()
                .filter(|r| r.out_refund_no == v)
                .collect(),
            _ => order.refunds.iter().collect(),
        };
        if offset > 0 && offset >= refunds.len() {
            return biz("PARAM_ERROR", "offset超出退款笔数");
        }
        let page: Vec<&&Refund> = refunds.iter().skip(offset).take(10).collect();
        let mut f: Vec<(String, String)> = vec![
            ("total_refund_count".into(), refunds.len().to_string()),
            (
                "transaction_id".into(),
                order.transaction_id.clone().unwrap_or_default(),
            ),
            ("out_trade_no".into(), order.out_trade_no.clone()),
            ("total_fee".into(), order.total_fee.to_string()),
            ("settlement_total_fee".into(), order.total_fee.to_string()),
            ("fee_type".into(), order.fee_type.clone()),
            (
                "cash_fee".into(),
                (order.total_fee - order.coupon_fee).to_string(),
            ),
            ("refund_count".into(), page.len().to_string()),
        ];
        for (n, r) in page.iter().enumerate() {
            let mut put = |k: &str, v: String| f.push((format!("{k}_{n}"), v));
            put("out_refund_no", r.out_refund_no.clone());
            put("refund_id", r.refund_id.clone());
            put("refund_channel", "ORIGINAL".into());
            put("refund_fee", r.refund_fee.to_string());
            put("settlement_refund_fee", r.refund_fee.to_string());
            put("refund_status", r.status.into());
            put("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS".into());
            put("refund_recv_accout", "支付用户的零钱".into());
            if let Some(t) = r.success_time {
                put("refund_success_time", beijing_dashed(t));
            }
        }
        Verdict::Ok(f)
    }

    fn download_bill(&self, req: &Req<'_>) -> Verdict {
        let day_start = match bill_day(req) {
            Ok(t) => t,
            Err(v) => return v,
        };
        let bill_type = req.get("bill_type").unwrap_or("ALL");
        if !["ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND"].contains(&bill_type) {
            return bill_error("invalid bill_type", "20001");
        }
        let state = self.lock();
        let csv = crate::bill::render(&state, &req.merchant.mch_id, bill_type, day_start);
        drop(state);
        let Some(csv) = csv else {
            return bill_error("No Bill Exist", "20002");
        };
        bill_reply(req, csv)
    }

    fn download_fund_flow(&self, req: &Req<'_>) -> Verdict {
        let day_start = match bill_day(req) {
            Ok(t) => t,
            Err(v) => return v,
        };
        let account = req.get("account_type").unwrap_or_default();
        if !["Basic", "Operation", "Fees"].contains(&account) {
            return bill_error("invalid account_type", "20001");
        }
        let state = self.lock();
        let csv = crate::bill::render_fund_flow(&state, &req.merchant.mch_id, account, day_start);
        drop(state);
        let Some(csv) = csv else {
            return bill_error("No Bill Exist", "20002");
        };
        bill_reply(req, csv)
    }

    fn micropay(self: &Arc<Self>, req: &Req<'_>) -> Verdict {
        let (out_trade_no, total_fee) = match common_order_fields(req, 1) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let code = req.get("auth_code").unwrap_or_default();
        let Some(scenario) = micropay_scenario(code) else {
            return biz("AUTH_CODE_INVALID", "付款码无效，请重新扫码");
        };
        let key = req.order_key(out_trade_no);
        let mut state = self.lock();
        if let Some(existing) = state.orders.get(&key) {
            return match existing.state {
                TradeState::Success | TradeState::Refund => micropay_answer(existing),
                TradeState::UserPaying => biz("USERPAYING", "需要用户输入支付密码"),
                TradeState::Revoked => biz("ORDERREVERSED", "订单已撤销"),
                _ => biz("ORDERCLOSED", "订单已关闭"),
            };
        }
        if scenario == Scenario::Expired {
            return biz("AUTHCODEEXPIRE", "二维码已过期，请用户在微信上刷新后再试");
        }
        let mut order = Order {
            mch_id: req.merchant.mch_id.clone(),
            appid: req.merchant.appid.clone(),
            sub_mch_id: req.sub_mch_id.clone(),
            sub_appid: req.sub_appid.clone(),
            out_trade_no: out_trade_no.to_owned(),
            fingerprint: String::new(),
            trade_type: "MICROPAY".into(),
            total_fee,
            fee_type: req.get("fee_type").unwrap_or("CNY").to_owned(),
            body: req.get("body").unwrap_or_default().to_owned(),
            attach: req.get("attach").map(str::to_owned),
            device_info: req.get("device_info").map(str::to_owned),
            openid: None,
            sub_openid: None,
            notify_url: None,
            sign_type: req.sign_type,
            state: TradeState::UserPaying,
            prepay_id: None,
            code_url: None,
            mweb_url: None,
            transaction_id: None,
            time_end: None,
            payer_openid: Some(openid_for_code(code)),
            coupon_fee: 0,
            refunds: Vec::new(),
            micropay: MicropayPlan::None,
            err_code: None,
        };
        let verdict = match scenario {
            Scenario::PaidAtOnce | Scenario::SystemError => {
                mark_paid(&mut order, None);
                if scenario == Scenario::SystemError {
                    biz("SYSTEMERROR", "系统超时，请查询订单")
                } else {
                    micropay_answer(&order)
                }
            }
            Scenario::PaidAfterDelay => {
                order.micropay = MicropayPlan::PaidAfterDelay;
                let engine = Arc::clone(self);
                let key = key.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(engine.scaled(10)).await;
                    let mut state = engine.lock();
                    if let Some(o) = state
                        .orders
                        .get_mut(&key)
                        .filter(|o| o.state == TradeState::UserPaying)
                    {
                        mark_paid(o, None);
                    }
                });
                biz("USERPAYING", "需要用户输入支付密码")
            }
            Scenario::PayingUntilReversed => {
                order.micropay = MicropayPlan::PayingUntilReversed;
                biz("USERPAYING", "需要用户输入支付密码")
            }
            Scenario::Expired => biz("AUTHCODEEXPIRE", "二维码已过期"),
        };
        state.orders.insert(key, order);
        verdict
    }

    fn reverse(&self, req: &Req<'_>) -> Verdict {
        let (key, transaction_id) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let mut state = self.lock();
        let Some(order) = state.find_order(&key, transaction_id) else {
            return biz("ORDERNOTEXIST", "订单不存在");
        };
        if order.trade_type != "MICROPAY" {
            return biz("TRADE_STATE_ERROR", "只能撤销刷卡支付订单");
        }
        if order.state == TradeState::Refund {
            return biz("TRADE_STATE_ERROR", "订单已退款，不能撤销");
        }
        // Reversing a paid order refunds it; reversing an unpaid one cancels it.
        order.state = TradeState::Revoked;
        ok([("recall", "N")])
    }

    /// Control: the simulated user pays an order, and the notification goes out.
    pub(crate) fn pay(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        opts: &PayOptions,
    ) -> Result<crate::model::OrderView, String> {
        let sign_type_field = opts.sign_type_field.unwrap_or(false);
        self.conclude(mch_id, out_trade_no, sign_type_field, |order| {
            let coupon = opts.coupon_fee.unwrap_or(0);
            if coupon >= order.total_fee && coupon > 0 {
                return Err("coupon_fee must be less than total_fee".into());
            }
            let payer = opts.openid.clone().or_else(|| order.openid.clone());
            mark_paid(order, payer);
            order.coupon_fee = coupon;
            Ok(())
        })
    }

    /// Control: the payment fails (`PAYERROR`), and a `result_code=FAIL` notification goes out.
    pub(crate) fn fail(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        err_code: &str,
    ) -> Result<crate::model::OrderView, String> {
        self.conclude(mch_id, out_trade_no, false, |order| {
            order.state = TradeState::PayError;
            order.err_code = Some(err_code.to_owned());
            Ok(())
        })
    }

    /// Ends a NOTPAY order with `outcome` (paid or failed), then sends its payment
    /// notification to the order's notify_url.
    fn conclude(
        self: &Arc<Self>,
        mch_id: Option<&str>,
        out_trade_no: &str,
        sign_type_field: bool,
        outcome: impl FnOnce(&mut Order) -> Result<(), String>,
    ) -> Result<crate::model::OrderView, String> {
        let mut state = self.lock();
        let order = find_for_control(&mut state, mch_id, out_trade_no)?;
        if order.state != TradeState::NotPay {
            return Err(format!(
                "order {out_trade_no} is {}, not NOTPAY",
                order.state.as_str()
            ));
        }
        outcome(order)?;
        let order = order.clone();
        drop(state);
        if let (Some(url), Some(merchant)) = (
            order.notify_url.clone(),
            self.merchants.iter().find(|m| m.mch_id == order.mch_id),
        ) {
            let body = pay_notification(merchant, &order, sign_type_field);
            self.start_delivery(DeliveryKind::Pay, &order, url, body);
        }
        Ok(order.view())
    }

    /// Control: close an unpaid order.
    pub(crate) fn close(
        &self,
        mch_id: Option<&str>,
        out_trade_no: &str,
    ) -> Result<crate::model::OrderView, String> {
        let mut state = self.lock();
        let order = find_for_control(&mut state, mch_id, out_trade_no)?;
        if !matches!(
            order.state,
            TradeState::NotPay | TradeState::PayError | TradeState::UserPaying
        ) {
            return Err(format!("order {out_trade_no} is {}", order.state.as_str()));
        }
        order.state = TradeState::Closed;
        Ok(order.view())
    }
}

fn find_for_control<'s>(
    state: &'s mut State,
    mch_id: Option<&str>,
    out_trade_no: &str,
) -> Result<&'s mut Order, String> {
    let mut matches = state
        .orders
        .values_mut()
        .filter(|o| o.out_trade_no == out_trade_no && mch_id.is_none_or(|m| o.mch_id == m));
    let first = matches
        .next()
        .ok_or_else(|| format!("no order {out_trade_no}"))?;
    if matches.next().is_some() {
        return Err(format!(
            "several merchants have an order {out_trade_no}: give mch_id"
        ));
    }
    Ok(first)
}

fn key_of(o: &Order) -> OrderKey {
    (
        o.mch_id.clone(),
        o.sub_mch_id.clone().unwrap_or_default(),
        o.out_trade_no.clone(),
    )
}

fn mark_paid(order: &mut Order, payer: Option<String>) {
    order.state = TradeState::Success;
    order.transaction_id = Some(format!(
        "4200000{:03}{}{:08}",
        random_u64() % 1000,
        beijing_date(now_unix()),
        seq()
    ));
    order.time_end = Some(now_unix());
    if payer.is_some() {
        order.payer_openid = payer;
    }
    if order.payer_openid.is_none() {
        order.payer_openid = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
    }
}

/// out_trade_no (and out_refund_no): `0-9a-zA-Z_-|*@`, at most `max` characters.
fn valid_trade_no(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
}

/// Field rules shared by unifiedorder and micropay; `Ok((out_trade_no, total_fee))`.
fn common_order_fields<'r>(
    req: &'r Req<'_>,
    min_expire_minutes: i64,
) -> Result<(&'r str, u64), Verdict> {
    let out_trade_no = req.get("out_trade_no").unwrap_or_default();
    if !valid_trade_no(out_trade_no, 32) {
        return Err(biz(
            "PARAM_ERROR",
            "out_trade_no参数格式错误：最长32位，只能是数字、大小写字母_-|*@",
        ));
    }
    let total_fee = match req.get("total_fee").unwrap_or_default().parse::<Fen>() {
        Ok(f) if f.get() > 0 => f.get(),
        _ => {
            return Err(biz(
                "PARAM_ERROR",
                "total_fee参数格式错误：必须为正整数，单位为分",
            ));
        }
    };
    if req.get("body").unwrap_or_default().len() > 128 {
        return Err(biz("PARAM_ERROR", "body参数长度有误：不能超过128字节"));
    }
    if let Some(expire) = req.get("time_expire") {
        let Ok(t) = expire.parse::<BeijingTime>() else {
            return Err(biz("PARAM_ERROR", "time_expire参数格式错误"));
        };
        if t.unix() < now_unix() + min_expire_minutes * 60 {
            return Err(biz(
                "PARAM_ERROR",
                "time_expire时间过短，刷卡至少1分钟，其他5分钟",
            ));
        }
    }
    Ok((out_trade_no, total_fee))
}

fn order_answer(order: &Order) -> Verdict {
    let mut f = vec![("trade_type".to_owned(), order.trade_type.clone())];
    if let Some(d) = &order.device_info {
        f.push(("device_info".into(), d.clone()));
    }
    f.push((
        "prepay_id".into(),
        order.prepay_id.clone().unwrap_or_default(),
    ));
    if let Some(u) = &order.code_url {
        f.push(("code_url".into(), u.clone()));
    }
    if let Some(u) = &order.mweb_url {
        f.push(("mweb_url".into(), u.clone()));
    }
    Verdict::Ok(f)
}

fn micropay_answer(order: &Order) -> Verdict {
    ok([
        ("openid", order.payer_openid.clone().unwrap_or_default()),
        ("is_subscribe", "N".into()),
        ("trade_type", "MICROPAY".into()),
        ("bank_type", "CFT".into()),
        ("fee_type", order.fee_type.clone()),
        ("total_fee", order.total_fee.to_string()),
        ("cash_fee_type", "CNY".into()),
        ("cash_fee", order.total_fee.to_string()),
        (
            "transaction_id",
            order.transaction_id.clone().unwrap_or_default(),
        ),
        ("out_trade_no", order.out_trade_no.clone()),
        (
            "time_end",
            order.time_end.map(beijing_compact).unwrap_or_default(),
        ),
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    PaidAtOnce,
    PaidAfterDelay,
    PayingUntilReversed,
    SystemError,
    Expired,
}

/// Payment codes are 18 digits starting 10–15; the last two digits choose what happens:
/// 00–79 paid at once, 80–84 USERPAYING then paid after 10 s (scaled), 85–89 USERPAYING until
/// reversed, 90–94 SYSTEMERROR (but paid), 95–99 AUTHCODEEXPIRE.
fn micropay_scenario(code: &str) -> Option<Scenario> {
    let b = code.as_bytes();
    if b.len() != 18
        || !b.iter().all(u8::is_ascii_digit)
        || b[0] != b'1'
        || !(b'0'..=b'5').contains(&b[1])
    {
        return None;
    }
    let last = u32::from(b[16] - b'0') * 10 + u32::from(b[17] - b'0');
    Some(match last {
        0..=79 => Scenario::PaidAtOnce,
        80..=84 => Scenario::PaidAfterDelay,
        85..=89 => Scenario::PayingUntilReversed,
        90..=94 => Scenario::SystemError,
        _ => Scenario::Expired,
    })
}

fn openid_for_code(code: &str) -> String {
    format!("oSim{}", &code[code.len().saturating_sub(12)..])
}

fn auth_code_to_openid(req: &Req<'_>) -> Verdict {
    let code = req.get("auth_code").unwrap_or_default();
    match micropay_scenario(code) {
        Some(Scenario::Expired) => biz("AUTHCODEEXPIRE", "二维码已过期"),
        Some(_) => ok([("openid", openid_for_code(code))]),
        None => biz("AUTH_CODE_INVALID", "付款码无效"),
    }
}

pub(crate) fn beijing_compact(unix: i64) -> String {
    BeijingTime::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn beijing_date(unix: i64) -> String {
    beijing_compact(unix).chars().take(8).collect()
}

/// The Beijing midnight (Unix seconds) of a bill request's `bill_date` (`yyyyMMdd`).
fn bill_day(req: &Req<'_>) -> Result<i64, Verdict> {
    let date = req.get("bill_date").unwrap_or_default();
    match format!("{date}000000").parse::<BeijingTime>() {
        Ok(t) if date.len() == 8 => Ok(t.unix()),
        _ => Err(bill_error("invalid bill_date", "20001")),
    }
}

/// A bill download's error: unsigned XML with `error_code` (not `err_code`).
fn bill_error(msg: &str, code: &str) -> Verdict {
    let mut m = XmlMap::new();
    let _ = m.insert("return_code", "FAIL");
    let _ = m.insert("return_msg", msg);
    let _ = m.insert("error_code", code);
    Verdict::Reply(Reply::Xml(m.to_xml()))
}

/// A bill as text, or gzip when the request asked for it.
fn bill_reply(req: &Req<'_>, csv: String) -> Verdict {
    if req.get("tar_type") == Some("GZIP") {
        return Verdict::Reply(Reply::Raw {
            content_type: "application/x-gzip",
            body: crate::bill::gzip(csv.as_bytes()),
        });
    }
    Verdict::Reply(Reply::Raw {
        content_type: "text/plain; charset=utf-8",
        body: csv.into_bytes(),
    })
}

pub(crate) fn beijing_dashed(unix: i64) -> String {
    BeijingDateTime::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The payment notification for a paid (or failed) order, signed with the order's algorithm.
pub(crate) fn pay_notification(
    merchant: &Merchant,
    order: &Order,
    sign_type_field: bool,
) -> String {
    let mut m = XmlMap::new();
    let mut put = |k: &str, v: &str| {
        let _ = m.insert(k, v);
    };
    put("return_code", "SUCCESS");
    put("return_msg", "OK");
    put("appid", &order.appid);
    put("mch_id", &order.mch_id);
    if let Some(s) = &order.sub_appid {
        put("sub_appid", s);
    }
    if let Some(s) = &order.sub_mch_id {
        put("sub_mch_id", s);
    }
    if let Some(d) = &order.device_info {
        put("device_info", d);
    }
    put("nonce_str", &nonce());
    if order.state == TradeState::PayError {
        put("result_code", "FAIL");
        put("err_code", order.err_code.as_deref().unwrap_or("PAYERROR"));
        put("err_code_des", "支付失败");
    } else {
        put("result_code", "SUCCESS");
    }
    put(
        "openid",
        order
            .payer_openid
            .as_deref()
            .unwrap_or("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
    );
    put("is_subscribe", "N");
    if let Some(s) = &order.sub_openid {
        put("sub_openid", s);
        put("sub_is_subscribe", "N");
    }
    put("trade_type", &order.trade_type);
    put("bank_type", "CFT");
    put("total_fee", &order.total_fee.to_string());
    put("settlement_total_fee", &order.total_fee.to_string());
    put("fee_type", &order.fee_type);
    put(
        "cash_fee",
        &(order.total_fee - order.coupon_fee).to_string(),
    );
    if order.coupon_fee > 0 {
        put("coupon_fee", &order.coupon_fee.to_string());
        put("coupon_count", "1");
        put("coupon_type_0", "CASH");
        put("coupon_id_0", "2000000000000000001");
        put("coupon_fee_0", &order.coupon_fee.to_string());
    }
    if let Some(t) = &order.transaction_id {
        put("transaction_id", t);
    }
    put("out_trade_no", &order.out_trade_no);
    if let Some(a) = &order.attach {
        put("attach", a);
    }
    put(
        "time_end",
        &beijing_compact(order.time_end.unwrap_or_else(now_unix)),
    );
    if sign_type_field {
        put("sign_type", order.sign_type.as_str());
    }
    let _ = m.sign(&merchant.key, order.sign_type);
    m.to_xml()
}

/// The refund notification: an unsigned envelope and `req_info` encrypted with the merchant key.
pub(crate) fn refund_notification(merchant: &Merchant, order: &Order, refund: &Refund) -> String {
    let mut root = XmlMap::new();
    let mut put = |k: &str, v: &str| {
        let _ = root.insert(k, v);
    };
    put(
        "transaction_id",
        order.transaction_id.as_deref().unwrap_or_default(),
    );
    put("out_trade_no", &order.out_trade_no);
    put("refund_id", &refund.refund_id);
    put("out_refund_no", &refund.out_refund_no);
    put("total_fee", &order.total_fee.to_string());
    put("settlement_total_fee", &order.total_fee.to_string());
    put("refund_fee", &refund.refund_fee.to_string());
    put("settlement_refund_fee", &refund.refund_fee.to_string());
    put("refund_status", refund.status);
    put(
        "success_time",
        &beijing_dashed(refund.success_time.unwrap_or_else(now_unix)),
    );
    put("refund_recv_accout", "支付用户零钱");
    put("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS");
    put("refund_request_source", "API");
    let req_info =
        crate::crypto::encrypt_req_info(&merchant.key, root.to_xml_with_root("root").as_bytes());
    let mut m = XmlMap::new();
    let mut put = |k: &str, v: &str| {
        let _ = m.insert(k, v);
    };
    put("return_code", "SUCCESS");
    put("appid", &order.appid);
    put("mch_id", &order.mch_id);
    put("nonce_str", &nonce());
    put("req_info", &req_info);
    m.to_xml()
}
