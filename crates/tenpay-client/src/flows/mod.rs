//! The flows: what takes more than one call, or a call and a decision, built above the
//! client from the families' types and pure decisions.
//!
//! - [`Client::pay_with_code`]: a payment code, polled to its end, reversed when it cannot
//!   be settled;
//! - [`Client::settle_transfer`], [`Client::settle_redpack`], [`Client::settle_pay_bank`]:
//!   a payout sent, then queried (and the identical body resent) until its outcome is known;
//! - [`Client::pay_bank`] with [`Client::public_key`]: WeChat Pay's RSA key fetched once,
//!   kept, and fetched again when WeChat Pay cannot decrypt with it;
//! - [`Client::download_bill_to`] and its fund-flow and raw forms: a bill streamed to a
//!   writer in bounded memory;
//! - [`Client::app_params`], [`Client::jsapi_params`] and the papay signing pages: what the
//!   front end pays or signs with, signed with the merchant's key and the client's clock.

mod bank;
mod bill;
mod pay_with_code;
mod settle;
mod sign;
