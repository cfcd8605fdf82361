//! Profit sharing, as the simulator keeps it: each merchant's receivers, the splits of each
//! payment (what is frozen, shared, released), returns, and the basic account's movements.

use std::collections::{HashMap, HashSet, VecDeque};

use tenpay_xml::Fen;

/// One share of a split.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    pub(crate) kind: String,
    pub(crate) account: String,
    pub(crate) amount: Fen,
    pub(crate) description: String,
}

/// A split, or a finish, under the merchant's `out_order_no`.
#[derive(Debug, Clone)]
pub(crate) struct SharingOrder {
    pub(crate) fingerprint: [u8; 16],
    pub(crate) transaction_id: String,
    pub(crate) order_id: String,
    /// `single`, `multi` or `finish`.
    pub(crate) kind: &'static str,
    pub(crate) shares: Vec<Share>,
    pub(crate) finish_time: i64,
    /// A finish: what it released to the merchant.
    pub(crate) released: Fen,
    pub(crate) description: String,
    /// Each share's result: `SUCCESS`, or `CLOSED` / `PENDING` with a reason (a `Settles`
    /// fault).
    pub(crate) result: (String, Option<String>),
}

/// What has happened to one payment's frozen amount.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frozen {
    pub(crate) shared: Fen,
    pub(crate) finished: bool,
    pub(crate) splits: u32,
}

/// A return from a merchant receiver.
#[derive(Debug, Clone)]
pub(crate) struct Return {
    pub(crate) fingerprint: [u8; 16],
    pub(crate) out_order_no: String,
    pub(crate) return_no: String,
    pub(crate) account: String,
    pub(crate) amount: Fen,
    pub(crate) description: String,
    pub(crate) finish_time: i64,
}

/// One movement of a basic account caused by sharing.
#[derive(Debug, Clone)]
pub(crate) struct SharingMovement {
    pub(crate) mch_id: String,
    pub(crate) time: i64,
    pub(crate) business_no: String,
    pub(crate) name: &'static str,
    pub(crate) income: bool,
    pub(crate) amount: Fen,
}

/// Every merchant's profit sharing (bounded like the orders).
#[derive(Debug, Default)]
pub(crate) struct SharingBook {
    /// `(mch_id, type, account)`.
    pub(crate) receivers: HashSet<(String, String, String)>,
    /// `(mch_id, out_order_no)`.
    pub(crate) orders: HashMap<(String, String), SharingOrder>,
    /// `(mch_id, transaction_id)`.
    pub(crate) frozen: HashMap<(String, String), Frozen>,
    /// `(mch_id, out_return_no)`.
    pub(crate) returns: HashMap<(String, String), Return>,
    pub(crate) movements: VecDeque<SharingMovement>,
}

impl SharingBook {
    pub(crate) fn movement(&mut self, m: SharingMovement, cap: usize) {
        if self.movements.len() >= cap.max(1) {
            self.movements.pop_front();
        }
        self.movements.push_back(m);
    }

    /// How much of the split `out_order_no` went to `account`, less what it returned.
    pub(crate) fn returnable(&self, mch_id: &str, out_order_no: &str, account: &str) -> u64 {
        let shared: u64 = self
            .orders
            .get(&(mch_id.to_owned(), out_order_no.to_owned()))
            .map_or(0, |o| {
                o.shares
                    .iter()
                    .filter(|s| s.kind == "MERCHANT_ID" && s.account == account)
                    .map(|s| s.amount.get())
                    .sum()
            });
        let returned: u64 = self
            .returns
            .iter()
            .filter(|((m, _), r)| {
                m == mch_id && r.out_order_no == out_order_no && r.account == account
            })
            .map(|(_, r)| r.amount.get())
            .sum();
        shared.saturating_sub(returned)
    }

    /// Drops the oldest records past `cap` (orders and returns; receivers are few).
    pub(crate) fn trim(&mut self, cap: usize) {
        while self.orders.len() > cap.max(1) {
            let oldest = self
                .orders
                .iter()
                .min_by_key(|(_, o)| o.finish_time)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => drop(self.orders.remove(&k)),
                None => break,
            }
        }
        while self.returns.len() > cap.max(1) {
            let oldest = self
                .returns
                .iter()
                .min_by_key(|(_, r)| r.finish_time)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => drop(self.returns.remove(&k)),
                None => break,
            }
        }
    }
}
