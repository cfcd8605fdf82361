//! The wire format of WeChat Pay's merchant API V2: a hardened reader and writer for the flat
//! `<xml>` envelope, a serde bridge for typed messages, and the value types every message
//! shares.
//!
//! The notify endpoint receives XML from anyone on the internet, so the reader accepts only
//! the envelope's subset of XML (see [`Parser`]): no DTDs or entities of any kind, no nesting,
//! no duplicate fields, bounded size. It is a purpose-built scanner rather than a general XML
//! parser; quick-xml serves as its differential oracle in the tests and fuzz targets.
//!
//! ```
//! use tenpay_sign::{ApiKey, SignType};
//! use tenpay_xml::XmlMap;
//!
//! let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d")?;
//! let mut request = XmlMap::new();
//! for (k, v) in [("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"), ("device_info", "1000"),
//!                ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA")] {
//!     request.insert(k, v)?;
//! }
//! request.sign(&key, SignType::Md5)?;
//! let body = request.to_xml();
//! assert!(body.ends_with("<sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign></xml>"));
//!
//! let received = XmlMap::parse(body.as_bytes())?;
//! received.verify(&key, SignType::Md5)?;
//!
//! // Hostile input is a typed error, never a panic.
//! let xxe = br#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>"#;
//! assert!(matches!(XmlMap::parse(xxe), Err(tenpay_xml::Error::Doctype { .. })));
//! # Ok::<(), tenpay_xml::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

mod de;
mod error;
mod fee;
pub mod indexed;
mod map;
mod names;
mod reader;
mod ser;
mod signing;
mod types;
mod writer;

pub use de::from_map;
pub use error::Error;
pub use fee::Fee;
pub use map::{Iter, XmlMap};
pub use reader::{DEFAULT_MAX_BYTES, DEFAULT_MAX_FIELDS, Parser, parse};
pub use ser::to_map;
#[doc(hidden)]
pub use serde as __serde;
pub use types::{
    BeijingDateTime, BeijingTime, Currency, Fen, RefundStatus, TradeState, TradeType, string_form,
};
