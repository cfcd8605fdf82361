//! Cross-border (WeChat Pay Global, V2 XML): the regional hosts and `/pay/queryexchagerate`.
//!
//! Global merchants call the same paths on a regional host: build the client with
//! [`ClientBuilder::base_url`](crate::ClientBuilder::base_url) set to [`HONG_KONG_URL`] (where
//! the current global documentation puts every V2 URL) or [`UNITED_STATES_URL`]. Their
//! amounts are in the smallest unit of the order's `fee_type`, and there is no sandbox.

use serde::{Deserialize, Serialize};
use tenpay_xml::{Currency, XmlMap};

use crate::endpoint::{endpoint, keep_raw};
use crate::{Error, Route};

/// WeChat Pay Global's Hong Kong host.
pub const HONG_KONG_URL: &str = "https://apihk.mch.weixin.qq.com";

/// WeChat Pay Global's United States host.
pub const UNITED_STATES_URL: &str = "https://apius.mch.weixin.qq.com";

/// `/pay/queryexchagerate` (sic): the rate of `fee_type` to CNY on `date` (`yyyyMMdd`,
/// Beijing time; updated daily at 10:00). No `nonce_str`; safe to repeat.
///
/// ```
/// use tenpay_client::{Currency, ExchangeRateQuery, Merchant, MerchantExt};
/// use tenpay_sign::{ApiKey, SignType};
/// use tenpay_xml::XmlMap;
/// // The global documentation's request, signed with the reference key.
/// let merchant = Merchant::new("wx2421b1c4370ec43b", "10000100",
///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?, SignType::Md5);
/// let body = merchant.sign(&ExchangeRateQuery::new(Currency::Cny, "20150807")?)?;
/// let map = XmlMap::parse(body.as_bytes())?;
/// assert_eq!(map.get("sign"), Some("08212ABA7FC7413B8CB50F45E89EAA96"));
/// assert!(!map.contains("nonce_str"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ExchangeRateQuery {
    fee_type: Currency,
    date: String,
}

impl ExchangeRateQuery {
    /// The rate of `currency` on `date` (`yyyyMMdd`).
    ///
    /// # Errors
    /// [`Error::Config`] for a date that is not `yyyyMMdd`.
    pub fn new(currency: Currency, date: &str) -> Result<Self, Error> {
        crate::bill::check_bill_date(date)?;
        Ok(Self {
            fee_type: currency,
            date: date.to_owned(),
        })
    }
}

/// The answer to [`ExchangeRateQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ExchangeRate {
    /// The currency.
    pub fee_type: Option<Currency>,
    /// When the rate was set (`yyyyMMdd` or `yyyyMMddHHmmss`).
    pub rate_time: Option<String>,
    /// The rate as sent; see [`ExchangeRate::cny_per_unit_e8`].
    pub rate: String,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(ExchangeRate);

impl ExchangeRate {
    /// CNY per one unit of the currency, × 10⁸. The sources disagree on the format and both
    /// are read: an integer is already × 10⁸ (the current documentation: 6.5 is
    /// `650000000`); a decimal is CNY per 100 units (WxJava, SKIT: `628.2100`).
    ///
    /// ```
    /// # use tenpay_client::ExchangeRate;
    /// assert_eq!(ExchangeRate::parse_rate("650000000"), Some(650_000_000));
    /// assert_eq!(ExchangeRate::parse_rate("628.2100"), Some(628_210_000));
    /// assert_eq!(ExchangeRate::parse_rate("6.5e8"), None);
    /// ```
    #[must_use]
    pub fn cny_per_unit_e8(&self) -> Option<u64> {
        Self::parse_rate(&self.rate)
    }

    /// [`ExchangeRate::cny_per_unit_e8`] of a rate's text.
    #[must_use]
    pub fn parse_rate(rate: &str) -> Option<u64> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match rate.split_once('.') {
            None if digits(rate) => rate.parse().ok(),
            // Per 100 units with up to 6 decimals: × 10⁶ per unit × 10⁸.
            Some((int, frac)) if digits(int) && digits(frac) && frac.len() <= 6 => {
                let scale = 10u64.pow(6 - u32::try_from(frac.len()).ok()?);
                let int: u64 = int.parse().ok()?;
                let frac: u64 = frac.parse().ok()?;
                int.checked_mul(1_000_000)?
                    .checked_add(frac.checked_mul(scale)?)
            }
            _ => None,
        }
    }
}

endpoint!(ExchangeRateQuery => ExchangeRate,
    Route::new("/pay/queryexchagerate").without_nonce().retry_safe());
