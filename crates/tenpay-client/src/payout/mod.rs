//! Money out: cash red packets, transfers to a user's balance, payments to bank cards.
//!
//! These are the calls where an SDK's mistake costs money: an error for a transfer that had
//! in fact succeeded invites the caller to pay again under a new number. So:
//!
//! - **A send never ends in an error that hides a possible payment.** Sends are judged over
//!   every attempt ([`crate::Outcome`]): `Err(Refused)` only when no attempt reached WeChat Pay
//!   or the first that did was refused with a final code of the family's table (`classify`);
//!   a taken number is `Outcome::NumberTaken`, anything else `Outcome::Unknown`.
//! - **A repeat is the same request.** Retries reuse the number *and the signed body*
//!   (the bank card's ciphertexts included: RSA-OAEP is randomised, so encrypting again would
//!   be a different request). `settle_transfer`, `settle_redpack` and `settle_pay_bank` send,
//!   then query until the outcome is known or the time is up, resending the identical body
//!   only when WeChat Pay has no record of the number.
//! - **Every call needs the client certificate** and is refused without one.
//! - **Answers carry no signature** (the family's documented behaviour): they are checked for
//!   the envelope, the codes and the merchant's ids, and are claims, not evidence.
//!
//! `sendgroupredpack` was retired by WeChat Pay in 2024: it is not sent; its packets can still
//! be read with [`RedpackQuery`]. Cash red packets (`sendredpack`, `sendminiprogramhb`,
//! `gethbinfo`) are closed to new merchants by a notice of 2026-06-18: merchants who have them
//! keep them, new ones are given v3's `transfer-bills`. WeCom packets ([`WeComRedpack`]) carry
//! no such notice.

mod bank;
mod classify;
mod redpack;
mod settle;
mod transfer;
mod wecom;

pub use bank::{BankCode, BankPayment, BankPaymentInfo, BankQuery, BankStatus, PayBank, PublicKey};
pub(crate) use bank::{BankKeySource, EncryptedPayBank, GetPublicKey, cannot_decrypt};
pub use redpack::{
    MiniProgramRedpack, Redpack, RedpackInfo, RedpackQuery, RedpackReceiver, RedpackSent,
    RedpackStatus, SendRedpack,
};
pub use settle::Settled;
pub(crate) use settle::{Confirm, QueryVerdict};
pub use transfer::{Transfer, TransferInfo, TransferQuery, TransferStatus, Transferred};
pub use wecom::{WeComRedpack, WeComRedpackInfo, WeComRedpackQuery};
