#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod contract;
mod error;
mod notifier;
mod pay;
mod refund;
mod reply;
mod scan;
#[cfg(feature = "service")]
#[cfg_attr(docsrs, doc(cfg(feature = "service")))]
mod service;
#[cfg(feature = "v3")]
#[cfg_attr(docsrs, doc(cfg(feature = "v3")))]
pub mod v3;

pub use contract::{ContractChange, ContractNotification};
pub use error::Error;
pub use notifier::{Notification, Notifier};
pub use pay::{PayNotification, SettledPayment};
pub use refund::{RefundNotification, decrypt_req_info, encrypt_req_info};
pub use reply::{ACK, ack, nack};
pub use scan::{ScanAnswer, ScanCallback};
#[cfg(feature = "service")]
pub use service::{Audit, Delivery, Handler, NotifyService, Verified, Verify, verified};
/// The shared vocabulary, from `tenpay-xml`.
pub use tenpay_xml::{Coupon, CouponType, ErrCode, Fen, OutRefundNo, OutTradeNo, ProductId};
