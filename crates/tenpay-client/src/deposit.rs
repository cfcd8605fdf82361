//! Deposits (押金, a service-provider product behind a whitelist): a payment code freezes a
//! deposit (`/deposit/micropay`), part of it is consumed later (`/deposit/consume`: the rest
//! goes back to the payer), and a consumed amount can be refunded (`/deposit/refund`).
//!
//! Each call is another family's request on the deposit route: [`DepositMicropay`] wraps a
//! [`Micropay`], [`DepositRefund`] a [`Refund`], and so on, with the same answers and the
//! same in-doubt rules as payment codes and refunds ([`Client::execute_money`]). Every
//! request is signed HMAC-SHA256 and says so (`sign_type`): the documentation allows MD5 for
//! some, the merchants who run it report HMAC-SHA256 only, and consume and refund take only
//! HMAC-SHA256. `fee_type=CNY` is always sent (marked optional, reported required).
//!
//! [`Client::execute_money`]: crate::Client::execute_money

use serde::{Deserialize, Serialize};
use tenpay_sign::SignType;
use tenpay_xml::{Currency, Fen, XmlMap};

use crate::endpoint::{endpoint, keep_raw, wrapped_request};
use crate::outcome::{CodeReading, MovesMoney, read_common};
use crate::{
    ErrCode, FacePay, Micropay, MicropayResponse, OrderQuery, OrderQueryResponse, OutTradeNo,
    Refund, RefundQuery, RefundQueryResponse, RefundResponse, Reverse, ReverseResponse, Route,
    UnifiedOrder, UnifiedOrderResponse,
};

wrapped_request!(
    /// `/deposit/micropay`: freeze a deposit with the payer's payment code (`deposit=Y`).
    /// Moves money, as a payment code does: an open outcome is settled by
    /// [`DepositOrderQuery`].
    DepositMicropay(Micropay)
);
wrapped_request!(
    /// `/deposit/orderquery`: a deposit order, with its consumed amount
    /// ([`OrderQueryResponse::consume_fee`]).
    DepositOrderQuery(OrderQuery)
);
wrapped_request!(
    /// `/deposit/reverse` (certificate): cancel a deposit not consumed yet, unfreezing it. Call
    /// it 15 s or more after the payment.
    DepositReverse(Reverse)
);
wrapped_request!(
    /// `/deposit/refund` (certificate): refund part of the consumed amount.
    DepositRefund(Refund)
);
wrapped_request!(
    /// `/deposit/refundquery`.
    DepositRefundQuery(RefundQuery)
);

/// `/deposit/unifiedorder` (JSAPI, APP): a deposit order the payer pays in their app
/// (`deposit=Y`, `fee_type=CNY`); no coupons. Safe to repeat with the same parameters, as
/// unifiedorder is.
#[derive(Debug, Clone)]
pub struct DepositUnifiedOrder(UnifiedOrder);

impl DepositUnifiedOrder {
    /// The deposit family's unifiedorder of `order`.
    #[must_use]
    pub fn new(order: UnifiedOrder) -> Self {
        Self(order.fee_type(Currency::Cny))
    }
}

/// `/deposit/facepay`: freeze a deposit with a face code (HMAC-SHA256 only). Moves money, as
/// [`FacePay`] does.
#[derive(Debug, Clone)]
pub struct DepositFacePay(FacePay);

impl DepositFacePay {
    /// The deposit family's face charge.
    #[must_use]
    pub fn new(charge: FacePay) -> Self {
        Self(charge)
    }
}

const HMAC: SignType = SignType::HmacSha256;

endpoint!(DepositUnifiedOrder(UnifiedOrder) => UnifiedOrderResponse,
    Route::new("/deposit/unifiedorder").signed_with(HMAC).retry_safe(),
    adds: [("deposit", "Y")]);
endpoint!(DepositFacePay(FacePay) => MicropayResponse,
    Route::new("/deposit/facepay").signed_with(HMAC).moving_money(),
    adds: [("deposit", "Y")]);

/// As a face charge's.
impl MovesMoney for DepositFacePay {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        FacePay::read_code(code)
    }
}

endpoint!(DepositMicropay(Micropay) => MicropayResponse,
    Route::new("/deposit/micropay").signed_with(HMAC).moving_money(),
    adds: [("deposit", "Y"), ("fee_type", "CNY")]);
endpoint!(DepositOrderQuery(OrderQuery) => OrderQueryResponse,
    Route::new("/deposit/orderquery").signed_with(HMAC).retry_safe(), adds: []);
endpoint!(DepositReverse(Reverse) => ReverseResponse,
    Route::new("/deposit/reverse").signed_with(HMAC).certificate().retry_safe().moving_money(),
    adds: []);
endpoint!(DepositRefund(Refund) => RefundResponse,
    Route::new("/deposit/refund").signed_with(HMAC).certificate().retry_safe().moving_money(),
    adds: []);
endpoint!(DepositRefundQuery(RefundQuery) => RefundQueryResponse,
    Route::new("/deposit/refundquery").signed_with(HMAC).retry_safe(), adds: []);

/// As a payment code's.
impl MovesMoney for DepositMicropay {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Micropay::read_code(code)
    }
}

/// As a reversal's.
impl MovesMoney for DepositReverse {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Reverse::read_code(code)
    }
}

/// As a refund's; repeat it under the same `out_refund_no`.
impl MovesMoney for DepositRefund {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Refund::read_code(code)
    }
}

/// `/deposit/consume` (certificate): settle `consume_fee` of a frozen deposit of
/// `total_fee`; the rest goes back to the payer. The total of what is consumed is at most
/// the deposit.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DepositConsume {
    transaction_id: Option<String>,
    out_trade_no: Option<OutTradeNo>,
    total_fee: Fen,
    consume_fee: Fen,
    fee_type: Currency,
}

impl DepositConsume {
    /// Consume `consume_fee` of the deposit `out_trade_no` (whose amount is `total_fee`).
    #[must_use]
    pub fn by_out_trade_no(out_trade_no: OutTradeNo, total_fee: Fen, consume_fee: Fen) -> Self {
        Self {
            transaction_id: None,
            out_trade_no: Some(out_trade_no),
            total_fee,
            consume_fee,
            fee_type: Currency::Cny,
        }
    }

    /// The same, by WeChat Pay's transaction id (which the documentation prefers).
    #[must_use]
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        total_fee: Fen,
        consume_fee: Fen,
    ) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            out_trade_no: None,
            total_fee,
            consume_fee,
            fee_type: Currency::Cny,
        }
    }

    /// The same by both numbers, as the documentation's samples send them: WeChat Pay goes
    /// by `transaction_id`, and the audit trail by `out_trade_no`.
    #[must_use]
    pub fn by_ids(
        transaction_id: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        consume_fee: Fen,
    ) -> Self {
        Self {
            out_trade_no: Some(out_trade_no),
            ..Self::by_transaction_id(transaction_id, total_fee, consume_fee)
        }
    }
}

/// The answer to [`DepositConsume`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DepositConsumed {
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The deposit.
    pub total_fee: Option<Fen>,
    /// What was consumed.
    pub consume_fee: Option<Fen>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(DepositConsumed);

endpoint!(DepositConsume => DepositConsumed,
    Route::new("/deposit/consume").signed_with(HMAC).certificate().moving_money(),
    trade_no: |s| s.out_trade_no.as_ref().map(OutTradeNo::as_str));

/// No deposit-specific code table is published: configuration codes and the order's
/// absence or state are final, everything else is open (query the order's `consume_fee`).
impl MovesMoney for DepositConsume {
    fn number(&self) -> &str {
        self.out_trade_no.as_ref().map_or_else(
            || self.transaction_id.as_deref().unwrap_or(""),
            OutTradeNo::as_str,
        )
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        read_common(code, &["ORDERNOTEXIST", "TRADE_STATE_ERROR"])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Merchant, MerchantExt as _};
    use tenpay_sign::{ApiKey, SignType};

    /// V2-FAMILIES §9.3's consume vector through the client's signing path: the sample's
    /// service-provider merchant, both numbers, and `sign_type=HMAC-SHA256` pinned whatever
    /// the merchant signs with.
    #[test]
    fn consume_signs_the_documented_vector() {
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let m = Merchant::new("wx8888888888888888", "1900000100", key, SignType::Md5)
            .with_sub_merchant("1900000100", Some("wx8888888888888888".to_owned()));
        let consume = DepositConsume::by_ids(
            "013467007045764",
            OutTradeNo::new("1217752501201407033233368018").unwrap(),
            Fen::new(888),
            Fen::new(888),
        );
        let body = m
            .sign_with_nonce(&consume, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
            .unwrap();
        let map = XmlMap::parse(body.as_bytes()).unwrap();
        assert_eq!(
            map.get("sign"),
            Some("B826C9A5ED502AC16B88AB2AF18FEE395032D809D7F5AFE9C914D008F82FEE2A")
        );
        assert_eq!(map.len(), 12, "the sample's eleven fields and the sign");
    }
}
