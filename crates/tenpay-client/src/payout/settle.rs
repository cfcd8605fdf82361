//! Sending a money-out request and querying until its outcome is known, with one signed body.

use crate::endpoint::{Endpoint, MerchantFields, Route};
use crate::outcome::{MovesMoney, OutcomeUnknown};

/// What a query says about a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryVerdict {
    Done,
    Failed,
    Pending,
}

/// A money-out request that can be confirmed by a query under its number.
pub(crate) trait Confirm: MovesMoney {
    type Query: Endpoint;
    fn query(&self) -> Self::Query;
    fn verdict(record: &<Self::Query as Endpoint>::Response) -> QueryVerdict;
}

/// Where [`Client::settle_transfer`](crate::Client::settle_transfer) and the other `settle_` calls ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Settled<T> {
    /// Paid (sent, for a red packet): the query's record.
    Done(T),
    /// Failed for good: nothing was paid (or it came back); paying again needs a new number.
    Failed(T),
    /// Accepted and still being paid when the time ran out (bank payments take days): query
    /// again later.
    Pending(T),
    /// No answer or no record settled it in time: query again later with the number, or
    /// settle again (the same request is repeated, never a new one).
    Unknown(OutcomeUnknown),
}

/// The money-out family's route at `path`: the certificate, MD5 whatever the merchant uses,
/// the merchant under `fields`, unsigned answers, safe to repeat (under the same number).
pub(crate) const fn payout_route(path: &'static str, fields: MerchantFields) -> Route<'static> {
    Route::new(path)
        .certificate()
        .retry_safe()
        .signed_with(tenpay_sign::SignType::Md5)
        .named(fields)
        .unsigned_answer()
}
