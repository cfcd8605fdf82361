//! The simulator's public vocabulary: merchants, orders, deliveries, faults.

use serde::{Deserialize, Serialize};
use tenpay_sign::ApiKey;
use tenpay_xml::Fen;

/// A merchant account the simulator knows (WeChat Pay's side of what `tenpay_client::Merchant`
/// signs as): appid, mch_id and API key, and optionally the
/// sub-merchants it serves as a service provider.
#[derive(Debug, Clone)]
pub struct MerchantAccount {
    pub(crate) appid: String,
    pub(crate) mch_id: String,
    pub(crate) key: ApiKey,
    pub(crate) sandbox_key: ApiKey,
    pub(crate) subs: Vec<SubMerchant>,
    pub(crate) refund_notify_url: Option<String>,
    pub(crate) scan_callback_url: Option<String>,
    /// The WeCom corp this merchant pays red packets for, and its payment app's secret.
    pub(crate) wecom: Option<(String, ApiKey)>,
    /// The operation account's opening balance, which transfers, bank payments and red
    /// packets draw from.
    pub(crate) balance: Fen,
    /// API v3: the APIv3 key, the merchant API certificate and how answers are signed.
    pub(crate) v3: Option<crate::v3::V3Account>,
}

/// A merchant's funded balance unless set: 10,000,000.00 yuan.
pub const DEFAULT_BALANCE: Fen = Fen::new(1_000_000_000);

/// A sub-merchant of a service provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubMerchant {
    /// The sub-merchant id.
    pub sub_mch_id: String,
    /// The sub-merchant's own appid, if it has one.
    pub sub_appid: Option<String>,
}

impl MerchantAccount {
    /// A merchant account. The sandbox sign key is derived from the API key.
    #[must_use]
    pub fn new(appid: impl Into<String>, mch_id: impl Into<String>, key: ApiKey) -> Self {
        let sandbox = crate::ids::hex_upper(&md5_of(&format!("sandbox:{}", key.expose_secret())));
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            sandbox_key: ApiKey::new(sandbox).unwrap_or_else(|_| key.clone()),
            key,
            subs: Vec::new(),
            refund_notify_url: None,
            scan_callback_url: None,
            wecom: None,
            balance: DEFAULT_BALANCE,
            v3: None,
        }
    }

    /// Opens API v3 for this merchant: its APIv3 key (which encrypts notification
    /// resources), its API certificate's serial and public key (which check its
    /// `Authorization`). Answers and notifications are signed with the newest platform
    /// certificate unless [`v3_signing`](Self::v3_signing) says the public key.
    #[must_use]
    pub fn api_v3(
        mut self,
        apiv3_key: tenpay_sign_v3::ApiV3Key,
        certificate_serial: tenpay_sign_v3::KeyId,
        public_key: tenpay_sign_v3::PublicKey,
    ) -> Self {
        self.v3 = Some(crate::v3::V3Account {
            apiv3_key,
            serial: certificate_serial,
            public_key,
            signing: crate::v3::V3Signing::default(),
        });
        self
    }

    /// API v3 with the official SDKs' public test merchant key ([`crate::v3::TEST_MERCHANT_KEY_PEM`],
    /// serial [`crate::v3::TEST_MERCHANT_SERIAL`]) and APIv3 key
    /// ([`crate::v3::TEST_APIV3_KEY`]): for tests and the quickstart, never production.
    #[must_use]
    pub fn test_api_v3(self) -> Self {
        match crate::v3::test_account() {
            Some(a) => {
                let signing = self.v3.as_ref().map(|v| v.signing).unwrap_or_default();
                let mut this = self.api_v3(a.apiv3_key, a.serial, a.public_key);
                if let Some(v) = this.v3.as_mut() {
                    v.signing = signing;
                }
                this
            }
            None => self,
        }
    }

    /// Which key signs this merchant's v3 answers and notifications (after
    /// [`api_v3`](Self::api_v3)).
    #[must_use]
    pub fn v3_signing(mut self, signing: crate::v3::V3Signing) -> Self {
        if let Some(v) = self.v3.as_mut() {
            v.signing = signing;
        }
        self
    }

    /// The operation account's opening balance (default 10,000,000.00 yuan), which money
    /// out (transfers, bank payments, red packets) draws from; below the amount, WeChat Pay
    /// answers `NOTENOUGH`.
    #[must_use]
    pub fn balance(mut self, balance: Fen) -> Self {
        self.balance = balance;
        self
    }

    /// Adds a sub-merchant (service-provider mode).
    #[must_use]
    pub fn sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.subs.push(SubMerchant {
            sub_mch_id: sub_mch_id.into(),
            sub_appid,
        });
        self
    }

    /// The refund notification URL configured "on the merchant platform", used when a refund
    /// request carries no `notify_url`.
    #[must_use]
    pub fn refund_notify_url(mut self, url: impl Into<String>) -> Self {
        self.refund_notify_url = Some(url.into());
        self
    }

    /// The scan callback URL configured "on the merchant platform" (扫码支付回调URL): where
    /// a scanned product QR code (Native mode 1) is posted for an order.
    #[must_use]
    pub fn scan_callback_url(mut self, url: impl Into<String>) -> Self {
        self.scan_callback_url = Some(url.into());
        self
    }

    /// The WeCom corp `corpid` whose payment app (secret `secret`) sends WeCom red packets
    /// through this merchant: `sendworkwxredpack` checks `workwx_sign` with it.
    #[must_use]
    pub fn wecom(mut self, corpid: impl Into<String>, secret: ApiKey) -> Self {
        self.wecom = Some((corpid.into(), secret));
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

    /// The sandbox sign key `getsignkey` hands out.
    #[must_use]
    pub fn sandbox_key(&self) -> &ApiKey {
        &self.sandbox_key
    }
}

pub(crate) fn md5_of(s: &str) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes()).into()
}

/// An order as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderView {
    /// Merchant id.
    pub mch_id: String,
    /// Sub-merchant id (service-provider mode).
    pub sub_mch_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// `NOTPAY`, `SUCCESS`, `REFUND`, `CLOSED`, `REVOKED`, `USERPAYING` or `PAYERROR`.
    pub trade_state: String,
    /// `JSAPI`, `NATIVE`, `APP`, `MWEB` or `MICROPAY`.
    pub trade_type: String,
    /// Amount (a number of fen in JSON).
    #[serde(with = "fen_number")]
    pub total_fee: Fen,
    /// The prepay id (not for MICROPAY).
    pub prepay_id: Option<String>,
    /// NATIVE: the QR code content.
    pub code_url: Option<String>,
    /// When the order was placed (Unix seconds).
    pub created_at: i64,
    /// Its `time_expire` (Unix seconds), when it was placed with one.
    pub expires_at: Option<i64>,
    /// WeChat Pay's transaction id, once paid.
    pub transaction_id: Option<String>,
    /// The notification URL.
    pub notify_url: Option<String>,
    /// The algorithm the order was placed with.
    pub sign_type: String,
    /// The API it was placed through: `v2` or `v3` (whose notifications are JSON, signed
    /// with a platform key).
    #[serde(default)]
    pub api: String,
    /// The refunds, in order.
    pub refunds: Vec<RefundView>,
}

/// A refund as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundView {
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// Amount (a number of fen in JSON).
    #[serde(with = "fen_number")]
    pub refund_fee: Fen,
    /// `PROCESSING`, `SUCCESS`, …
    pub refund_status: String,
}

/// Which notification a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DeliveryKind {
    /// A payment notification.
    Pay,
    /// A refund notification.
    Refund,
    /// A contract notification (papay: signed or terminated).
    Contract,
}

/// One notification and every attempt to deliver it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryView {
    /// Sequence number.
    pub id: u64,
    /// Payment or refund.
    pub kind: DeliveryKind,
    /// Merchant id.
    pub mch_id: String,
    /// The order.
    pub out_trade_no: String,
    /// Where it is sent.
    pub url: String,
    /// The exact body sent.
    pub body: String,
    /// Whether an attempt was acknowledged.
    pub acknowledged: bool,
    /// Whether retries are exhausted without an acknowledgement.
    pub abandoned: bool,
    /// Every attempt so far.
    pub attempts: Vec<Attempt>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// Milliseconds since the simulator started.
    pub at_ms: u64,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Whether WeChat Pay would count it as acknowledged (HTTP 200 and `return_code` SUCCESS).
    pub acknowledged: bool,
    /// What happened, for people: the verdict on the reply, or why there was none.
    pub outcome: String,
    /// The merchant's reply body (its first 512 bytes), when there was one.
    pub reply: Option<String>,
}

/// A fault to inject into an endpoint's next answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// A signed `result_code=FAIL` `SYSTEMERROR` answer; the request is not processed.
    SystemError,
    /// The request is processed (a transfer booked, a packet sent), then answered
    /// `SYSTEMERROR`: the unknown outcome a client must not turn into a second payment.
    SystemErrorAfterProcessing,
    /// A signed `result_code=FAIL` answer with this `err_code`; the request is not processed.
    BusinessError {
        /// The `err_code`, e.g. `NOTENOUGH`.
        err_code: String,
    },
    /// The request is processed after this delay (milliseconds, not scaled).
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// The request is processed, then the connection is dropped without an answer.
    Drop,
    /// HTTP 500 with an empty body; the request is not processed.
    Http500,
    /// HTTP 200 with an HTML page (a proxy error page); the request is not processed.
    Html,
    /// The request is processed; the answer's signature is wrong.
    BadSignature,
    /// The request is processed; the answer is cut in the middle.
    Truncated,
    /// The request is processed and accepted, and what it started ends in `state` with
    /// `reason`: a bank payment `FAILED` or `BANK_FAIL` (the money back in the operation
    /// account), a profit-sharing split whose receivers' shares are `CLOSED` (or stay
    /// `PENDING`).
    Settles {
        /// The end state.
        state: String,
        /// Why (`reason`, `fail_reason`).
        reason: String,
    },
}

/// A fault rule: which endpoint, what, how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// The endpoint's last path segment (`unifiedorder`, `refund`, `orderquery`, …), or `*`.
    pub endpoint: String,
    /// What to do.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Apply to the next `count` matching calls (when set).
    pub count: Option<u32>,
    /// Otherwise apply with this probability, in thousandths (1000 = always).
    pub per_mille: Option<u16>,
}

impl Fault {
    /// The fault for the next `count` calls of `endpoint`.
    #[must_use]
    pub fn next(endpoint: impl Into<String>, kind: FaultKind, count: u32) -> Self {
        Self {
            endpoint: endpoint.into(),
            kind,
            count: Some(count),
            per_mille: None,
        }
    }

    /// The fault with probability `per_mille`/1000 on every call of `endpoint`.
    #[must_use]
    pub fn sometimes(endpoint: impl Into<String>, kind: FaultKind, per_mille: u16) -> Self {
        Self {
            endpoint: endpoint.into(),
            kind,
            count: None,
            per_mille: Some(per_mille),
        }
    }
}

/// How the simulated user pays an order (control API `pay`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PayOptions {
    /// The payer's openid (a fixed test openid when absent; the order's own for JSAPI).
    pub openid: Option<String>,
    /// A coupon of this amount is applied (cash paid = total minus coupon; a number of fen in
    /// JSON).
    #[serde(default, with = "fen_number_opt")]
    pub coupon_fee: Option<Fen>,
    /// Whether the notification carries a `sign_type` field (real ones vary). Default: no.
    pub sign_type_field: Option<bool>,
    /// The payer's payment began before the order was closed (or expired) and completes
    /// after: WeChat Pay reports it paid although the merchant closed it, a race its guidance
    /// names (the merchant refunds). Default: no, a closed or expired order cannot be paid.
    pub after_close: Option<bool>,
}

impl PayOptions {
    /// The defaults: a test openid, no coupon, no `sign_type` field.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The payer's openid.
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// A coupon of this amount.
    #[must_use]
    pub fn coupon_fee(mut self, fee: Fen) -> Self {
        self.coupon_fee = Some(fee);
        self
    }

    /// Whether the notification carries a `sign_type` field.
    #[must_use]
    pub fn sign_type_field(mut self, yes: bool) -> Self {
        self.sign_type_field = Some(yes);
        self
    }

    /// The payment completes although the order was closed or expired meanwhile (see the
    /// field).
    #[must_use]
    pub fn after_close(mut self, yes: bool) -> Self {
        self.after_close = Some(yes);
        self
    }
}

/// How much the simulator keeps, so that one left running for a week under a load test stays
/// flat. When a list is full, the oldest *completed* entry goes first (an order that is closed,
/// reversed, failed, or paid with no refund in progress; a delivery acknowledged or abandoned);
/// when none of the oldest entries is completed, the oldest goes anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Orders kept (default 100,000).
    pub orders: usize,
    /// Notifications kept, with their attempts (default 10,000).
    pub deliveries: usize,
    /// Faults set at once (default 256); more are refused.
    pub faults: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            orders: 100_000,
            deliveries: 10_000,
            faults: 256,
        }
    }
}

impl Limits {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Orders kept.
    #[must_use]
    pub fn orders(mut self, n: usize) -> Self {
        self.orders = n.max(1);
        self
    }

    /// Notifications kept.
    #[must_use]
    pub fn deliveries(mut self, n: usize) -> Self {
        self.deliveries = n.max(1);
        self
    }

    /// Faults set at once.
    #[must_use]
    pub fn faults(mut self, n: usize) -> Self {
        self.faults = n;
        self
    }
}

/// A merchant as the dashboard lists it (never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantView {
    /// The appid.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// Its sub-merchants' ids.
    pub sub_mch_ids: Vec<String>,
}

/// `Fen` as a JSON number (the control API's amounts).
mod fen_number {
    use serde::{Deserialize, Deserializer, Serializer};
    use tenpay_xml::Fen;

    pub(super) fn serialize<S: Serializer>(v: &Fen, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.get())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
        u64::deserialize(d).map(Fen::new)
    }
}

/// `Option<Fen>` as an optional JSON number.
mod fen_number_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use tenpay_xml::Fen;

    pub(super) fn serialize<S: Serializer>(v: &Option<Fen>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => s.serialize_some(&f.get()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Fen>, D::Error> {
        Option::<u64>::deserialize(d).map(|o| o.map(Fen::new))
    }
}
