#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod bill;
mod bill_rows;
mod calls;
mod client;
mod cross_border;
mod customs;
mod deposit;
mod discount;
mod endpoint;
mod error;
mod face;
mod flows;
mod fundflow;
mod merchant;
mod merchant_tools;
mod micropay;
mod native;
mod order;
mod outcome;
mod papay;
mod partner;
mod pay_params;
mod payout;
mod raw;
mod refund;
mod retry;
pub mod secret_file;
mod sharing;
mod table;
mod tls;
pub mod v3;

pub use answer::{Answer, Verifier};
pub use bill::{Bill, BillOutcome, BillReader, BillRow, BillSummary, BillType, DownloadBill};
pub use client::{
    BACKUP_URL, Client, ClientBuilder, DEFAULT_MAX_BILL_BYTES, DEFAULT_MAX_STREAMED_BILL_BYTES,
    MAX_ANSWER_BYTES, PRODUCTION_URL, Sandbox,
};
pub use cross_border::{ExchangeRate, ExchangeRateQuery, HONG_KONG_URL, UNITED_STATES_URL};
pub use customs::{
    Customs, CustomsDeclarations, CustomsDeclare, CustomsDeclared, CustomsQuery, CustomsRecord,
    CustomsRedeclare, CustomsState,
};
pub use deposit::{
    DepositConsume, DepositConsumed, DepositFacePay, DepositMicropay, DepositOrderQuery,
    DepositRefund, DepositRefundQuery, DepositReverse, DepositUnifiedOrder,
};
pub use discount::{DiscountDetail, DiscountGoods, RefundQueryV2, RefundV2};
pub use endpoint::{Endpoint, Host, MerchantFields, Route};
pub use error::{ConfigError, Error};
pub use face::{FaceAuth, FaceAuthInfo, FacePay, FacePayQuery, FacePayReverse};
pub use fundflow::{
    AccountType, Direction, DownloadFundFlow, FundFlow, FundFlowReader, FundFlowRow,
    FundFlowSummary,
};
pub use merchant::{Merchant, MerchantExt};
pub use merchant_tools::{Comment, CommentQuery, Comments, Report, ReportTrade, Reported};
pub use micropay::{
    AuthCodeToOpenid, AuthCodeToOpenidResponse, Micropay, MicropayOutcome, MicropayResponse,
    Reverse, ReverseResponse,
};
pub use native::{ShortUrl, ShortUrlResponse, native_url};
pub use order::{
    CloseOrder, CloseOrderResponse, OrderQuery, OrderQueryResponse, UnifiedOrder,
    UnifiedOrderResponse,
};
pub use outcome::{
    Attempts, CodeReading, Fate, MovesMoney, Outcome, OutcomeUnknown, Refused, RefusedBecause,
};
pub use papay::{
    Contract, ContractOrder, ContractOrderResponse, ContractSigning, ContractState, DeleteContract,
    DeletedContract, H5Entrust, PapOrder, PapOrderQuery, PapPayAccepted, PapPayApply,
    PapTradeState, PreEntrust, QueryContract,
};
pub use partner::{
    AppidConfig, SubDevConfig, SubDevConfigQuery, SubDevConfiguration, SubDevConfigured,
    SubMerchantAdd, SubMerchantAdded, SubMerchantInfo, SubMerchantModified, SubMerchantModify,
    SubMerchantQuery, SubMerchants,
};
pub use pay_params::{AppParams, JsapiParams, PaySigner, mweb_url_with_redirect};
pub use payout::{
    BankCode, BankPayment, BankPaymentInfo, BankQuery, BankStatus, MiniProgramRedpack, PayBank,
    PublicKey, Redpack, RedpackInfo, RedpackQuery, RedpackReceiver, RedpackSent, RedpackStatus,
    SendRedpack, Settled, Transfer, TransferInfo, TransferQuery, TransferStatus, Transferred,
    WeComRedpack, WeComRedpackInfo, WeComRedpackQuery,
};
pub use raw::RawCall;
pub use refund::{Refund, RefundQuery, RefundQueryResponse, RefundResponse};
pub use retry::RetryPolicy;
pub use sharing::{
    AddReceiver, FinishSharing, MultiProfitSharing, NewReceiver, ProfitSharing, ReceiverChanged,
    ReceiverType, RelationType, RemoveReceiver, ShareResult, SharingAccepted, SharingOrder,
    SharingQuery, SharingReceiver, SharingResult, SharingReturn, SharingReturnQuery,
    SharingReturned, SharingStatus, Split, UnsplitAmount, UnsplitAmountQuery,
};
/// The shared vocabulary, from `tenpay-xml`: the same types as in `tenpay-notify` and
/// `tenpay-sim`.
pub use tenpay_xml::{
    BeijingDateTime, BeijingTime, Coupon, CouponType, Currency, ErrCode, Fee, Fen, IdError,
    MchBillno, OutRefundNo, OutTradeNo, PartnerTradeNo, ProductId, RefundCoupon, RefundItem,
    RefundStatus, TradeState, TradeType,
};
pub use tls::Identity;
