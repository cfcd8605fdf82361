//! `#[serde(with = "tenpay_xml::string_form")]` for any `FromStr + Display` field (counts,
//! offsets), so it reads from a string even under `#[serde(flatten)]`.

use core::fmt::Display;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer};

/// Writes the value's `Display` form.
///
/// # Errors
/// The serializer's.
pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads the value from a string with `FromStr`.
///
/// # Errors
/// When the string does not parse.
pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}
