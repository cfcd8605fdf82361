//! Payment codes: micropay, reverse, authcodetoopenid, and the poll-then-reverse helper.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tenpay_xml::{BeijingTime, Fen, TradeState, XmlMap};

use crate::endpoint::{endpoint, keep_raw};
use crate::{Client, ErrCode, Error, OrderQuery, OrderQueryResponse, OutTradeNo};

/// `/pay/micropay`: charge the payer's payment code (18 digits from their app).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Micropay {
    body: String,
    out_trade_no: OutTradeNo,
    total_fee: Fen,
    spbill_create_ip: String,
    auth_code: String,
    device_info: Option<String>,
    attach: Option<String>,
    time_expire: Option<BeijingTime>,
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
        }
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
endpoint!(Micropay => MicropayResponse, "/pay/micropay", secapi: false, retry: false,
    trade_no: |s| Some(s.out_trade_no.as_str()));

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

endpoint!(Reverse => ReverseResponse, "/secapi/pay/reverse", secapi: true, retry: true,
    trade_no: |s| Some(s.out_trade_no.as_str()));

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

endpoint!(AuthCodeToOpenid => AuthCodeToOpenidResponse, "/tools/authcodetoopenid", secapi: false, retry: true,
    trade_no: |_s| None);

/// How a payment-code charge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MicropayOutcome {
    /// Paid at once.
    Paid(Box<MicropayResponse>),
    /// Paid after polling.
    PaidAfterPolling(Box<OrderQueryResponse>),
    /// Not paid within the window (or refused): the order was reversed.
    Reversed {
        /// The last error seen before reversing.
        reason: String,
    },
}

impl Client {
    /// Charges a payment code the documented way: micropay; on USERPAYING, SYSTEMERROR or
    /// BANKERROR (or a transport failure), poll orderquery with backoff for up to the
    /// configured window; if still unpaid, reverse the order, repeating while the server
    /// answers `recall=Y`.
    ///
    /// # Errors
    /// A final business error from micropay (AUTHCODEEXPIRE, NOTENOUGH, …), or the error that
    /// stopped the reversal.
    pub async fn pay_with_code(&self, request: &Micropay) -> Result<MicropayOutcome, Error> {
        let first = match self.execute(request).await {
            Ok(paid) => return Ok(MicropayOutcome::Paid(Box::new(paid))),
            Err(e) if in_doubt(&e) => e,
            Err(e) => return Err(e),
        };
        let started = Instant::now();
        let mut reason = first.to_string();
        let mut interval = self.inner.poll_interval;
        let query = OrderQuery::by_out_trade_no(request.out_trade_no.clone());
        while started.elapsed() < self.inner.poll_window {
            tokio::time::sleep(
                interval.min(self.inner.poll_window.saturating_sub(started.elapsed())),
            )
            .await;
            match self.execute(&query).await {
                Ok(q) if q.trade_state == TradeState::Success => {
                    return Ok(MicropayOutcome::PaidAfterPolling(Box::new(q)));
                }
                Ok(q)
                    if q.trade_state == TradeState::UserPaying
                        || q.trade_state == TradeState::NotPay =>
                {
                    reason = format!("trade_state {}", q.trade_state);
                }
                Ok(q) => {
                    reason = format!("trade_state {}", q.trade_state);
                    break;
                }
                Err(e) => reason = e.to_string(),
            }
            interval = (interval * 3 / 2).min(self.inner.poll_interval * 3);
        }
        let reverse = Reverse::new(request.out_trade_no.clone());
        for _ in 0..10 {
            let answer = self.execute(&reverse).await?;
            if !answer.recall() {
                return Ok(MicropayOutcome::Reversed { reason });
            }
            tokio::time::sleep(self.inner.poll_interval / 5).await;
        }
        Err(Error::Business {
            err_code: ErrCode::SystemError,
            err_code_des: "reverse still asks for recall after 10 tries".into(),
        })
    }
}

/// Whether micropay may have charged the payer. Only a request that was never sent, or a
/// verified `result_code=FAIL` with a final `err_code`, is known not to have; everything else
/// (a transport error, an HTTP error, an answer that is not XML, does not verify, is for
/// another merchant or does not decode, `return_code=FAIL`) is in doubt: query, then reverse.
fn in_doubt(e: &Error) -> bool {
    match e {
        Error::Business { err_code, .. } => matches!(
            err_code,
            ErrCode::UserPaying | ErrCode::SystemError | ErrCode::BankError | ErrCode::Unknown(_)
        ),
        Error::Config(_) | Error::NoIdentity { .. } | Error::Request(_) => false,
        _ => true,
    }
}
