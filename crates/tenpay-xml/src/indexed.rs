//! Indexed fields: `coupon_id_$n` with `coupon_count`, `refund_status_$n`,
//! `coupon_refund_id_$n_$m`, read into vectors and written back.
//!
//! An item type names the fields without their index (`coupon_id`, `coupon_fee`, …). Item
//! `n` is made of the fields whose name is `stem` + `suffix` + `_n`; a stem that itself ends in
//! `_<digits>` belongs to a deeper level and is not part of the item.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tenpay_xml::{Fen, XmlMap, indexed};
//!
//! #[derive(Debug, PartialEq, Deserialize, Serialize)]
//! struct Coupon { coupon_id: String, coupon_fee: Fen, coupon_type: Option<String> }
//!
//! let map = XmlMap::parse(b"<xml><coupon_count>2</coupon_count>\
//!     <coupon_id_1>10001</coupon_id_1><coupon_fee_1>200</coupon_fee_1>\
//!     <coupon_id_0>10000</coupon_id_0><coupon_fee_0>100</coupon_fee_0></xml>")?;
//! let coupons: Vec<Coupon> = indexed::read(&map, "coupon_count", "")?;
//! assert_eq!(coupons[1].coupon_fee, Fen::new(200));
//!
//! let mut out = XmlMap::new();
//! indexed::write(&mut out, &coupons, Some("coupon_count"), "")?;
//! assert_eq!(out.get("coupon_id_0"), Some("10000"));
//! assert_eq!(out.get("coupon_count"), Some("2"));
//! # Ok::<(), tenpay_xml::Error>(())
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, quote};
use crate::map::XmlMap;

/// Reads the items `suffix_0`, `suffix_1`, … (pass `""` for top-level lists, `"_2"` for the
/// coupons of refund 2).
///
/// The count comes from `count_field` when present; without it, from the highest index found.
///
/// # Errors
/// [`Error::InvalidValue`] when the count is not a number or an indexed field lies at or past
/// the count (nothing is dropped silently), and any error decoding an item.
pub fn read<T: DeserializeOwned>(
    map: &XmlMap,
    count_field: &str,
    suffix: &str,
) -> Result<Vec<T>, Error> {
    let indexed: Vec<(&str, usize, &str)> = map
        .iter()
        .filter_map(|(name, value)| split(name, suffix).map(|(stem, i)| (stem, i, value)))
        .collect();
    let highest = indexed.iter().map(|&(_, i, _)| i).max();
    let count = match map.get(count_field) {
        Some(c) => {
            crate::fen::parse_decimal::<usize>(c).map_err(|e| e.for_field(quote(count_field)))?
        }
        None => highest.map_or(0, |h| h + 1),
    };
    if let Some(h) = highest.filter(|&h| h >= count) {
        return Err(Error::InvalidValue {
            field: quote(count_field),
            reason: format!("an indexed field has index {h}, but the count is {count}"),
        });
    }
    let mut items: Vec<XmlMap> = (0..count).map(|_| XmlMap::new()).collect();
    for (stem, i, value) in indexed {
        if let Some(item) = items.get_mut(i) {
            item.insert(stem, value)?;
        }
    }
    items.iter().map(crate::from_map).collect()
}

/// Writes items as `stem` + `suffix` + `_n` fields, and the count when `count_field` is given.
///
/// # Errors
/// Any error encoding an item or inserting its fields.
pub fn write<T: Serialize>(
    map: &mut XmlMap,
    items: &[T],
    count_field: Option<&str>,
    suffix: &str,
) -> Result<(), Error> {
    if let Some(count) = count_field {
        map.insert(count, &items.len().to_string())?;
    }
    for (i, item) in items.iter().enumerate() {
        for (stem, value) in &crate::to_map(item)? {
            map.insert(&format!("{stem}{suffix}_{i}"), value)?;
        }
    }
    Ok(())
}

/// `coupon_fee_1` with suffix `""` → `("coupon_fee", 1)`; the stem must not end in `_<digits>`.
fn split<'a>(name: &'a str, suffix: &str) -> Option<(&'a str, usize)> {
    // Most names do not end in a digit: reject them before any search.
    if !name.as_bytes().last().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (head, index) = name.rsplit_once('_')?;
    if index.is_empty()
        || !index.bytes().all(|b| b.is_ascii_digit())
        || (index.len() > 1 && index.starts_with('0'))
    {
        return None;
    }
    let stem = head.strip_suffix(suffix)?;
    let deeper = stem
        .rsplit_once('_')
        .is_some_and(|(_, t)| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    if stem.is_empty() || deeper {
        return None;
    }
    Some((stem, index.parse().ok()?))
}
