//! [`Merchant`]: a merchant as WeChat Pay knows it, the one value every layer is given: the
//! client signs requests and checks answers for it, the notifier checks notifications for it.

use crate::{ApiKey, SignType};

/// A merchant as WeChat Pay knows it: the appid, the mch_id, the API key, the sign type its
/// messages use, and in service-provider mode the sub-merchant's ids. Cheap to clone; the
/// key is never printed.
///
/// It is plain data. `tenpay-client` signs request bodies and reads answers for it (its
/// `MerchantExt`), `tenpay-notify`'s `Notifier` verifies notifications for it: build one and
/// give it to both.
///
/// ```
/// use tenpay_sign::{ApiKey, Merchant, SignType};
///
/// let merchant = Merchant::new(
///     "wx2421b1c4370ec43b",
///     "10000100",
///     ApiKey::new("192006250b4c09247ec02edce69f6a2d")?,
///     SignType::HmacSha256,
/// )
/// .with_sub_merchant("1900000109", None);
/// assert_eq!(merchant.sub_mch_id(), Some("1900000109"));
/// assert!(!format!("{merchant:?}").contains("192006250b4c"));
/// # Ok::<(), tenpay_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct Merchant {
    appid: String,
    mch_id: String,
    key: ApiKey,
    sign_type: SignType,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
    wecom_secret: Option<ApiKey>,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .field("sign_type", &self.sign_type)
            .field("sub_appid", &self.sub_appid)
            .field("sub_mch_id", &self.sub_mch_id)
            .field(
                "wecom_secret",
                &self.wecom_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl Merchant {
    /// The merchant `mch_id` paying through `appid`, signing with `key` and `sign_type` (the
    /// algorithm its orders use, and so the one their notifications are signed with).
    pub fn new(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
    ) -> Self {
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            key,
            sign_type,
            sub_appid: None,
            sub_mch_id: None,
            wecom_secret: None,
        }
    }

    /// The WeCom payment app's secret (企业微信 企业支付 secret), for the second signature of
    /// WeCom red packets (`workwx_sign`). Never printed.
    #[must_use]
    pub fn with_wecom_secret(mut self, secret: ApiKey) -> Self {
        self.wecom_secret = Some(secret);
        self
    }

    /// The WeCom payment app's secret, when set.
    #[must_use]
    pub fn wecom_secret(&self) -> Option<&ApiKey> {
        self.wecom_secret.as_ref()
    }

    /// The same merchant acting for a sub-merchant (service-provider mode): requests of the
    /// pay family carry `sub_mch_id` (and `sub_appid`), and answers and notifications must
    /// name them.
    #[must_use]
    pub fn with_sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self.sub_appid = sub_appid;
        self
    }

    /// The same merchant through another of its apps (a mini program beside an APP).
    #[must_use]
    pub fn with_appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = appid.into();
        self
    }

    /// The appid.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// The merchant id.
    #[must_use]
    pub fn mch_id(&self) -> &str {
        &self.mch_id
    }

    /// The sign type its messages use unless a route fixes another.
    #[must_use]
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The sub-merchant's mch_id, in service-provider mode.
    #[must_use]
    pub fn sub_mch_id(&self) -> Option<&str> {
        self.sub_mch_id.as_deref()
    }

    /// The sub-merchant's appid, in service-provider mode.
    #[must_use]
    pub fn sub_appid(&self) -> Option<&str> {
        self.sub_appid.as_deref()
    }

    /// The API key.
    #[must_use]
    pub fn key(&self) -> &ApiKey {
        &self.key
    }
}
