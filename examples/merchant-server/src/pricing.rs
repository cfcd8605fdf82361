//! What an item costs: the merchant's price, never the app's. Every order takes its amount and
//! the `body` shown to the payer from a [`Pricing`]; by default a [`Catalogue`] read from a
//! small JSON file (`CATALOGUE_FILE`).
//!
//! ```
//! use tenpay_merchant_server::pricing::{Catalogue, Pricing};
//! use tenpay_merchant_server::auth::UserId;
//!
//! let catalogue = Catalogue::from_json(r#"{
//!     "vip-month": { "amount_fen": 888, "description": "VIP, one month" }
//! }"#)?;
//! let alice = UserId::new("alice")?;
//! assert_eq!(catalogue.price(&alice, "vip-month")?.amount.get(), 888);
//! assert!(catalogue.price(&alice, "iphone-16-pro").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use tenpay_xml::{Fen, XmlMap};

use crate::auth::UserId;

/// Orders above this are refused (100 million yuan).
pub const MAX_ORDER_FEN: u64 = 10_000_000_000;

/// An item's price and what the payer is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// The amount charged.
    pub amount: Fen,
    /// The `body` of the order (at most 128 bytes).
    pub description: String,
}

/// Why an item has no price for this user. The app gets a 422 with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriceRefusal {
    /// No such item.
    #[error("no such item {0:?}")]
    UnknownItem(String),
    /// The item exists but is not sold to this user now (your reason, shown to the app).
    #[error("{0}")]
    NotForSale(String),
}

/// The merchant's prices. Implement it over your own catalogue (a database, a pricing
/// service, a per-user discount) and pass it to [`crate::Server::pricing`]; it is asked once
/// per order, before anything is stored or sent to WeChat Pay.
pub trait Pricing: Send + Sync + 'static {
    /// The price of `item` for `user`, or why there is none.
    ///
    /// # Errors
    /// [`PriceRefusal`].
    fn price(&self, user: &UserId, item: &str) -> Result<Price, PriceRefusal>;
}

/// A shared pricing.
pub type SharedPricing = Arc<dyn Pricing>;

/// Why a catalogue file is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// Not readable.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not the JSON shape `{"item": {"amount_fen": N, "description": "…"}}`.
    #[error("not a catalogue: {0}")]
    Json(#[source] serde_json::Error),
    /// An entry breaks a rule.
    #[error("item {item:?}: {problem}")]
    Item {
        /// The item.
        item: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// No items at all.
    #[error("the catalogue has no items")]
    Empty,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    amount_fen: u64,
    description: String,
}

/// A fixed list of items with their prices, the same for every user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    items: HashMap<String, Price>,
}

/// Whether `item` is a usable item name: 1 to 32 of `A-Z a-z 0-9 _ - .` (NATIVE's
/// `product_id`).
#[must_use]
pub fn is_item_name(item: &str) -> bool {
    (1..=32).contains(&item.len())
        && item
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Whether `text` can be an order's `body`: 1 to 128 bytes, no control character, carried by
/// the XML writer.
#[must_use]
pub fn is_description(text: &str) -> bool {
    !text.trim().is_empty()
        && text.len() <= 128
        && !text.chars().any(char::is_control)
        && XmlMap::new().insert("body", text).is_ok()
}

impl Catalogue {
    /// A catalogue from `{"item": {"amount_fen": N, "description": "…"}, …}`.
    ///
    /// # Errors
    /// [`CatalogueError::Json`], [`CatalogueError::Item`] for a bad name, an amount outside
    /// 1 to [`MAX_ORDER_FEN`] or an unusable description, [`CatalogueError::Empty`].
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        let entries: HashMap<String, Entry> =
            serde_json::from_str(text).map_err(CatalogueError::Json)?;
        if entries.is_empty() {
            return Err(CatalogueError::Empty);
        }
        let mut items = HashMap::with_capacity(entries.len());
        for (item, e) in entries {
            let problem = if !is_item_name(&item) {
                Some("an item is 1 to 32 of A-Z a-z 0-9 _ - .")
            } else if !(1..=MAX_ORDER_FEN).contains(&e.amount_fen) {
                Some("amount_fen must be 1 to 10000000000")
            } else if !is_description(&e.description) {
                Some("description must be 1 to 128 bytes WeChat Pay can carry")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(CatalogueError::Item { item, problem });
            }
            let price = Price {
                amount: Fen::new(e.amount_fen),
                description: e.description,
            };
            items.insert(item, price);
        }
        Ok(Self { items })
    }

    /// A catalogue from a file (see [`Catalogue::from_json`]).
    ///
    /// # Errors
    /// [`CatalogueError`].
    pub fn from_file(path: &std::path::Path) -> Result<Self, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The items, for display.
    pub fn items(&self) -> impl Iterator<Item = (&str, &Price)> {
        self.items.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Pricing for Catalogue {
    fn price(&self, _user: &UserId, item: &str) -> Result<Price, PriceRefusal> {
        self.items
            .get(item)
            .cloned()
            .ok_or_else(|| PriceRefusal::UnknownItem(item.to_owned()))
    }
}

impl<F> Pricing for F
where
    F: Fn(&UserId, &str) -> Result<Price, PriceRefusal> + Send + Sync + 'static,
{
    fn price(&self, user: &UserId, item: &str) -> Result<Price, PriceRefusal> {
        self(user, item)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_rule_of_an_entry_is_checked() {
        for (bad, why) in [
            (r#"{}"#, "no items"),
            (
                r#"{"a b": {"amount_fen": 1, "description": "d"}}"#,
                "1 to 32",
            ),
            (
                r#"{"a": {"amount_fen": 0, "description": "d"}}"#,
                "amount_fen",
            ),
            (
                r#"{"a": {"amount_fen": 10000000001, "description": "d"}}"#,
                "amount_fen",
            ),
            (
                r#"{"a": {"amount_fen": 1, "description": " "}}"#,
                "description",
            ),
            (
                r#"{"a": {"amount_fen": 1, "description": "x\u0007"}}"#,
                "description",
            ),
            (r#"{"a": {"amount_fen": 1}}"#, "not a catalogue"),
            (
                r#"{"a": {"amount_fen": 1, "description": "d", "discount": 5}}"#,
                "not a catalogue",
            ),
            (
                r#"{"a": {"amount_fen": -1, "description": "d"}}"#,
                "not a catalogue",
            ),
        ] {
            let e = Catalogue::from_json(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn an_unknown_item_has_no_price() {
        let c =
            Catalogue::from_json(r#"{"vip": {"amount_fen": 888, "description": "VIP"}}"#).unwrap();
        let u = UserId::new("u").unwrap();
        assert_eq!(
            c.price(&u, "vip").unwrap(),
            Price {
                amount: Fen::new(888),
                description: "VIP".into()
            }
        );
        assert_eq!(
            c.price(&u, "VIP"),
            Err(PriceRefusal::UnknownItem("VIP".into()))
        );
    }
}
