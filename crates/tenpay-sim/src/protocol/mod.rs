//! The protocol side: the shared request checks, the dispatch to one module per endpoint
//! family, and the signed answers.

pub(crate) mod bill;
pub(crate) mod control;
mod customs;
mod deposit;
mod merchant_tools;
mod micropay;
mod native;
mod order;
mod papay;
mod partner;
pub(crate) mod payout;
mod refund;
mod route;
pub(crate) mod rules;
mod sandbox;
mod sharing;

use std::sync::{Arc, Mutex, MutexGuard};

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

pub(crate) use refund::RefundRefusal;
pub(crate) use route::Endpoint;

use crate::clock::Clock;
use crate::ids::nonce;
use crate::model::{Limits, MerchantAccount};
use crate::notify::Outbox;
use crate::state::{OrderKey, State};
use crate::tls::TlsMaterial;

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

/// The simulated WeChat Pay: merchants, state, the clock and the outbox of notifications.
pub(crate) struct Engine {
    pub(crate) merchants: Vec<MerchantAccount>,
    state: Mutex<State>,
    pub(crate) clock: Clock,
    pub(crate) allow_any_notify_url: bool,
    pub(crate) tls: Option<TlsMaterial>,
    pub(crate) outbox: Arc<Outbox>,
    /// WeChat Pay's v3 keys.
    pub(crate) platform: Arc<crate::v3::Platform>,
    /// v3 bills behind their download URLs.
    pub(crate) v3_bills: crate::v3::Bills,
}

/// A request that passed the protocol checks.
pub(crate) struct Req<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) map: XmlMap,
    pub(crate) merchant: &'a MerchantAccount,
    pub(crate) sign_type: SignType,
    pub(crate) sandbox: bool,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
    /// A `Settles` fault: how what this request starts ends (state, reason).
    pub(crate) settles: Option<(String, String)>,
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

    pub(crate) fn order_key(&self, out_trade_no: &str) -> OrderKey {
        (
            self.merchant.mch_id.clone(),
            self.sub_mch_id.clone().unwrap_or_default(),
            out_trade_no.to_owned(),
        )
    }

    /// The order a request is about: its key and the `transaction_id` (which takes precedence
    /// when given), or the protocol error when it names neither.
    pub(crate) fn order_ref(&self) -> Result<(OrderKey, Option<&str>), Verdict> {
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

pub(crate) fn ok<I, K, V>(fields: I) -> Verdict
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

pub(crate) fn biz(code: &str, des: impl Into<String>) -> Verdict {
    Verdict::Business(code.to_owned(), des.into())
}

/// `return_code=FAIL` as the server writes it (no signature).
pub(crate) fn protocol_fail(msg: &str) -> String {
    let mut m = XmlMap::new();
    let _ = m.insert("return_code", "FAIL");
    let _ = m.insert("return_msg", msg);
    m.to_xml()
}

fn fail(msg: &str) -> Verdict {
    Verdict::Protocol(msg.to_owned())
}

impl Engine {
    pub(crate) fn new(
        merchants: Vec<MerchantAccount>,
        limits: Limits,
        clock: Clock,
        allow_any_notify_url: bool,
        tls: Option<TlsMaterial>,
        outbox: Arc<Outbox>,
    ) -> Self {
        Self {
            merchants,
            state: Mutex::new(State::new(limits)),
            clock,
            allow_any_notify_url,
            tls,
            outbox,
            platform: Arc::new(crate::v3::Platform::new()),
            v3_bills: crate::v3::Bills::default(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves state a test will look at; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn merchant(&self, mch_id: &str) -> Option<&MerchantAccount> {
        self.merchants.iter().find(|m| m.mch_id == mch_id)
    }

    /// The protocol checks every endpoint shares; `Err` is a `return_code=FAIL` verdict.
    pub(crate) fn check<'a>(
        &'a self,
        endpoint: Endpoint,
        sandbox: bool,
        post: bool,
        body: &[u8],
    ) -> Result<Req<'a>, Verdict> {
        if !post {
            return Err(fail("请使用post方法"));
        }
        if body.is_empty() {
            return Err(fail("post数据为空"));
        }
        let mut map = XmlMap::parse(body).map_err(|e| match e {
            tenpay_xml::Error::NotUtf8 { .. } => fail("编码格式错误，请使用UTF-8编码"),
            _ => fail("XML格式错误"),
        })?;
        // shorturl's long_url is sent URL-encoded and signed as it was before.
        if endpoint == Endpoint::ShortUrl
            && let Some(encoded) = map.get("long_url").map(str::to_owned)
        {
            let raw = percent_encoding::percent_decode_str(&encoded)
                .decode_utf8()
                .map_err(|_| fail("long_url参数错误"))?
                .into_owned();
            map.remove("long_url");
            map.insert("long_url", &raw)
                .map_err(|_| fail("long_url参数错误"))?;
        }
        let get = |name: &str| map.get(name).filter(|v| !v.is_empty());
        let sign_type = match get("sign_type") {
            None => SignType::Md5,
            Some(s) => s
                .parse::<SignType>()
                .map_err(|_| fail("sign_type参数错误"))?,
        };
        if (sandbox || endpoint == Endpoint::GetSignKey) && !matches!(sign_type, SignType::Md5) {
            return Err(fail("沙箱环境仅支持MD5签名"));
        }
        // The fund flow takes HMAC-SHA256 only (the simulator's wording).
        if endpoint == Endpoint::DownloadFundFlow && !matches!(sign_type, SignType::HmacSha256) {
            return Err(fail("sign_type参数错误，仅支持HMAC-SHA256"));
        }
        if endpoint.hmac_only_deposit() && !matches!(sign_type, SignType::HmacSha256) {
            return Err(fail("sign_type参数错误，仅支持HMAC-SHA256"));
        }
        if endpoint.is_customs() && !matches!(sign_type, SignType::Md5) {
            return Err(fail("sign_type参数错误，报关接口仅支持MD5"));
        }
        if endpoint == Endpoint::BatchQueryComment && !matches!(sign_type, SignType::HmacSha256) {
            return Err(fail("sign_type参数错误，仅支持HMAC-SHA256"));
        }
        if endpoint.is_sp_admin() && !matches!(sign_type, SignType::Md5) {
            return Err(fail("sign_type参数错误，仅支持MD5"));
        }
        // Profit sharing takes HMAC-SHA256 only.
        if endpoint.is_sharing() && !matches!(sign_type, SignType::HmacSha256) {
            return Err(fail("sign_type参数错误，分账接口仅支持HMAC-SHA256"));
        }
        // Money out signs with MD5 only.
        if endpoint.is_payout() && !matches!(sign_type, SignType::Md5) {
            return Err(fail("签名类型错误：此接口仅支持MD5"));
        }
        let (appid_field, mch_field) = endpoint.merchant_fields();
        let mch_id = get(mch_field).ok_or_else(|| fail(&format!("缺少参数{mch_field}")))?;
        let merchant = self
            .merchant(mch_id)
            .ok_or_else(|| fail(&format!("商户号{mch_field}不存在")))?;
        if let Some(appid_field) = appid_field {
            let appid = get(appid_field).ok_or_else(|| fail(&format!("缺少参数{appid_field}")))?;
            if appid != merchant.appid {
                return Err(fail(&format!("{appid_field}和{mch_field}不匹配")));
            }
        }
        let sub_mch_id = get("sub_mch_id").map(str::to_owned);
        let sub_appid = get("sub_appid").map(str::to_owned);
        if endpoint.is_sp_admin() {
            // The sub-merchant named is the call's subject, one the account was built with
            // or one added through submchmanage (addsubdevconfig's sub_appid is the appid
            // to bind, not the request's).
            if let Some(sub) = sub_mch_id
                .as_ref()
                .filter(|_| endpoint != Endpoint::SubMerchantQuery)
                && !merchant.subs.iter().any(|s| &s.sub_mch_id == sub)
                && !self
                    .lock()
                    .bank_subs
                    .contains_key(&(merchant.mch_id.clone(), sub.clone()))
            {
                return Err(fail("sub_mch_id与mch_id不匹配"));
            }
        } else if let Some(sub) = &sub_mch_id {
            let found = merchant
                .subs
                .iter()
                .find(|s| &s.sub_mch_id == sub)
                .ok_or_else(|| fail("sub_mch_id与mch_id不匹配"))?;
            if sub_appid.is_some() && sub_appid != found.sub_appid {
                return Err(fail("sub_appid和sub_mch_id不匹配"));
            }
        } else if sub_appid.is_some() {
            return Err(fail("缺少参数sub_mch_id"));
        }
        match get("nonce_str") {
            None if endpoint.nonceless() => {}
            None => return Err(fail("缺少参数nonce_str")),
            Some(n) if n.chars().count() > 32 => return Err(fail("nonce_str参数长度有误")),
            Some(_) => {}
        }
        get("sign").ok_or_else(|| fail("缺少参数sign"))?;
        let key = if sandbox {
            &merchant.sandbox_key
        } else {
            &merchant.key
        };
        map.verify(key, sign_type).map_err(|_| fail("签名错误"))?;
        Ok(Req {
            endpoint,
            map,
            merchant,
            sign_type,
            sandbox,
            sub_mch_id,
            sub_appid,
            settles: None,
        })
    }

    /// Writes a verdict: protocol failures unsigned, everything else signed with the request's
    /// algorithm, a fresh nonce and no `sign_type` field.
    pub(crate) fn write(&self, req: &Req<'_>, verdict: Verdict) -> Reply {
        if req.endpoint.is_payout() {
            return payout::write(req, req.endpoint, verdict);
        }
        // Returns report failures as return_code=FAIL with error_code / error_msg, signed.
        if let (
            Endpoint::SharingReturn | Endpoint::SharingReturnQuery,
            Verdict::Business(code, msg),
        ) = (req.endpoint, &verdict)
        {
            let mut m = XmlMap::new();
            for (k, v) in [
                ("return_code", "FAIL"),
                ("return_msg", msg.as_str()),
                ("error_code", code.as_str()),
                ("error_msg", msg.as_str()),
                ("appid", req.merchant.appid.as_str()),
                ("mch_id", req.merchant.mch_id.as_str()),
                ("nonce_str", nonce().as_str()),
            ] {
                let _ = m.insert(k, v);
            }
            let _ = m.sign(req.key(), req.sign_type);
            return Reply::Xml(m.to_xml());
        }
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
        // The sub-merchant's development configuration names it as a field of the request;
        // its answers carry no sub-merchant ids.
        let echo_sub = !req.endpoint.is_sp_admin();
        if let Some(s) = req.sub_appid.as_ref().filter(|_| echo_sub) {
            put("sub_appid", s);
        }
        if let Some(s) = req.sub_mch_id.as_ref().filter(|_| echo_sub) {
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
        let xml = m.to_xml();
        Reply::Xml(if req.endpoint.answers_under_root() {
            partner::under_root(&xml, "root")
        } else {
            xml
        })
    }

    /// Runs an endpoint on a checked request: the required fields, the field lengths, then
    /// the endpoint's family module.
    pub(crate) fn run(self: &Arc<Self>, endpoint: Endpoint, req: &Req<'_>) -> Verdict {
        if let Some(n) = endpoint.required().iter().find(|n| req.get(n).is_none()) {
            return Verdict::Protocol(format!("缺少参数{n}"));
        }
        if let Some(v) = rules::lengths(req) {
            return v;
        }
        if let Some(v) = rules::single_item_discount(req) {
            return v;
        }
        match endpoint {
            Endpoint::UnifiedOrder => self.unified_order(req),
            Endpoint::OrderQuery => self.order_query(req),
            Endpoint::CloseOrder => self.close_order(req),
            Endpoint::Refund => self.refund(req),
            Endpoint::RefundQuery => self.refund_query(req),
            Endpoint::DownloadBill => self.download_bill(req),
            Endpoint::DownloadFundFlow => self.download_fund_flow(req),
            Endpoint::Micropay => self.micropay(req),
            Endpoint::Reverse => self.reverse(req),
            Endpoint::AuthCodeToOpenid => micropay::auth_code_to_openid(req),
            Endpoint::ShortUrl => self.short_url(req),
            Endpoint::DepositMicropay | Endpoint::DepositFacePay => self.micropay(req),
            Endpoint::DepositUnifiedOrder if req.get("deposit") != Some("Y") => {
                biz("PARAM_ERROR", "deposit参数错误，押金支付请传Y")
            }
            Endpoint::DepositUnifiedOrder => self.unified_order(req),
            Endpoint::DepositOrderQuery => self.order_query(req),
            Endpoint::DepositReverse => self.reverse(req),
            Endpoint::DepositConsume => self.consume(req),
            Endpoint::DepositRefund => self.refund(req),
            Endpoint::DepositRefundQuery => self.refund_query(req),
            Endpoint::FaceAuthInfo => micropay::face_auth_info(req),
            Endpoint::FacePay => self.micropay(req),
            Endpoint::FacePayQuery => self.order_query(req),
            Endpoint::FacePayReverse => self.reverse(req),
            Endpoint::CustomsDeclare => self.declare(req),
            Endpoint::CustomsQuery => self.declarations(req),
            Endpoint::CustomsRedeclare => self.redeclare(req),
            Endpoint::ExchangeRate => customs::exchange_rate(req),
            Endpoint::GetSignKey => sandbox::get_sign_key(req),
            Endpoint::SendRedpack => self.send_redpack(req, false),
            Endpoint::SendMiniProgramRedpack => self.send_redpack(req, true),
            Endpoint::SendWeComRedpack => self.send_redpack(req, false),
            Endpoint::QueryWeComRedpack => self.wecom_redpack_info(req),
            Endpoint::RefundV2 => self.refund(req),
            Endpoint::Report => merchant_tools::report(req),
            Endpoint::BatchQueryComment => self.comments(req),
            Endpoint::AddSubDevConfig => self.add_dev_config(req),
            Endpoint::QuerySubDevConfig => self.dev_config(req),
            Endpoint::SubMerchantAdd => self.add_sub_merchant(req),
            Endpoint::SubMerchantQuery => self.sub_merchants(req),
            Endpoint::ModifyMchInfo => self.modify_sub_merchant(req),
            Endpoint::RefundQueryV2 => {
                if req.get("out_refund_no").is_none() && req.get("refund_id").is_none() {
                    return biz("PARAM_ERROR", "仅支持按微信退款单号或商户退款单号查询");
                }
                self.refund_query(req)
            }
            Endpoint::SendGroupRedpack => biz(
                "API_METHOD_CLOSED",
                "裂变红包接口已于2024年6月5日下线，请使用普通红包",
            ),
            Endpoint::GetHbInfo => self.redpack_info(req),
            Endpoint::Transfers => self.transfer(req),
            Endpoint::GetTransferInfo => self.transfer_info(req),
            Endpoint::PayBank => self.pay_bank(req),
            Endpoint::QueryBank => self.query_bank(req),
            Endpoint::GetPublicKey => self.get_public_key(req),
            Endpoint::AddReceiver => self.add_receiver(req, true),
            Endpoint::RemoveReceiver => self.add_receiver(req, false),
            Endpoint::ProfitSharing => self.split(req, false),
            Endpoint::MultiProfitSharing => self.split(req, true),
            Endpoint::SharingQuery => self.sharing_query(req),
            Endpoint::SharingFinish => self.finish_sharing(req),
            Endpoint::SharingReturn => self.sharing_return(req),
            Endpoint::SharingReturnQuery => self.sharing_return_query(req),
            Endpoint::UnsplitAmount => self.unsplit_amount(req),
            Endpoint::PreEntrustWeb => self.pre_entrust(req),
            Endpoint::QueryContract => self.query_contract(req),
            Endpoint::DeleteContract => self.delete_contract(req),
            Endpoint::PapPayApply => self.pap_pay_apply(req),
            Endpoint::PapOrderQuery => self.pap_order_query(req),
            Endpoint::ContractOrder => self.contract_order(req),
        }
    }
}
