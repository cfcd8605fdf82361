#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod coupon;
mod de;
mod enums;
mod err_code;
mod error;
mod fee;
mod fen;
pub mod fen_json;
mod ids;
pub mod indexed;
mod map;
mod names;
pub mod promotion;
mod reader;
mod refund;
mod ser;
mod signing;
pub mod string_form;
mod time;
pub mod v3;
mod wire_enum;
mod writer;

pub use coupon::{Coupon, CouponType, RefundCoupon};
pub use de::from_map;
pub use enums::{Currency, RefundStatus, TradeState, TradeType};
pub use err_code::ErrCode;
pub use error::Error;
pub use fee::Fee;
pub use fen::Fen;
pub use ids::{IdError, MchBillno, OutRefundNo, OutTradeNo, PartnerTradeNo, ProductId};
pub use map::{Iter, XmlMap};
pub use reader::{DEFAULT_MAX_BYTES, DEFAULT_MAX_FIELDS, Parser, parse};
pub use refund::RefundItem;
pub use ser::to_map;
#[doc(hidden)]
pub use serde as __serde;
pub use time::{BeijingDateTime, BeijingTime};
