//! Native payment mode 1 (扫码支付模式一): the product QR code's signed
//! `weixin://wxpay/bizpayurl` URL, and `/tools/shorturl`, which shortens it.
//!
//! In mode 1 the QR code names a product, not an order. The payer scans it; WeChat Pay posts
//! a scan callback (appid, mch_id, openid, product_id; `tenpay_notify::Notifier::scan`) to
//! the URL set in the merchant platform; the merchant prices the product, places a NATIVE
//! unifiedorder for that payer ([`UnifiedOrder::scanned_by`](crate::UnifiedOrder::scanned_by))
//! and answers the callback with the prepay id, signed. The payment result arrives as a
//! normal pay notification.

use serde::{Deserialize, Serialize};
use tenpay_sign::{Canonical, Merchant, SignType};
use tenpay_xml::{ProductId, XmlMap};

use crate::Route;
use crate::endpoint::{endpoint, keep_raw};

/// The URL a product's QR code encodes, signed MD5 with the merchant's key over `appid`,
/// `mch_id`, `nonce_str`, `product_id` and `time_stamp` (Unix seconds; note the underscore).
/// The values are signed as they are and sent URL-encoded; ids and `ProductId` need no
/// encoding, so the URL reads as WeChat Pay's own examples do.
///
/// Every source signs the URL with MD5, whatever the merchant's sign type, and with the
/// merchant's own appid and mch_id; a service provider's variant is not documented.
///
/// ```
/// use tenpay_client::native_url;
/// use tenpay_sign::{ApiKey, Merchant, SignType};
/// use tenpay_xml::ProductId;
/// // The documented example's fields, signed with the reference key.
/// let merchant = Merchant::new("wx2421b1c4370ec43b", "10000100",
///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::HmacSha256);
/// let url = native_url(&merchant, &ProductId::new("1")?, 1415949957,
///     "f6808210402125e30663234f94c87a8c");
/// assert_eq!(url, "weixin://wxpay/bizpayurl?appid=wx2421b1c4370ec43b&mch_id=10000100\
///     &nonce_str=f6808210402125e30663234f94c87a8c&product_id=1&time_stamp=1415949957\
///     &sign=62C618B41B3C5F9050AB94C0580DDA8E");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn native_url(
    merchant: &Merchant,
    product_id: &ProductId,
    time_stamp: i64,
    nonce_str: &str,
) -> String {
    let time_stamp = time_stamp.to_string();
    let pairs = [
        ("appid", merchant.appid()),
        ("mch_id", merchant.mch_id()),
        ("nonce_str", nonce_str),
        ("product_id", product_id.as_str()),
        ("time_stamp", time_stamp.as_str()),
    ];
    // Fixed, distinct names: the canonical form always exists.
    let sign = Canonical::new(pairs.iter().copied())
        .map(|c| c.sign(merchant.key(), SignType::Md5).as_str().to_owned())
        .unwrap_or_default();
    let mut url = String::from("weixin://wxpay/bizpayurl?");
    for (k, v) in pairs.iter().chain(&[("sign", sign.as_str())]) {
        if !url.ends_with('?') {
            url.push('&');
        }
        url.push_str(k);
        url.push('=');
        url.push_str(&crate::pay_params::url_encode(v));
    }
    url
}

/// `/tools/shorturl`: a short `weixin://wxpay/s/…` link for a long one (a mode-1 product
/// URL), for a QR code that scans more easily. Safe to repeat. `long_url` is signed as it is
/// and sent URL-encoded, as WeChat Pay asks.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ShortUrl {
    long_url: String,
}

impl ShortUrl {
    /// Shortens `long_url` (at most 512 characters).
    pub fn new(long_url: impl Into<String>) -> Self {
        Self {
            long_url: long_url.into(),
        }
    }
}

/// The answer to [`ShortUrl`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ShortUrlResponse {
    /// The short link (`weixin://wxpay/s/…`, at most 64 characters).
    pub short_url: String,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(ShortUrlResponse);

endpoint!(ShortUrl => ShortUrlResponse,
    Route::new("/tools/shorturl").retry_safe().url_encoded("long_url"),
    trade_no: |_s| None);
