//! WeChat Pay V2 payment and refund notifications, safe by construction.
//!
//! The core does no I/O: bytes in, a verified notification or a typed error out, and the
//! reply bodies as exact bytes ([`ACK`], [`nack`]). On top, feature `service` (default) adds
//! [`NotifyService`], a `tower_service::Service` for any HTTP server.
//!
//! - Payment notifications are verified over every received field with the algorithm the
//!   merchant configured (a message claiming another `sign_type` is refused: no downgrade),
//!   and must name the merchant's own `appid` and `mch_id`.
//! - A payment can only be treated as settled by handing in the order's own amount
//!   ([`PayNotification::settle`]).
//! - Refund notifications are decrypted (AES-256-ECB, key = lowercase hex MD5 of the API key),
//!   with a distinct error for the wrong key.
//!
//! ```
//! use tenpay_notify::{Notification, Notifier};
//! use tenpay_sign::{ApiKey, SignType};
//! use tenpay_xml::{Fen, XmlMap};
//!
//! let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").expect("non-empty key");
//! let notifier = Notifier::new("wx2421b1c4370ec43b", "10000100", key.clone(), SignType::HmacSha256);
//!
//! // What WeChat Pay would send (here signed by hand).
//! let mut body = XmlMap::new();
//! for (k, v) in [("return_code", "SUCCESS"), ("appid", "wx2421b1c4370ec43b"), ("mch_id", "10000100"),
//!                ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"), ("result_code", "SUCCESS"),
//!                ("total_fee", "88"), ("out_trade_no", "1409811653"), ("transaction_id", "4200000001")] {
//!     body.insert(k, v).unwrap();
//! }
//! body.sign(&key, SignType::HmacSha256).unwrap();
//!
//! let Notification::Pay(paid) = notifier.handle(body.to_xml().as_bytes())? else { unreachable!() };
//! // Look the order up by paid.out_trade_no, then settle with *your* amount:
//! assert!(paid.clone().settle(Fen::new(1)).is_err());
//! let settled = paid.settle(Fen::new(88))?;
//! assert_eq!(settled.out_trade_no, "1409811653");
//! assert!(tenpay_notify::ACK.starts_with(b"<xml><return_code><![CDATA[SUCCESS]]>"));
//! # Ok::<(), tenpay_notify::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod error;
mod notifier;
mod pay;
mod refund;
mod reply;
#[cfg(feature = "service")]
#[cfg_attr(docsrs, doc(cfg(feature = "service")))]
pub mod service;

pub use error::Error;
pub use notifier::{Notification, Notifier};
pub use pay::{Coupon, PayNotification, SettledPayment};
pub use refund::{RefundNotification, decrypt_req_info, encrypt_req_info};
pub use reply::{ACK, ack, nack};
#[cfg(feature = "service")]
pub use service::{Audit, Deliveries, Delivery, DeliveryHandler, Dispatch, Handler, NotifyService};
