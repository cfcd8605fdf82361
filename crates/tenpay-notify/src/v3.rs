//! WeChat Pay API v3 notifications: verified over the raw body against the key its
//! `Wechatpay-Serial` names, the resource decrypted under the APIv3 key, the plaintext read
//! as a payment or a refund, and the merchant checked. Sans-IO, like the V2 core: the
//! caller passes the headers, the raw body and the time.
//!
//! ```
//! use tenpay_notify::v3::{Event, Notifier};
//! use tenpay_sign_v3::{ApiV3Key, KeyRing, PublicKey, SignedHeaders, Verifier};
//! # let pem = include_str!("../../tenpay-sign-v3/tests/data/wechatpay-java_wechat_pay_public_key.pem");
//! # let body = include_bytes!("../../tenpay-sign-v3/tests/data/computed_notify_transaction_32bytekey.json");
//! # let signature = "aK6pCFuPWrZxXvIc1DzL6wRY8xpcQhCN+cnBJDVEI36woyvtw3il94jsJGYyf+Ox/sRS3xzHzidoE8oIAoRgz4fSGPNetxRWchVnc6R1AgA/SQbhr2NfsgHi1w23WbYy9uGfk2DV9I5XY38HS9kiMWUrjszHVNcySPO9dVcv2pbQsieYDSxcLu1lp0LpyQFWRpdxoviqTfBLC+606FFFNe+sC4P3VRTy+Ua7iPmn2qaj6xFWthuJSuxTQL4ElNRiYzaVVj8zuLFow1e4s/QqwqF2KAl4F7rZDTgKRih/CUfAo9zxEWYSYQRRj1dCEuzPH3QMtfBbU8gCV080+R8QEA==";
//! let mut keys = Verifier::new();
//! keys.add_public_key("PUB_KEY_ID_0112345678202405010012345678", PublicKey::from_pem(pem)?)?;
//! let notifier = Notifier::new("1230000109", ApiV3Key::new("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")?, KeyRing::new(keys));
//! let headers = SignedHeaders::new("1722850421", "d824f2e086d3c1df967785d13fcd22ef", signature, "PUB_KEY_ID_0112345678202405010012345678");
//! let n = notifier.handle(&headers, body, 1722850421)?;
//! let Event::Transaction(paid) = n.event else { panic!("a payment") };
//! // Settle against the order's own amount, never the notification's.
//! let settled = paid.settle(tenpay_xml::Fen::new(100))?;
//! assert_eq!(settled.out_trade_no.as_str(), "1217752501201407033233368018");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Deserialize;
use tenpay_sign_v3::{ApiV3Key, DecryptError, KeyRing, Resource, SignedHeaders, VerifyError};
use tenpay_xml::v3::{RefundNotice, Transaction};
use tenpay_xml::{Fen, OutTradeNo, TradeState};

/// The largest notification body read by default (a payment notification is about 1 KiB).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// Why a v3 notification was refused: do not act on it; answer with a failure (WeChat Pay
/// retries a genuine one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is over the limit.
    #[error("the notification body is over {0} bytes")]
    TooLarge(usize),
    /// The signature headers or the signature failed (a forgery, a stale or replayed
    /// message, an unknown key, a signature probe: [`VerifyError`] says which).
    #[error("the notification's signature failed")]
    Verify(#[source] VerifyError),
    /// The body or the decrypted plaintext is not the JSON expected.
    #[error("the notification is not the JSON expected: {0}")]
    Json(String),
    /// `resource_type` is not `encrypt-resource`.
    #[error("resource_type {0:?} is not encrypt-resource")]
    ResourceType(String),
    /// The resource did not decrypt (the wrong APIv3 key, or a changed resource).
    #[error("the resource did not decrypt")]
    Decrypt(#[source] DecryptError),
    /// The plaintext is for another merchant.
    #[error("the notification is for merchant {received:?}, not this one")]
    ForeignMerchant {
        /// The merchant id received.
        received: String,
    },
    /// The payment did not succeed: nothing to settle.
    #[error("the payment is {0}, not SUCCESS: nothing to settle")]
    NotPaid(TradeState),
    /// The amount paid is not the order's own amount.
    #[error("amount mismatch: order expects {expected} fen, notification says {received:?}")]
    AmountMismatch {
        /// The merchant's own amount.
        expected: Fen,
        /// `amount.total` received.
        received: Option<Fen>,
    },
}

/// The notification's envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: Option<String>,
    event_type: String,
    resource_type: String,
    #[serde(default)]
    summary: Option<String>,
    resource: Resource,
}

/// A verified, decrypted notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// The notification's id: the same for every delivery of one notification (retries
    /// included), so a handler keys its idempotency on it or on the order.
    pub id: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`, …
    pub event_type: String,
    /// When WeChat Pay made it (RFC 3339).
    pub create_time: Option<String>,
    /// `支付成功`, `退款成功`, …
    pub summary: Option<String>,
    /// What it says.
    pub event: Event,
    /// The decrypted plaintext, exactly (for the audit trail).
    pub plaintext: String,
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A payment (`TRANSACTION.*`): settle it against the order's own amount.
    Transaction(Paid),
    /// A refund's end (`REFUND.*`).
    Refund(RefundNotice),
    /// Another kind (papay, profit sharing, …): the resource's `original_type` and the
    /// plaintext is in [`Notification::plaintext`].
    Other {
        /// The resource's `original_type`.
        original_type: Option<String>,
    },
}

/// A payment notification's transaction, not yet settled: the only way on is
/// [`settle`](Self::settle) with the merchant's own amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid(Transaction);

impl Paid {
    /// The transaction as notified (to find the order).
    #[must_use]
    pub fn transaction(&self) -> &Transaction {
        &self.0
    }

    /// The order number, to look the order up.
    #[must_use]
    pub fn out_trade_no(&self) -> &OutTradeNo {
        &self.0.out_trade_no
    }

    /// Checks that the payment succeeded for exactly the order's own amount.
    ///
    /// # Errors
    /// [`Error::NotPaid`] or [`Error::AmountMismatch`].
    pub fn settle(self, expected: Fen) -> Result<Settled, Error> {
        if self.0.trade_state != TradeState::Success {
            return Err(Error::NotPaid(self.0.trade_state));
        }
        let received = self.0.total();
        if received != Some(expected) {
            return Err(Error::AmountMismatch { expected, received });
        }
        Ok(Settled {
            out_trade_no: self.0.out_trade_no.clone(),
            transaction_id: self.0.transaction_id.clone(),
            total: expected,
            transaction: self.0,
        })
    }
}

/// A payment checked against the order's own amount.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settled {
    /// The order number.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The amount, equal to the order's.
    pub total: Fen,
    /// The whole transaction.
    pub transaction: Transaction,
}

/// Verifies and decrypts the v3 notifications of one merchant. Cheap to clone; the key
/// ring is shared with whatever refreshes it (the client's certificate download).
#[derive(Debug, Clone)]
pub struct Notifier {
    mchid: String,
    key: ApiV3Key,
    keys: KeyRing,
    max_body: usize,
    clock: fn() -> u64,
}

fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Notifier {
    /// A notifier for merchant `mchid` (the service provider's id in partner mode) with its
    /// APIv3 key and WeChat Pay's keys.
    #[must_use]
    pub fn new(mchid: &str, apiv3_key: ApiV3Key, keys: KeyRing) -> Self {
        Self {
            mchid: mchid.to_owned(),
            key: apiv3_key,
            keys,
            max_body: DEFAULT_MAX_BODY,
            clock: system_now,
        }
    }

    /// The largest body accepted.
    #[must_use]
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// The clock the service verifies with (Unix seconds; the system's by default). The
    /// sans-IO [`handle`](Self::handle) takes the time as an argument instead.
    #[must_use]
    pub fn clock(mut self, now: fn() -> u64) -> Self {
        self.clock = now;
        self
    }

    /// The time by this notifier's clock.
    #[must_use]
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The shared keys.
    #[must_use]
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Verifies a notification (signature headers, raw body, the time now), decrypts it and
    /// reads it.
    ///
    /// # Errors
    /// One [`Error`] per reason; nothing of a refused notification may be acted on.
    pub fn handle(
        &self,
        headers: &SignedHeaders<'_>,
        body: &[u8],
        now: u64,
    ) -> Result<Notification, Error> {
        if body.len() > self.max_body {
            return Err(Error::TooLarge(self.max_body));
        }
        self.keys
            .verify(headers, body, now)
            .map_err(Error::Verify)?;
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
        if envelope.resource_type != "encrypt-resource" {
            return Err(Error::ResourceType(envelope.resource_type));
        }
        let plaintext = self.key.open(&envelope.resource).map_err(Error::Decrypt)?;
        let event = self.read(&envelope, &plaintext)?;
        Ok(Notification {
            id: envelope.id,
            event_type: envelope.event_type,
            create_time: envelope.create_time,
            summary: envelope.summary,
            event,
            plaintext,
        })
    }

    fn read(&self, envelope: &Envelope, plaintext: &str) -> Result<Event, Error> {
        let json = |e: serde_json::Error| Error::Json(e.to_string());
        let mine = |merchant: Option<&str>| match merchant {
            Some(m) if m == self.mchid => Ok(()),
            other => Err(Error::ForeignMerchant {
                received: other.unwrap_or("").to_owned(),
            }),
        };
        let kind = envelope.event_type.split('.').next().unwrap_or("");
        Ok(match kind {
            "TRANSACTION" => {
                let t: Transaction = serde_json::from_str(plaintext).map_err(json)?;
                mine(t.merchant())?;
                Event::Transaction(Paid(t))
            }
            "REFUND" => {
                let r: RefundNotice = serde_json::from_str(plaintext).map_err(json)?;
                mine(r.merchant())?;
                Event::Refund(r)
            }
            _ => Event::Other {
                original_type: envelope.resource.original_type.clone(),
            },
        })
    }
}

/// The success answer: HTTP 204, no body (200 is taken too; the status decides, not a body).
pub const ACK_STATUS: u16 = 204;

/// The failure answer's body, `{"code":"FAIL","message":…}`, sent with a 4xx or 5xx
/// status (WeChat Pay retries).
#[must_use]
pub fn nack(message: &str) -> Vec<u8> {
    serde_json::json!({ "code": "FAIL", "message": message })
        .to_string()
        .into_bytes()
}
