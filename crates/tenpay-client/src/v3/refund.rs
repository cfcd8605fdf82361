//! Refunds: the call that moves money back, with the outcome rule, and its query.

use reqwest::Method;
use serde_json::json;
use tenpay_xml::{Fen, OutRefundNo, OutTradeNo};

use super::client::{decode, segment};
use super::{Client, Error, Refund};

/// A refund to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRequest {
    /// The paid order's number.
    pub out_trade_no: OutTradeNo,
    /// The merchant's refund number: the same number is the same refund, so a repeat never
    /// refunds twice.
    pub out_refund_no: OutRefundNo,
    /// This refund, fen.
    pub refund: Fen,
    /// The order's total, fen.
    pub total: Fen,
    /// Why, shown to the payer.
    pub reason: Option<String>,
    /// Where the refund notification goes.
    pub notify_url: Option<String>,
}

impl RefundRequest {
    /// A refund of `refund` of the order's `total`.
    #[must_use]
    pub fn new(
        out_trade_no: OutTradeNo,
        out_refund_no: OutRefundNo,
        refund: Fen,
        total: Fen,
    ) -> Self {
        Self {
            out_trade_no,
            out_refund_no,
            refund,
            total,
            reason: None,
            notify_url: None,
        }
    }

    /// With a refund notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// With a reason.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

impl Client {
    /// Asks for a refund (`POST /v3/refund/domestic/refunds`). An attempt in doubt (no
    /// answer, 5xx, 429, an answer that does not verify) is repeated with the identical
    /// body; if the repeats do not settle it, the refund is looked up by its number; and
    /// if that finds nothing either, the call ends [`Error::InDoubt`], never as "not
    /// refunded". A refusal after an attempt in doubt is [`Error::InDoubt`] too: the first
    /// attempt may have been applied.
    ///
    /// # Errors
    /// [`Error::Api`] for a definite refusal (`NOT_ENOUGH`, `PARAM_ERROR`, …) of a call no
    /// attempt of which was in doubt; [`Error::InDoubt`]; [`Error::Sign`].
    pub async fn refund(&self, r: &RefundRequest) -> Result<Refund, Error> {
        let mut body = json!({
            "out_trade_no": r.out_trade_no.as_str(),
            "out_refund_no": r.out_refund_no.as_str(),
            "amount": { "refund": r.refund.get(), "total": r.total.get(), "currency": "CNY" },
        });
        if let Some(reason) = &r.reason {
            body["reason"] = json!(reason);
        }
        if let Some(sub) = self.sub() {
            body["sub_mchid"] = json!(sub.sub_mchid);
        }
        if let Some(url) = &r.notify_url {
            body["notify_url"] = json!(url);
        }
        let body = body.to_string();
        let (result, doubted) = self
            .call(
                Method::POST,
                "/v3/refund/domestic/refunds",
                Some(body.as_bytes()),
            )
            .await;
        let last = match result {
            Ok(answer) => match decode::<Refund>(&answer.body) {
                Ok(refund) => return Ok(refund),
                Err(e) => e,
            },
            Err(e) if !doubted && !e.is_in_doubt() => return Err(e),
            Err(e) => e,
        };
        // In doubt: WeChat Pay may hold it. Its number says.
        match self.query_refund(&r.out_refund_no).await {
            Ok(refund) => Ok(refund),
            Err(_) => Err(Error::InDoubt {
                last: Box::new(last),
            }),
        }
    }

    /// A refund by the merchant's refund number.
    ///
    /// # Errors
    /// [`Error::Api`] (`404 RESOURCE_NOT_EXISTS`), and those of [`Client::request`].
    pub async fn query_refund(&self, out_refund_no: &OutRefundNo) -> Result<Refund, Error> {
        let mut path = format!(
            "/v3/refund/domestic/refunds/{}",
            segment(out_refund_no.as_str())
        );
        if let Some(sub) = self.sub() {
            path.push_str(&format!("?sub_mchid={}", segment(&sub.sub_mchid)));
        }
        self.json(Method::GET, &path, None).await
    }
}
