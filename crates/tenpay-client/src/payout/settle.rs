//! Sending a money-out request and querying until its outcome is known, with one signed body.

use std::time::Duration;

use tokio::time::Instant;

use crate::endpoint::{Endpoint, MerchantFields, Route};
use crate::outcome::{Attempts, MovesMoney, Outcome, OutcomeUnknown, Refused, judge};
use crate::{Client, Error};

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

/// Where [`Client::settle_transfer`] and the other `settle_` calls ended.
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

/// The first wait between queries, and the longest.
const FIRST_WAIT: Duration = Duration::from_millis(200);
const MAX_WAIT: Duration = Duration::from_secs(5);

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

impl Client {
    /// Sends `request` once (with the client's retries of the identical body), then queries
    /// until the outcome is known or `within` has passed. When WeChat Pay has no record of the
    /// number, the identical signed body is sent again; a new number is never used. A resend's
    /// failure never ends the settlement: the outcome stays open and the queries go on.
    ///
    /// # Errors
    /// [`Refused`] only from the first send, when nothing was moved for certain.
    pub(crate) async fn settle<E: Confirm>(
        &self,
        request: &E,
        within: Duration,
    ) -> Result<Settled<<E::Query as Endpoint>::Response>, Refused> {
        let deadline = Instant::now() + within;
        let number = request.number().to_owned();
        let route = E::ROUTE;
        let map = request
            .to_map()
            .map_err(|e| Refused::not_sent(Error::Request(e)))?;
        let (http, key, body) = self.prepare(&route, map).await.map_err(Refused::not_sent)?;
        // Every attempt of every send: a resend's refusal is judged after all of them.
        let mut attempts = Attempts::default();
        let mut send = async || {
            let mut sent = self
                .send_body(&route, http, &key, body.clone(), E::decode)
                .await;
            attempts.extend(std::mem::take(&mut sent.attempts));
            sent.attempts = attempts.clone();
            judge(&number, sent, E::read_code)
        };
        let mut open = match send().await? {
            Outcome::Done(_) => None,
            Outcome::NumberTaken(u) | Outcome::Unknown(u) => Some(u),
        };
        let mut wait = FIRST_WAIT;
        loop {
            match self.execute(&request.query()).await {
                Ok(record) => match E::verdict(&record) {
                    QueryVerdict::Done => return Ok(Settled::Done(record)),
                    QueryVerdict::Failed => return Ok(Settled::Failed(record)),
                    QueryVerdict::Pending if Instant::now() + wait > deadline => {
                        return Ok(Settled::Pending(record));
                    }
                    QueryVerdict::Pending => {}
                },
                Err(e) if e.err_code().is_some_and(|c| c.as_str() == "NOT_FOUND") => {
                    // No record: the send did not arrive, or is still being booked. Repeating
                    // the identical request is safe either way.
                    tracing::info!(
                        number,
                        "tenpay: no record yet; sending the same request again"
                    );
                    match send().await {
                        Ok(Outcome::Done(_)) => {}
                        Ok(Outcome::NumberTaken(u) | Outcome::Unknown(u)) => open = Some(u),
                        // Not reachable (an earlier send reached WeChat Pay, so a resend's
                        // refusal is open), and never final here if it were.
                        Err(r) => {
                            open = Some(OutcomeUnknown::new(
                                &number,
                                r.into_cause(),
                                attempts_so_far(&open),
                            ));
                        }
                    }
                }
                Err(e) => {
                    let so_far = attempts_so_far(&open);
                    open = Some(OutcomeUnknown::new(&number, e, so_far));
                }
            }
            if Instant::now() + wait > deadline {
                let cause = open.unwrap_or_else(|| {
                    OutcomeUnknown::new(
                        &number,
                        Error::NotXml {
                            reason: "no query settled it in time".into(),
                            excerpt: String::new(),
                        },
                        Attempts::default(),
                    )
                });
                return Ok(Settled::Unknown(cause));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
        }
    }
}

/// The attempts recorded in an open outcome.
fn attempts_so_far(open: &Option<OutcomeUnknown>) -> Attempts {
    open.as_ref()
        .map(|u| u.attempts().clone())
        .unwrap_or_default()
}
