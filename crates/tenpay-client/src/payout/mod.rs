//! Money out: cash red packets, transfers to a user's balance, payments to bank cards.
//!
//! These are the calls where an SDK's mistake costs money: an error for a transfer that had
//! in fact succeeded invites the caller to pay again under a new number. So:
//!
//! - **A send never ends in an error that hides a possible payment.** [`Client::transfer`],
//!   [`Client::send_redpack`], [`Client::pay_bank`] and the others return
//!   [`Payout::Unknown`] when the outcome is open: `SYSTEMERROR`, `PROCESSING`, a numeric or
//!   unknown `err_code` (WeChat Pay's guidance: never switch numbers on an unknown code), a
//!   timeout or a transport failure after the request may have been sent, an answer that is
//!   not XML. The [`OutcomeUnknown`] names the number to query with. An `Err` means this
//!   request paid nothing for certain (a final refusal such as `NOTENOUGH`, or a request that
//!   was never sent).
//! - **A repeat is the same request.** Retries reuse the number *and the signed body*
//!   (the bank card's ciphertexts included: RSA-OAEP is randomised, so encrypting again would
//!   be a different request). [`Client::settle_payout`] sends, then queries until the outcome
//!   is known or the time is up, and resends the identical body only when WeChat Pay has no
//!   record of the number.
//! - **Every call needs the client certificate** and is refused without one.
//! - **Answers carry no signature** (the family's documented behaviour): they are checked for
//!   the envelope, the codes and the merchant's ids, and are claims, not evidence.
//!
//! `sendgroupredpack` was retired by WeChat Pay in 2024: it is not sent; its packets can still
//! be read with [`RedpackQuery`].

mod bank;
mod classify;
mod redpack;
mod settle;
mod transfer;

pub(crate) use bank::BankKeySource;
pub use bank::{BankCode, BankPayment, BankPaymentInfo, BankQuery, BankStatus, PayBank, PublicKey};
pub use redpack::{
    MiniProgramRedpack, Redpack, RedpackInfo, RedpackQuery, RedpackReceiver, RedpackSent,
    RedpackStatus, SendRedpack,
};
pub use settle::Settled;
pub use transfer::{Transfer, TransferInfo, TransferQuery, TransferStatus, Transferred};

use crate::{Client, Error};

impl Client {
    /// Fails unless the client has a certificate: every money-out call needs one, and a
    /// request sent without it would only come back as `CA_ERROR`.
    pub(crate) fn require_identity(&self, path: &str) -> Result<(), Error> {
        if self.merchant.http_cert.is_none() {
            return Err(Error::NoIdentity {
                path: path.to_owned(),
            });
        }
        Ok(())
    }
}
