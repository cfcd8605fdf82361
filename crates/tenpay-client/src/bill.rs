//! downloadbill: typed bill rows, gzip, and "no bill" as its own outcome.

use std::io::Read as _;

use serde::Serialize;
use tenpay_sign::ApiKey;
use tenpay_xml::XmlMap;

use crate::answer::{Answer, Verifier, parse_envelope};
pub use crate::bill_rows::{BillReader, BillRow, BillSummary};
use crate::error::excerpt;
use crate::table::malformed;
use crate::{Endpoint, Error, Route};

tenpay_xml::wire_enum!(
    /// `bill_type`.
    BillType {
        /// Every trade of the day (default).
        All = "ALL",
        /// Paid orders.
        Success = "SUCCESS",
        /// Refunds.
        Refund = "REFUND",
        /// Refunds of recharge funds.
        RechargeRefund = "RECHARGE_REFUND",
    }
);

/// `/pay/downloadbill`: the bill of one day (ready after 10:00 the next day, Beijing time).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DownloadBill {
    bill_date: String,
    bill_type: BillType,
    tar_type: Option<&'static str>,
}

impl DownloadBill {
    /// The bill for `bill_date` (`yyyyMMdd`).
    ///
    /// # Errors
    /// [`Error::Config`] when the date is not 8 digits of a real day.
    pub fn new(bill_date: &str, bill_type: BillType) -> Result<Self, Error> {
        check_bill_date(bill_date)?;
        Ok(Self {
            bill_date: bill_date.to_owned(),
            bill_type,
            tar_type: None,
        })
    }

    /// Ask for the bill gzip-compressed (decompressed by the client).
    #[must_use]
    pub fn gzip(mut self) -> Self {
        self.tar_type = Some("GZIP");
        self
    }
}

/// A `bill_date`: `yyyyMMdd`, a real day.
pub(crate) fn check_bill_date(bill_date: &str) -> Result<(), Error> {
    let valid = bill_date.len() == 8
        && format!("{bill_date}000000")
            .parse::<tenpay_xml::BeijingTime>()
            .is_ok();
    if valid {
        Ok(())
    } else {
        Err(Error::Config(crate::ConfigError::BillDate(
            bill_date.chars().take(20).collect(),
        )))
    }
}

/// How a bill download ended: the trade bill ([`Bill`], from [`DownloadBill`]) or the fund
/// flow ([`FundFlow`](crate::FundFlow), from [`DownloadFundFlow`](crate::DownloadFundFlow)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillOutcome<B = Bill> {
    /// The bill.
    Bill(B),
    /// There is no bill for that day (no trades, or not generated yet).
    NoBill {
        /// `return_msg`: `No Bill Exist`, `Bill Creating`, …
        return_msg: String,
        /// `error_code`, e.g. `20002`.
        error_code: Option<String>,
    },
}

impl<B> BillOutcome<B> {
    /// The bill, if there is one.
    pub fn bill(self) -> Option<B> {
        match self {
            Self::Bill(b) => Some(b),
            Self::NoBill { .. } => None,
        }
    }

    pub(crate) fn try_map<C>(
        self,
        f: impl FnOnce(B) -> Result<C, Error>,
    ) -> Result<BillOutcome<C>, Error> {
        Ok(match self {
            Self::Bill(b) => BillOutcome::Bill(f(b)?),
            Self::NoBill {
                return_msg,
                error_code,
            } => BillOutcome::NoBill {
                return_msg,
                error_code,
            },
        })
    }
}

/// A bill: its rows and its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bill {
    /// The column names, in order.
    pub columns: Vec<String>,
    /// One row per trade or refund.
    pub rows: Vec<BillRow>,
    /// The summary row.
    pub summary: BillSummary,
    /// The bill text as received (decompressed).
    pub text: String,
}

impl Endpoint for DownloadBill {
    type Response = BillOutcome;
    const ROUTE: Route<'static> = Route::new("/pay/downloadbill")
        .retry_safe()
        .large_answer()
        .unsigned_answer();

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        tenpay_xml::to_map(self)
    }

    fn decode(_verifier: &Verifier, _key: &ApiKey, answer: Answer) -> Result<BillOutcome, Error> {
        read_text(answer)?.try_map(parse_bill)
    }
}

/// The body of a bill download: the text (gunzipped), "no bill", or an error. Bills are
/// unsigned; only errors are XML.
pub(crate) fn read_text(answer: Answer) -> Result<BillOutcome<String>, Error> {
    let Answer {
        body,
        inflate_limit,
    } = answer;
    if body.starts_with(&[0x1f, 0x8b]) {
        // Every member, through the limit: a small body must not inflate without bound.
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&body[..])
            .take(
                u64::try_from(inflate_limit)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            )
            .read_to_end(&mut out)
            .map_err(|e| Error::NotXml {
                reason: format!("bad gzip bill: {e}"),
                excerpt: String::new(),
            })?;
        if out.len() > inflate_limit {
            return Err(Error::TooLarge {
                limit: inflate_limit,
            });
        }
        return String::from_utf8(out)
            .map(BillOutcome::Bill)
            .map_err(|_| Error::NotXml {
                reason: "bill is not UTF-8".into(),
                excerpt: String::new(),
            });
    }
    if !body.trim_ascii_start().starts_with(b"<") {
        return String::from_utf8(body.to_vec())
            .map(BillOutcome::Bill)
            .map_err(|_| Error::NotXml {
                reason: "bill is not UTF-8".into(),
                excerpt: String::new(),
            });
    }
    // Errors are XML, unsigned.
    let answer = Answer {
        body,
        inflate_limit,
    };
    match parse_envelope(&answer) {
        Ok(_) => Err(Error::NotXml {
            reason: "an XML answer without a bill".into(),
            excerpt: excerpt(&answer.body),
        }),
        Err(Error::Protocol { return_msg }) => {
            let map = XmlMap::parse(&answer.body).ok();
            let error_code = map
                .as_ref()
                .and_then(|m| m.get("error_code"))
                .map(str::to_owned);
            if return_msg.eq_ignore_ascii_case("No Bill Exist")
                || return_msg == "Bill Creating"
                || error_code.as_deref() == Some("20002")
            {
                Ok(BillOutcome::NoBill {
                    return_msg,
                    error_code,
                })
            } else {
                Err(Error::Protocol { return_msg })
            }
        }
        Err(e) => Err(e),
    }
}

/// Parses the trade bill text: header, rows, summary header, summary row.
pub(crate) fn parse_bill(text: String) -> Result<Bill, Error> {
    let mut reader = BillReader::new(text.as_bytes())?;
    let rows = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    let columns = reader.columns().to_vec();
    let summary = reader
        .summary()
        .cloned()
        .ok_or_else(|| malformed("no summary"))?;
    Ok(Bill {
        columns,
        rows,
        summary,
        text,
    })
}
