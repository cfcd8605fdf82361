#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod bill;
mod bill_rows;
mod client;
mod endpoint;
mod error;
mod fundflow;
mod merchant;
mod micropay;
mod order;
mod outcome;
mod papay;
mod pay_params;
mod payout;
mod raw;
mod refund;
mod retry;
pub mod secret_file;
mod sharing;
mod table;
mod tls;

pub use answer::{Answer, Verifier};
pub use bill::{Bill, BillOutcome, BillReader, BillRow, BillSummary, BillType, DownloadBill};
pub use client::{
    BACKUP_URL, Client, ClientBuilder, DEFAULT_MAX_BILL_BYTES, DEFAULT_MAX_STREAMED_BILL_BYTES,
    MAX_ANSWER_BYTES, PRODUCTION_URL, Sandbox,
};
pub use endpoint::{Endpoint, Host, MerchantFields, Route};
pub use error::{ConfigError, Error};
pub use fundflow::{
    AccountType, Direction, DownloadFundFlow, FundFlow, FundFlowReader, FundFlowRow,
    FundFlowSummary,
};
pub use merchant::Merchant;
pub use micropay::{
    AuthCodeToOpenid, AuthCodeToOpenidResponse, Micropay, MicropayOutcome, MicropayResponse,
    Reverse, ReverseResponse,
};
pub use order::{
    CloseOrder, CloseOrderResponse, OrderQuery, OrderQueryResponse, UnifiedOrder,
    UnifiedOrderResponse,
};
pub use outcome::{
    Attempts, CodeReading, Fate, MovesMoney, Outcome, OutcomeUnknown, Refused, RefusedBecause,
};
pub use papay::{
    Contract, ContractOrder, ContractOrderResponse, ContractSigning, ContractState, DeleteContract,
    DeletedContract, PapOrder, PapOrderQuery, PapPayAccepted, PapPayApply, PapTradeState,
    PreEntrust, QueryContract,
};
pub use pay_params::{AppParams, JsapiParams, PaySigner, mweb_url_with_redirect};
pub use payout::{
    BankCode, BankPayment, BankPaymentInfo, BankQuery, BankStatus, MiniProgramRedpack, PayBank,
    PublicKey, Redpack, RedpackInfo, RedpackQuery, RedpackReceiver, RedpackSent, RedpackStatus,
    SendRedpack, Settled, Transfer, TransferInfo, TransferQuery, TransferStatus, Transferred,
};
pub use raw::RawCall;
pub use refund::{Refund, RefundQuery, RefundQueryResponse, RefundResponse};
pub use retry::RetryPolicy;
pub use sharing::{
    AddReceiver, FinishSharing, MultiProfitSharing, NewReceiver, ProfitSharing, ReceiverChanged,
    ReceiverType, RelationType, RemoveReceiver, SharingAccepted, SharingOrder, SharingQuery,
    SharingReceiver, SharingResult, SharingReturn, SharingReturnQuery, SharingReturned,
    SharingStatus, Split, UnsplitAmount, UnsplitAmountQuery,
};
/// The shared vocabulary, from `tenpay-xml`: the same types as in `tenpay-notify` and
/// `tenpay-sim`.
pub use tenpay_xml::{
    BeijingDateTime, BeijingTime, Coupon, CouponType, Currency, ErrCode, Fee, Fen, IdError,
    MchBillno, OutRefundNo, OutTradeNo, PartnerTradeNo, RefundCoupon, RefundItem, RefundStatus,
    TradeState, TradeType,
};
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

    /// `/secapi/pay/refund` (needs the client certificate). Moves money: the outcome is
    /// judged over every attempt ([`Outcome`]); an open one is [`Outcome::Unknown`], to settle
    /// with [`Client::refund_query`] or by repeating the same `out_refund_no`.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was refunded for certain: nothing sent (no certificate,
    /// no connection), or a final refusal (`NOTENOUGH`, `ORDERNOTEXIST`, …) of the only
    /// attempt that reached WeChat Pay.
    pub async fn refund(&self, request: &Refund) -> Result<Outcome<RefundResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/pay/refundquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn refund_query(&self, request: &RefundQuery) -> Result<RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/downloadbill`, into memory: the call for small bills. The [`Bill`] holds the
    /// text and every parsed row, about 10 × the bill's size, and the bill is capped at
    /// [`ClientBuilder::max_bill_bytes`] (default 64 MiB, [`Error::TooLarge`] beyond). For a
    /// bill of any size in bounded memory, stream it with [`Client::download_bill_to`] and
    /// read it back row by row with [`BillReader`].
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
