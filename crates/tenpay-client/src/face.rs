//! Face pay (刷脸): the device's SDK credential (`get_wxpayface_authinfo`, on face pay's own
//! host), and the charge of a `face_code` with its query and reversal. The charge moves money
//! as a payment code does, with the same in-doubt rules: query, then reverse.
//!
//! The official face SDK's own flow charges the `face_code` through the payment-code calls
//! ([`Micropay`](crate::Micropay) with the face code as `auth_code`); the `/pay/facepay*`
//! paths here are the ones WxJava and the wechatpay.im tables document. Use either.

use serde::{Deserialize, Serialize};
use tenpay_sign::SignType;
use tenpay_xml::{Currency, Fen, XmlMap};

use crate::endpoint::{endpoint, keep_raw, wrapped_request};
use crate::outcome::{CodeReading, MovesMoney};
use crate::{
    ErrCode, Host, Micropay, MicropayResponse, OrderQuery, OrderQueryResponse, OutTradeNo, Reverse,
    ReverseResponse, Route,
};

/// `/face/get_wxpayface_authinfo` (face pay's host): the credential the device's face SDK is
/// initialised with. Safe to repeat. Signed HMAC-SHA256 (its `sign_type` is required).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FaceAuthInfo {
    store_id: String,
    store_name: String,
    device_id: String,
    rawdata: String,
    now: i64,
    version: &'static str,
    attach: Option<String>,
}

impl FaceAuthInfo {
    /// For the device `device_id` of the store `store_id` / `store_name`, with the SDK's
    /// `rawdata` (`getWxpayfaceRawdata`) and the time `now` (Unix seconds).
    pub fn new(
        store_id: impl Into<String>,
        store_name: impl Into<String>,
        device_id: impl Into<String>,
        rawdata: impl Into<String>,
        now: i64,
    ) -> Self {
        Self {
            store_id: store_id.into(),
            store_name: store_name.into(),
            device_id: device_id.into(),
            rawdata: rawdata.into(),
            now,
            version: "1",
            attach: None,
        }
    }

    /// `attach` (JSON).
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }
}

/// The answer to [`FaceAuthInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FaceAuth {
    /// The SDK credential.
    pub authinfo: String,
    /// How long it is valid, in seconds.
    pub expires_in: Option<u64>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(FaceAuth);

endpoint!(FaceAuthInfo => FaceAuth,
    Route::new("/face/get_wxpayface_authinfo")
        .host(Host::FacePay)
        .signed_with(SignType::HmacSha256)
        .without_result_code()
        .retry_safe());

/// `/pay/facepay`: charge a `face_code` (from the face SDK) for `openid`. Moves money: an
/// open outcome is settled by [`FacePayQuery`], then [`FacePayReverse`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FacePay {
    body: String,
    out_trade_no: OutTradeNo,
    total_fee: Fen,
    fee_type: Currency,
    spbill_create_ip: String,
    openid: String,
    face_code: String,
    device_info: Option<String>,
    attach: Option<String>,
}

impl FacePay {
    /// Charge `total_fee` for `body` with the payer's `face_code` (a new `out_trade_no` for
    /// each face code).
    pub fn new(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        openid: impl Into<String>,
        face_code: impl Into<String>,
    ) -> Self {
        Self {
            body: body.into(),
            out_trade_no,
            total_fee,
            fee_type: Currency::Cny,
            spbill_create_ip: client_ip.into(),
            openid: openid.into(),
            face_code: face_code.into(),
            device_info: None,
            attach: None,
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

endpoint!(FacePay => MicropayResponse,
    Route::new("/pay/facepay").signed_with(SignType::HmacSha256).moving_money(),
    trade_no: |s| Some(s.out_trade_no.as_str()));

/// As a payment code's (no face-specific table is published).
impl MovesMoney for FacePay {
    fn number(&self) -> &str {
        self.out_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Micropay::read_code(code)
    }
}

wrapped_request!(
    /// `/pay/facepayquery`: a face-pay order ([`OrderQuery`]'s fields on face pay's route).
    FacePayQuery(OrderQuery)
);

/// `/secapi/pay/facepayreverse` (certificate): cancel a face-pay order, refunding it if it
/// was paid. Call it 15 s or more after the payment.
#[derive(Debug, Clone)]
pub struct FacePayReverse(Reverse);

impl FacePayReverse {
    /// Face pay's reversal of this order.
    #[must_use]
    pub fn new(out_trade_no: OutTradeNo) -> Self {
        Self(Reverse::new(out_trade_no))
    }
}

endpoint!(FacePayQuery(OrderQuery) => OrderQueryResponse,
    Route::new("/pay/facepayquery").retry_safe(), adds: []);
endpoint!(FacePayReverse(Reverse) => ReverseResponse,
    Route::new("/secapi/pay/facepayreverse").certificate().retry_safe().moving_money(),
    adds: []);

/// As a reversal's.
impl MovesMoney for FacePayReverse {
    fn number(&self) -> &str {
        self.0.number()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        Reverse::read_code(code)
    }
}
