//! Money out, as the simulator keeps it: each merchant's operation account, transfers, bank
//! payments and red packets, and the account's movements (its fund flow). Bounded like the
//! orders: past [`Limits::orders`](crate::Limits) records, the oldest is dropped.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;
use tenpay_xml::Fen;

/// `(mch_id, number)`.
pub(crate) type PayoutKey = (String, String);

/// A transfer to a user's balance.
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    pub(crate) fingerprint: [u8; 16],
    pub(crate) openid: String,
    pub(crate) amount: Fen,
    pub(crate) desc: String,
    pub(crate) name: Option<String>,
    pub(crate) payment_no: String,
    pub(crate) created_at: i64,
}

/// A payment to a bank card (decrypted: this is a simulator).
#[derive(Debug, Clone)]
pub(crate) struct BankPayment {
    pub(crate) fingerprint: [u8; 16],
    pub(crate) bank_no: String,
    pub(crate) true_name: String,
    pub(crate) bank_code: String,
    pub(crate) amount: Fen,
    pub(crate) fee: Fen,
    pub(crate) payment_no: String,
    pub(crate) status: &'static str,
    pub(crate) created_at: i64,
    pub(crate) paid_at: Option<i64>,
    /// When (milliseconds of the simulator's clock) it settles by itself.
    pub(crate) settles_at_ms: u64,
    /// How: `SUCCESS`, or `FAILED` / `BANK_FAIL` with a reason (a `Settles` fault).
    pub(crate) settles_to: (&'static str, Option<String>),
}

/// A red packet: normal (one receiver) or group (shares).
#[derive(Debug, Clone)]
pub(crate) struct Redpack {
    pub(crate) fingerprint: [u8; 16],
    pub(crate) openid: String,
    pub(crate) wishing: String,
    pub(crate) act_name: String,
    pub(crate) remark: String,
    pub(crate) amount: Fen,
    pub(crate) group: bool,
    /// The shares still to claim (one for a normal packet).
    pub(crate) shares: Vec<Fen>,
    pub(crate) receivers: Vec<(String, Fen, i64)>,
    pub(crate) status: &'static str,
    pub(crate) detail_id: String,
    pub(crate) sent_at: i64,
    /// When (milliseconds of the simulator's clock) the unclaimed rest is refunded.
    pub(crate) expires_at_ms: u64,
    pub(crate) refund_time: Option<i64>,
    pub(crate) refund_amount: Fen,
    pub(crate) package: Option<String>,
}

/// One movement of an operation account.
#[derive(Debug, Clone)]
pub(crate) struct Movement {
    pub(crate) mch_id: String,
    pub(crate) time: i64,
    pub(crate) business_no: String,
    pub(crate) name: &'static str,
    pub(crate) income: bool,
    pub(crate) amount: Fen,
    pub(crate) balance: Fen,
}

/// What money out has done, per merchant.
#[derive(Debug, Default)]
pub(crate) struct PayoutBook {
    balances: HashMap<String, Fen>,
    pub(crate) transfers: HashMap<PayoutKey, Transfer>,
    pub(crate) banks: HashMap<PayoutKey, BankPayment>,
    pub(crate) redpacks: HashMap<PayoutKey, Redpack>,
    /// Every record's key, oldest first, with its kind.
    placed: VecDeque<(Kind, PayoutKey)>,
    pub(crate) movements: VecDeque<Movement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Transfer,
    Bank,
    Redpack,
}

impl PayoutBook {
    /// The operation account's balance (`opening` until it first moves).
    pub(crate) fn balance(&self, mch_id: &str, opening: Fen) -> Fen {
        self.balances.get(mch_id).copied().unwrap_or(opening)
    }

    /// Takes `amount` out of the account, recording the movement; `false` (nothing moved)
    /// when the balance is short.
    pub(crate) fn debit(
        &mut self,
        mch_id: &str,
        opening: Fen,
        amount: Fen,
        movement: (&'static str, &str, i64),
        cap: usize,
    ) -> bool {
        let balance = self.balance(mch_id, opening);
        let Some(left) = balance.checked_sub(amount) else {
            return false;
        };
        self.balances.insert(mch_id.to_owned(), left);
        self.movement(mch_id, movement, false, amount, left, cap);
        true
    }

    /// Puts `amount` back into the account (a refunded packet, a bounced bank payment).
    pub(crate) fn credit(
        &mut self,
        mch_id: &str,
        opening: Fen,
        amount: Fen,
        movement: (&'static str, &str, i64),
        cap: usize,
    ) {
        let balance = self
            .balance(mch_id, opening)
            .checked_add(amount)
            .unwrap_or(Fen::new(u64::MAX));
        self.balances.insert(mch_id.to_owned(), balance);
        self.movement(mch_id, movement, true, amount, balance, cap);
    }

    fn movement(
        &mut self,
        mch_id: &str,
        (name, business_no, time): (&'static str, &str, i64),
        income: bool,
        amount: Fen,
        balance: Fen,
        cap: usize,
    ) {
        if self.movements.len() >= cap.max(1) {
            self.movements.pop_front();
        }
        self.movements.push_back(Movement {
            mch_id: mch_id.to_owned(),
            time,
            business_no: business_no.to_owned(),
            name,
            income,
            amount,
            balance,
        });
    }

    /// Notes a new record, dropping the oldest past `cap`.
    pub(crate) fn placed(&mut self, kind: Kind, key: PayoutKey, cap: usize) {
        self.placed.push_back((kind, key));
        while self.placed.len() > cap.max(1) {
            let Some((kind, old)) = self.placed.pop_front() else {
                break;
            };
            match kind {
                Kind::Transfer => drop(self.transfers.remove(&old)),
                Kind::Bank => drop(self.banks.remove(&old)),
                Kind::Redpack => drop(self.redpacks.remove(&old)),
            }
        }
    }

    /// How much `openid` received from `mch_id`'s transfers (or packets) on Beijing day
    /// `day` (`yyyyMMdd`), and how many.
    pub(crate) fn received_today(
        &self,
        kind: Kind,
        mch_id: &str,
        openid: &str,
        day: &str,
    ) -> (u64, u32) {
        let today = |t: i64| crate::clock::date(t) == day;
        let mut total = 0u64;
        let mut count = 0u32;
        match kind {
            Kind::Transfer => {
                for ((m, _), t) in &self.transfers {
                    if m == mch_id && t.openid == openid && today(t.created_at) {
                        total = total.saturating_add(t.amount.get());
                        count += 1;
                    }
                }
            }
            Kind::Redpack => {
                for ((m, _), r) in &self.redpacks {
                    if m == mch_id && r.openid == openid && today(r.sent_at) {
                        total = total.saturating_add(r.amount.get());
                        count += 1;
                    }
                }
            }
            Kind::Bank => {}
        }
        (total, count)
    }

    /// What `mch_id` paid out on day `day` (transfers, or packets, or bank payments).
    pub(crate) fn paid_today(&self, kind: Kind, mch_id: &str, day: &str) -> u64 {
        let today = |t: i64| crate::clock::date(t) == day;
        match kind {
            Kind::Transfer => self
                .transfers
                .iter()
                .filter(|((m, _), t)| m == mch_id && today(t.created_at))
                .map(|(_, t)| t.amount.get())
                .sum(),
            Kind::Redpack => self
                .redpacks
                .iter()
                .filter(|((m, _), r)| m == mch_id && today(r.sent_at))
                .map(|(_, r)| r.amount.get())
                .sum(),
            Kind::Bank => self
                .banks
                .iter()
                .filter(|((m, _), b)| m == mch_id && today(b.created_at))
                .map(|(_, b)| b.amount.get())
                .sum(),
        }
    }
}

/// A transfer, for the dashboard and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransferView {
    /// The merchant.
    pub mch_id: String,
    /// The number.
    pub partner_trade_no: String,
    /// The payee.
    pub openid: String,
    /// The amount (a number of fen in JSON).
    #[serde(serialize_with = "fen_number")]
    pub amount: Fen,
    /// WeChat Pay's payment number.
    pub payment_no: String,
    /// `SUCCESS`.
    pub status: String,
}

/// A bank payment, for the dashboard and tests: the decrypted card number and name (the
/// simulator decrypts them with its own key pair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BankPaymentView {
    /// The merchant.
    pub mch_id: String,
    /// The number.
    pub partner_trade_no: String,
    /// The card number, decrypted.
    pub bank_no: String,
    /// The holder's name, decrypted.
    pub true_name: String,
    /// The bank.
    pub bank_code: String,
    /// The amount.
    #[serde(serialize_with = "fen_number")]
    pub amount: Fen,
    /// The fee.
    #[serde(serialize_with = "fen_number")]
    pub fee: Fen,
    /// `PROCESSING`, `SUCCESS`.
    pub status: String,
}

/// A red packet, for the dashboard and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RedpackView {
    /// The merchant.
    pub mch_id: String,
    /// The number.
    pub mch_billno: String,
    /// The receiver (the seed user of a group packet).
    pub openid: String,
    /// The amount.
    #[serde(serialize_with = "fen_number")]
    pub amount: Fen,
    /// `NORMAL` or `GROUP`.
    pub hb_type: String,
    /// `SENT`, `RECEIVED`, `REFUND`.
    pub status: String,
    /// Shares still to claim.
    pub unclaimed: usize,
    /// Who claimed what.
    pub receivers: Vec<(String, u64)>,
}

fn fen_number<S: serde::Serializer>(v: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.get())
}

impl Transfer {
    pub(crate) fn view(&self, (mch_id, no): &PayoutKey) -> TransferView {
        TransferView {
            mch_id: mch_id.clone(),
            partner_trade_no: no.clone(),
            openid: self.openid.clone(),
            amount: self.amount,
            payment_no: self.payment_no.clone(),
            status: "SUCCESS".into(),
        }
    }
}

impl BankPayment {
    pub(crate) fn view(&self, (mch_id, no): &PayoutKey) -> BankPaymentView {
        BankPaymentView {
            mch_id: mch_id.clone(),
            partner_trade_no: no.clone(),
            bank_no: self.bank_no.clone(),
            true_name: self.true_name.clone(),
            bank_code: self.bank_code.clone(),
            amount: self.amount,
            fee: self.fee,
            status: self.status.into(),
        }
    }
}

impl Redpack {
    pub(crate) fn view(&self, (mch_id, no): &PayoutKey) -> RedpackView {
        RedpackView {
            mch_id: mch_id.clone(),
            mch_billno: no.clone(),
            openid: self.openid.clone(),
            amount: self.amount,
            hb_type: if self.group { "GROUP" } else { "NORMAL" }.into(),
            status: self.status.into(),
            unclaimed: self.shares.len(),
            receivers: self
                .receivers
                .iter()
                .map(|(o, a, _)| (o.clone(), a.get()))
                .collect(),
        }
    }
}
