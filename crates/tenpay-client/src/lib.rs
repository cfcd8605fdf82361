//! The async client for WeChat Pay's merchant API V2.
//!
//! - One [`Client`] per merchant configuration, cheap to clone, built by [`ClientBuilder`].
//! - Every endpoint has a typed request (required fields in its constructor) and a typed
//!   answer; answers are verified (signature with the request's algorithm, the merchant's own
//!   appid and mch_id) before they are decoded.
//! - Errors keep the layers apart: transport, `return_code=FAIL`, bad answer signature,
//!   `result_code=FAIL` with [`ErrCode`].
//! - Retries only where repeating is safe (queries, refunds with the same `out_refund_no`,
//!   unifiedorder with identical parameters), on transport failures, SYSTEMERROR and
//!   BIZERR_NEED_RETRY; never after a signature or parameter error.
//! - The signed client-side parameters: [`PaySigner`] (pure signing, no client), and
//!   [`Client::app_params`], [`Client::jsapi_params`] with a fresh nonce and the time.
//! - `/secapi/` endpoints use the merchant's client certificate ([`Identity`]), PEM or the
//!   legacy-encrypted `apiclient_cert.p12`.
//!
//! - Open seams: any V2 path ([`RawCall`], or your own [`Endpoint`]); answers decoded from a
//!   [`Verifier`] alone; the retry decision as a [`RetryPolicy`]; one pool for many merchants
//!   ([`Client::with_sub_merchant`], [`Client::with_appid`], [`Client::with_merchant`]).
//!
//! Test it against `tenpay-sim`: give the builder the simulator's base URL.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod bill;
mod bill_rows;
mod client;
mod endpoint;
mod error;
mod fundflow;
mod ids;
mod micropay;
mod order;
mod pay_params;
mod raw;
mod refund;
mod retry;
mod tls;

pub use answer::{Answer, Verifier};
pub use bill::{Bill, BillOutcome, BillReader, BillRow, BillSummary, BillType, DownloadBill};
pub use client::{
    BACKUP_URL, Client, ClientBuilder, DEFAULT_MAX_BILL_BYTES, MAX_ANSWER_BYTES, PRODUCTION_URL,
    Sandbox,
};
pub use endpoint::Endpoint;
pub use error::{ConfigError, ErrCode, Error};
pub use fundflow::{
    AccountType, Direction, DownloadFundFlow, FundFlow, FundFlowRow, FundFlowSummary,
};
pub use ids::{OutRefundNo, OutTradeNo};
pub use micropay::{
    AuthCodeToOpenid, AuthCodeToOpenidResponse, Micropay, MicropayOutcome, MicropayResponse,
    Reverse, ReverseResponse,
};
pub use order::{
    CloseOrder, CloseOrderResponse, Coupon, OrderQuery, OrderQueryResponse, UnifiedOrder,
    UnifiedOrderResponse,
};
pub use pay_params::{AppParams, JsapiParams, PaySigner, mweb_url_with_redirect};
pub use raw::RawCall;
pub use refund::{
    Refund, RefundCoupon, RefundItem, RefundQuery, RefundQueryResponse, RefundResponse,
};
pub use retry::RetryPolicy;
pub use tls::Identity;

impl Client {
    /// `/pay/unifiedorder`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn unified_order(
        &self,
        request: &UnifiedOrder,
    ) -> Result<UnifiedOrderResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/orderquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn order_query(&self, request: &OrderQuery) -> Result<OrderQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/closeorder`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn close_order(&self, request: &CloseOrder) -> Result<CloseOrderResponse, Error> {
        self.execute(request).await
    }

    /// `/secapi/pay/refund` (needs the client certificate).
    ///
    /// # Errors
    /// See [`Error`]; [`Error::NoIdentity`] without a certificate (nothing is sent).
    pub async fn refund(&self, request: &Refund) -> Result<RefundResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/refundquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn refund_query(&self, request: &RefundQuery) -> Result<RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/downloadbill`.
    ///
    /// # Errors
    /// See [`Error`]; "no bill" is [`BillOutcome::NoBill`], not an error.
    pub async fn download_bill(&self, request: &DownloadBill) -> Result<BillOutcome, Error> {
        self.execute(request).await
    }

    /// `/pay/downloadfundflow` (needs the client certificate; always signed with HMAC-SHA256).
    ///
    /// # Errors
    /// See [`Error`]; "no bill" is [`BillOutcome::NoBill`], not an error. [`Error::Config`]
    /// with the sandbox, which takes MD5 only.
    pub async fn download_fund_flow(
        &self,
        request: &DownloadFundFlow,
    ) -> Result<BillOutcome<FundFlow>, Error> {
        self.execute(request).await
    }

    /// `/pay/micropay` (one call; see [`Client::pay_with_code`] for the full flow).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn micropay(&self, request: &Micropay) -> Result<MicropayResponse, Error> {
        self.execute(request).await
    }

    /// `/secapi/pay/reverse` (needs the client certificate).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn reverse(&self, request: &Reverse) -> Result<ReverseResponse, Error> {
        self.execute(request).await
    }

    /// `/tools/authcodetoopenid`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn auth_code_to_openid(
        &self,
        request: &AuthCodeToOpenid,
    ) -> Result<AuthCodeToOpenidResponse, Error> {
        self.execute(request).await
    }
}
