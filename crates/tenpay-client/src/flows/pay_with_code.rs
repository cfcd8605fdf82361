//! A payment code to its end: micropay, queries while the user confirms, a reversal when
//! the outcome cannot be settled.

use std::time::Instant;

use crate::micropay::mismatch;
use crate::*;

impl Client {
    /// Charges a payment code the documented way: micropay; on an open outcome (USERPAYING,
    /// SYSTEMERROR, BANKERROR, a transport failure, …) poll orderquery with backoff for up to
    /// the configured window, counting a SUCCESS only when it names this `out_trade_no` and
    /// `total_fee`; if still unpaid, reverse the order, repeating while the server answers
    /// `recall=Y`.
    ///
    /// # Errors
    /// [`Refused`] only when micropay charged nothing for certain (AUTHCODEEXPIRE,
    /// NOTENOUGH, …, or nothing sent). A reversal that fails is
    /// [`MicropayOutcome::Unknown`], never an error.
    pub async fn pay_with_code(&self, request: &Micropay) -> Result<MicropayOutcome, Refused> {
        let first = match self.micropay(request).await? {
            Outcome::Done(paid) => return Ok(MicropayOutcome::Paid(Box::new(paid))),
            Outcome::NumberTaken(u) | Outcome::Unknown(u) => u,
        };
        let started = Instant::now();
        let mut reason = format!("{first}: {}", first.cause());
        let mut interval = self.inner.poll_interval;
        let query = OrderQuery::by_out_trade_no(request.out_trade_no.clone());
        while started.elapsed() < self.inner.poll_window {
            tokio::time::sleep(
                interval.min(self.inner.poll_window.saturating_sub(started.elapsed())),
            )
            .await;
            match self.execute(&query).await {
                Ok(q) if q.trade_state == TradeState::Success => {
                    if let Some(mismatch) = mismatch(request, &q) {
                        // The number was paid, but not by this request: not ours to claim,
                        // and not ours to reverse.
                        return Ok(MicropayOutcome::Unknown(OutcomeUnknown::new(
                            request.out_trade_no.as_str(),
                            mismatch,
                            first.attempts().clone(),
                        )));
                    }
                    return Ok(MicropayOutcome::PaidAfterPolling(Box::new(q)));
                }
                Ok(q)
                    if q.trade_state == TradeState::UserPaying
                        || q.trade_state == TradeState::NotPay =>
                {
                    reason = format!("trade_state {}", q.trade_state);
                }
                Ok(q) => {
                    reason = format!("trade_state {}", q.trade_state);
                    break;
                }
                Err(e) => reason = e.to_string(),
            }
            interval = (interval * 3 / 2).min(self.inner.poll_interval * 3);
        }
        let reverse = Reverse::new(request.out_trade_no.clone());
        let mut last = None;
        for _ in 0..10 {
            match self.reverse(&reverse).await {
                Ok(Outcome::Done(answer)) if !answer.recall() => {
                    return Ok(MicropayOutcome::Reversed { reason });
                }
                Ok(Outcome::Done(_)) => {}
                Ok(Outcome::NumberTaken(u) | Outcome::Unknown(u)) => last = Some(u),
                // Refused for good: the payment, if any, stands.
                Err(r) => {
                    let attempts = r.attempts().clone();
                    return Ok(MicropayOutcome::Unknown(OutcomeUnknown::new(
                        request.out_trade_no.as_str(),
                        r.into_cause(),
                        attempts,
                    )));
                }
            }
            tokio::time::sleep(self.inner.poll_interval / 5).await;
        }
        Ok(MicropayOutcome::Unknown(last.unwrap_or_else(|| {
            OutcomeUnknown::new(
                request.out_trade_no.as_str(),
                Error::Business {
                    err_code: ErrCode::SystemError,
                    err_code_des: "reverse still asks for recall after 10 tries".into(),
                },
                first.attempts().clone(),
            )
        })))
    }
}
