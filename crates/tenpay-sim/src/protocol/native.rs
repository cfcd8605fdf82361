//! Native payment mode 1 (扫码支付模式一) and `/tools/shorturl`: the payer scans a
//! product's signed `weixin://wxpay/bizpayurl` (or its short link); WeChat Pay posts the
//! scan callback to the merchant's configured URL and takes the signed prepay id it answers.

use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use super::{Engine, Req, Verdict, ok};
use crate::error::Refusal;
use crate::ids::nonce;
use crate::model::{MerchantAccount, OrderView};

/// How many short links are kept (the oldest is forgotten first).
const MAX_SHORT_URLS: usize = 10_000;

fn refused(reason: impl Into<String>) -> Refusal {
    Refusal::Scan {
        reason: reason.into(),
    }
}

impl Engine {
    /// `/tools/shorturl`: the same short link for the same long one, kept bounded.
    pub(super) fn short_url(&self, req: &Req<'_>) -> Verdict {
        let long = req.get("long_url").unwrap_or_default();
        let short = self.lock().short_links.shorten(long, MAX_SHORT_URLS);
        ok([("short_url", short)])
    }

    /// The payer `openid` scans `url` (a product URL or its short link): the scan callback
    /// goes to the merchant, whose signed answer must name the prepay id of a NATIVE order
    /// placed for this payer; that order is returned, unpaid.
    pub(crate) async fn scan(&self, url: &str, openid: &str) -> Result<OrderView, Refusal> {
        let long = if url.starts_with("weixin://wxpay/s/") {
            self.lock()
                .short_links
                .resolve(url)
                .ok_or_else(|| refused("an unknown short link"))?
        } else {
            url.to_owned()
        };
        let product = parse_product_url(&long).ok_or_else(|| refused("not a product URL"))?;
        let merchant = product
            .get("mch_id")
            .and_then(|m| self.merchant(m))
            .ok_or_else(|| refused("a product URL of no configured merchant"))?;
        if product.get("appid") != Some(merchant.appid.as_str()) {
            return Err(refused("the appid is not the merchant's"));
        }
        product
            .verify(&merchant.key, SignType::Md5)
            .map_err(|_| refused("the product URL's signature does not verify"))?;
        let product_id = product.get("product_id").unwrap_or_default();
        let callback_url = merchant
            .scan_callback_url
            .as_deref()
            .ok_or_else(|| refused("the merchant has no scan callback URL"))?;
        let body = callback(merchant, openid, product_id)?;
        let (status, reply) = self
            .outbox
            .exchange(callback_url, &body)
            .await
            .map_err(|e| refused(format!("the scan callback failed: {e}")))?;
        if status != 200 {
            return Err(refused(format!(
                "the scan callback was answered HTTP {status}"
            )));
        }
        let prepay_id = read_answer(merchant, &reply)?;
        let state = self.lock();
        let order = state
            .orders()
            .find(|o| o.prepay_id.as_deref() == Some(prepay_id.as_str()))
            .filter(|o| o.mch_id == merchant.mch_id)
            .ok_or_else(|| refused(format!("no order has prepay_id {prepay_id}")))?;
        if order.trade_type != "NATIVE" {
            return Err(refused(format!(
                "order {} is not NATIVE",
                order.out_trade_no
            )));
        }
        if order.openid.as_deref().is_some_and(|o| o != openid) {
            return Err(refused(format!(
                "order {} is for another payer",
                order.out_trade_no
            )));
        }
        Ok(order.view())
    }
}

/// The fields of `weixin://wxpay/bizpayurl?…`, decoded.
fn parse_product_url(url: &str) -> Option<XmlMap> {
    let query = url.strip_prefix("weixin://wxpay/bizpayurl?")?;
    let mut map = XmlMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        let v = percent_encoding::percent_decode_str(v).decode_utf8().ok()?;
        map.insert(k, &v).ok()?;
    }
    for name in [
        "appid",
        "mch_id",
        "time_stamp",
        "nonce_str",
        "product_id",
        "sign",
    ] {
        map.get(name).filter(|v| !v.is_empty())?;
    }
    Some(map)
}

/// The scan callback, signed MD5: appid, mch_id, openid, is_subscribe, nonce_str,
/// product_id.
fn callback(merchant: &MerchantAccount, openid: &str, product_id: &str) -> Result<String, Refusal> {
    let mut m = XmlMap::new();
    let nonce = nonce();
    for (k, v) in [
        ("appid", merchant.appid.as_str()),
        ("mch_id", merchant.mch_id.as_str()),
        ("openid", openid),
        ("is_subscribe", "N"),
        ("nonce_str", nonce.as_str()),
        ("product_id", product_id),
    ] {
        m.insert(k, v).map_err(|e| refused(e.to_string()))?;
    }
    m.sign(&merchant.key, SignType::Md5)
        .map_err(|e| refused(e.to_string()))?;
    Ok(m.to_xml())
}

/// The merchant's answer: signed MD5 with its key, naming it, SUCCESS with a prepay id.
fn read_answer(merchant: &MerchantAccount, reply: &[u8]) -> Result<String, Refusal> {
    let m = XmlMap::parse(reply).map_err(|e| refused(format!("the answer is not XML: {e}")))?;
    if m.get("return_code") != Some("SUCCESS") {
        return Err(refused(format!(
            "the merchant answered return_code={}",
            m.get("return_code").unwrap_or("")
        )));
    }
    m.verify(&merchant.key, SignType::Md5)
        .map_err(|_| refused("the answer's signature does not verify"))?;
    if m.get("appid") != Some(merchant.appid.as_str())
        || m.get("mch_id") != Some(merchant.mch_id.as_str())
    {
        return Err(refused("the answer names another merchant"));
    }
    if m.get("result_code") != Some("SUCCESS") {
        return Err(refused(format!(
            "the merchant refused: {}",
            m.get("err_code_des").unwrap_or("")
        )));
    }
    m.get("prepay_id")
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| refused("the answer has no prepay_id"))
}
