//! Payment codes: micropay, reverse, authcodetoopenid, and the poll-then-reverse helper.

use serde::{Deserialize, Serialize};
use tenpay_xml::{BeijingTime, Fen, XmlMap};

use crate::Route;
use crate::endpoint::{endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney, OutcomeUnknown, read_common};
use crate::{ErrCode, Error, OrderQueryResponse, OutTradeNo};

/// `/pay/micropay`: charge the payer's payment code (18 digits from their app).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Micropay {
    body: String,
    pub(crate) out_trade_no: OutTradeNo,
    total_fee: Fen,
    spbill_create_ip: String,
    auth_code: String,
    device_info: Option<String>,
    attach: Option<String>,
    time_expire: Option<BeijingTime>,
    detail: Option<String>,
    version: Option<&'static str>,
}

impl Micropay {
    /// Charge `total_fee` for `body` with the scanned `auth_code`.
    pub fn new(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        auth_code: impl Into<String>,
    ) -> Self {
        Self {
            body: body.into(),
            out_trade_no,
            total_fee,
            spbill_create_ip: client_ip.into(),
            auth_code: auth_code.into(),
            device_info: None,
            attach: None,
            time_expire: None,
            detail: None,
            version: None,
        }
    }

    /// Single-item discounts (单品优惠): `detail` in the discount layout, with `version=1.0`.
    #[must_use]
    pub fn single_item_discount(mut self, detail: &crate::DiscountDetail) -> Self {
        self.detail = Some(detail.to_json());
        self.version = Some("1.0");
        self
    }

    /// `device_info` (the till).
    #[must_use]
    pub fn device_info(mut self, d: impl Into<String>) -> Self {
        self.device_info = Some(d.into());
        self
    }

    /// `attach`.
    #[must_use]
    pub fn attach(mut self, a: impl Into<String>) -> Self {
        self.attach = Some(a.into());
        self
    }
}

/// The answer to [`Micropay`]: the payment went through.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MicropayResponse {
    /// The payer.
    pub openid: Option<String>,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// Amount.
    pub total_fee: Fen,
    /// Cash paid.
    pub cash_fee: Option<Fen>,
    /// Completion time.
    pub time_end: Option<BeijingTime>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(MicropayResponse);

// Not repeated blindly: after an unknown outcome the helper queries the order instead.
endpoint!(Micropay => MicropayResponse, Route::new("/pay/micropay").moving_money(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// A payment code's first refusals that charged nothing (`V2-PROTOCOL.md` §3.2): a bad,
/// expired or reused code, an unsupported card, a payer mismatch, the balance, a closed or
/// reversed order. `ORDERPAID` and `OUT_TRADE_NO_USED` take the number; `USERPAYING`,
/// `SYSTEMERROR`, `BANKERROR`, `INVALID_REQUEST` (also seen for a reused number) and unknown
/// codes are open.
impl MovesMoney for Micropay {
    fn number(&self) -> &str {
        self.out_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        if code.as_str() == "ORDERPAID" {
            return CodeReading::NumberTaken;
        }
        read_common(
            code,
            &[
                "AUTHCODEEXPIRE",
                "AUTH_CODE_ERROR",
                "AUTH_CODE_INVALID",
                "NOTSUPORTCARD",
                "BUYER_MISMATCH",
                "TRADE_ERROR",
                "NOTENOUGH",
                "ORDERCLOSED",
                "ORDERREVERSED",
            ],
        )
    }
}

/// `/secapi/pay/reverse` (client certificate required): cancel a payment-code order, refunding
/// it if it was paid.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Reverse {
    out_trade_no: OutTradeNo,
}

impl Reverse {
    /// Reverse this order.
    #[must_use]
    pub fn new(out_trade_no: OutTradeNo) -> Self {
        Self { out_trade_no }
    }
}

/// The answer to [`Reverse`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ReverseResponse {
    /// `Y`: call reverse again; `N`: done.
    pub recall: Option<String>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl ReverseResponse {
    /// Whether the server asks for the reversal to be repeated.
    #[must_use]
    pub fn recall(&self) -> bool {
        self.recall.as_deref() == Some("Y")
    }
}

keep_raw!(ReverseResponse);

endpoint!(Reverse => ReverseResponse, Route::new("/secapi/pay/reverse").certificate().retry_safe().moving_money(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// A reversal moves the payment back: only configuration codes and `REVERSE_EXPIRE` (too
/// late to reverse) mean it moved nothing.
impl MovesMoney for Reverse {
    fn number(&self) -> &str {
        self.out_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        read_common(code, &["REVERSE_EXPIRE"])
    }
}

/// `/tools/authcodetoopenid`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct AuthCodeToOpenid {
    auth_code: String,
}

impl AuthCodeToOpenid {
    /// Look up the payer of a payment code.
    pub fn new(auth_code: impl Into<String>) -> Self {
        Self {
            auth_code: auth_code.into(),
        }
    }
}

/// The answer to [`AuthCodeToOpenid`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuthCodeToOpenidResponse {
    /// The payer's openid.
    pub openid: String,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(AuthCodeToOpenidResponse);

endpoint!(AuthCodeToOpenid => AuthCodeToOpenidResponse, Route::new("/tools/authcodetoopenid").retry_safe(),
    trade_no: |_s| None);

/// How a payment-code charge ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum MicropayOutcome {
    /// Paid at once.
    Paid(Box<MicropayResponse>),
    /// Paid after polling: orderquery reported this number paid with this amount.
    PaidAfterPolling(Box<OrderQueryResponse>),
    /// Not paid within the window: the order was reversed (any charge goes back).
    Reversed {
        /// The last thing seen before reversing.
        reason: String,
    },
    /// Neither paid nor reversed for certain: the reversal failed or stayed open, or the
    /// number was found paid with another amount. Query the number; never charge again under
    /// a new one until it is settled.
    Unknown(OutcomeUnknown),
}

/// Why an orderquery SUCCESS is not this request's payment: another number, or another
/// amount (the number was used with other parameters).
pub(crate) fn mismatch(request: &Micropay, q: &OrderQueryResponse) -> Option<Error> {
    let number = q.out_trade_no.as_deref();
    if number != Some(request.out_trade_no.as_str()) {
        return Some(Error::Mismatch {
            field: "out_trade_no",
            expected: request.out_trade_no.as_str().to_owned(),
            received: number.unwrap_or("").to_owned(),
        });
    }
    if q.total_fee != Some(request.total_fee) {
        return Some(Error::Mismatch {
            field: "total_fee",
            expected: request.total_fee.get().to_string(),
            received: q.total_fee.map_or(String::new(), |f| f.get().to_string()),
        });
    }
    None
}
