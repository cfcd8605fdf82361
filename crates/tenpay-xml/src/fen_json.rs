//! Amounts inside the JSON some V2 fields carry (profit-sharing receivers, promotion
//! details) are JSON numbers of fen, not the strings of the XML fields:
//! `#[serde(with = "tenpay_xml::fen_json")]`, and [`option`] for an optional one.

use serde::{Deserialize, Deserializer, Serializer};

use crate::Fen;

/// Writes the amount as a JSON number.
///
/// # Errors
/// The serializer's.
pub fn serialize<S: Serializer>(v: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.get())
}

/// Reads a JSON number of fen.
///
/// # Errors
/// Anything but a non-negative integer.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
    u64::deserialize(d).map(Fen::new)
}

/// The same for an optional amount (`#[serde(default, with = "tenpay_xml::fen_json::option")]`).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Fen;

    /// Writes the amount as a JSON number, or `null`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(v: &Option<Fen>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => s.serialize_u64(f.get()),
            None => s.serialize_none(),
        }
    }

    /// Reads a JSON number of fen, or `null`.
    ///
    /// # Errors
    /// Anything but a non-negative integer or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Fen>, D::Error> {
        Option::<u64>::deserialize(d).map(|v| v.map(Fen::new))
    }
}
