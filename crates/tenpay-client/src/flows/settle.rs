//! A money-out request sent, then queried until its outcome is known, with one signed body.

use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::{Attempts, OutcomeUnknown, judge};
use crate::payout::{Confirm, QueryVerdict, cannot_decrypt};
use crate::*;

/// The first wait between queries, and the longest.
const FIRST_WAIT: Duration = Duration::from_millis(200);
const MAX_WAIT: Duration = Duration::from_secs(5);

/// The attempts recorded in an open outcome.
fn attempts_so_far(open: &Option<OutcomeUnknown>) -> Attempts {
    open.as_ref()
        .map(|u| u.attempts().clone())
        .unwrap_or_default()
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

    /// Pays a transfer and queries until its outcome is known or `within` has passed, with
    /// one signed body: when WeChat Pay has no record, the identical request is sent again.
    ///
    /// # Errors
    /// As [`Client::transfer`]: only when nothing was paid for certain.
    pub async fn settle_transfer(
        &self,
        request: &Transfer,
        within: Duration,
    ) -> Result<Settled<TransferInfo>, Refused> {
        self.require_identity("/mmpaymkttransfers/promotion/transfers")
            .map_err(Refused::not_sent)?;
        self.settle(request, within).await
    }

    /// Sends a red packet and queries until its outcome is known or `within` has passed, with
    /// one signed body.
    ///
    /// # Errors
    /// As [`Client::send_redpack`].
    pub async fn settle_redpack(
        &self,
        request: &SendRedpack,
        within: Duration,
    ) -> Result<Settled<RedpackInfo>, Refused> {
        self.require_identity(SendRedpack::ROUTE.path())
            .map_err(Refused::not_sent)?;
        self.settle(request, within).await
    }

    /// Pays to a bank card and queries until its outcome is known or `within` has passed,
    /// with one signed body (one encryption).
    ///
    /// # Errors
    /// As [`Client::pay_bank`].
    pub async fn settle_pay_bank(
        &self,
        request: &PayBank,
        within: Duration,
    ) -> Result<Settled<BankPaymentInfo>, Refused> {
        let key = self.public_key().await.map_err(Refused::not_sent)?;
        let encrypted = self
            .encrypt_bank(&key, request)
            .map_err(Refused::not_sent)?;
        match self.settle(&encrypted, within).await {
            Err(r) if cannot_decrypt(&r) => {
                let encrypted = self.reencrypt(&key, request).await?;
                self.settle(&encrypted, within).await
            }
            other => other,
        }
    }
}
