//! The merchant's service calls: the transaction report (交易保障, `/payitil/report`) and
//! the payers' comments (`/billcommentsp/batchquerycomment`).

use serde::{Deserialize, Serialize};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::endpoint::{endpoint, keep_raw};
use crate::{Answer, Error, Route, Verifier};

/// `/payitil/report`: how a call to WeChat Pay went (its URL, how long it took, its
/// codes), for WeChat Pay's quality monitoring. Fire and forget: the answer is unsigned and
/// a failure needs no retry.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    interface_url: String,
    execute_time: Option<u64>,
    return_code: String,
    return_msg: Option<String>,
    result_code: String,
    err_code: Option<String>,
    err_code_des: Option<String>,
    out_trade_no: Option<String>,
    user_ip: String,
    time: Option<String>,
    device_info: Option<String>,
    trades: Option<String>,
}

/// One payment-code trade of a batch report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportTrade {
    out_trade_no: String,
    begin_time: String,
    end_time: String,
    state: &'static str,
    err_msg: String,
}

impl ReportTrade {
    /// A trade that went through, from `begin_time` to `end_time` (`yyyyMMddHHmmss`).
    pub fn ok(
        out_trade_no: impl Into<String>,
        begin_time: impl Into<String>,
        end_time: impl Into<String>,
    ) -> Self {
        Self {
            out_trade_no: out_trade_no.into(),
            begin_time: begin_time.into(),
            end_time: end_time.into(),
            state: "OK",
            err_msg: String::new(),
        }
    }

    /// A trade that failed, with what the till showed (`err_msg`).
    #[must_use]
    pub fn failed(
        out_trade_no: impl Into<String>,
        begin_time: impl Into<String>,
        end_time: impl Into<String>,
        err_msg: impl Into<String>,
    ) -> Self {
        Self {
            state: "FAIL",
            err_msg: err_msg.into(),
            ..Self::ok(out_trade_no, begin_time, end_time)
        }
    }
}

impl Report {
    /// A call to `interface_url` (the full URL called) that took `execute_time_ms` and
    /// ended with `return_code` / `result_code`, made for the payer at `user_ip`.
    pub fn call(
        interface_url: impl Into<String>,
        execute_time_ms: u64,
        return_code: impl Into<String>,
        result_code: impl Into<String>,
        user_ip: impl Into<String>,
    ) -> Self {
        Self {
            interface_url: interface_url.into(),
            execute_time: Some(execute_time_ms),
            return_code: return_code.into(),
            return_msg: None,
            result_code: result_code.into(),
            err_code: None,
            err_code_des: None,
            out_trade_no: None,
            user_ip: user_ip.into(),
            time: None,
            device_info: None,
            trades: None,
        }
    }

    /// A till's batch of payment-code trades (`…/pay/batchreport/micropay/total`).
    #[must_use]
    pub fn micropay_batch(user_ip: impl Into<String>, trades: &[ReportTrade]) -> Self {
        let mut r = Self::call(
            "https://api.mch.weixin.qq.com/pay/batchreport/micropay/total",
            0,
            "SUCCESS",
            "SUCCESS",
            user_ip,
        );
        r.execute_time = None;
        // Plain strings: serialising cannot fail.
        r.trades = Some(serde_json::to_string(trades).unwrap_or_default());
        r
    }

    /// The call's error code and description.
    #[must_use]
    pub fn error(mut self, err_code: impl Into<String>, err_code_des: impl Into<String>) -> Self {
        self.err_code = Some(err_code.into());
        self.err_code_des = Some(err_code_des.into());
        self
    }

    /// The order the call was about.
    #[must_use]
    pub fn out_trade_no(mut self, no: impl Into<String>) -> Self {
        self.out_trade_no = Some(no.into());
        self
    }

    /// The till.
    #[must_use]
    pub fn device_info(mut self, d: impl Into<String>) -> Self {
        self.device_info = Some(d.into());
        self
    }
}

/// The answer to [`Report`] (unsigned).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Reported {
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(Reported);

endpoint!(Report => Reported, Route::new("/payitil/report").unsigned_answer());

/// `/billcommentsp/batchquerycomment` (certificate, HMAC-SHA256): the payers' comments made
/// in `[begin_time, end_time)` (`yyyyMMddHHmmss`), from `offset`, at most `limit` (≤ 200).
/// Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CommentQuery {
    begin_time: String,
    end_time: String,
    offset: u64,
    limit: Option<u32>,
}

impl CommentQuery {
    /// Comments of the period, from `offset` (0 first, then [`Comments::next_offset`]).
    pub fn new(begin_time: impl Into<String>, end_time: impl Into<String>, offset: u64) -> Self {
        Self {
            begin_time: begin_time.into(),
            end_time: end_time.into(),
            offset,
            limit: None,
        }
    }

    /// At most `limit` comments (≤ 200, the default).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit.min(200));
        self
    }
}

/// One comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comment {
    /// When (`yyyy-MM-dd HH:mm:ss`).
    pub time: String,
    /// The payment.
    pub transaction_id: String,
    /// 1 to 5.
    pub stars: u8,
    /// The text (commas included).
    pub comment: String,
}

/// A page of comments: a text body, not XML.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Comments {
    /// Where the next page starts.
    pub next_offset: u64,
    /// The comments.
    pub comments: Vec<Comment>,
}

/// A success is text (the next offset, then `time,transaction_id,stars,comment` lines); a
/// failure is the usual XML, checked as any answer.
fn decode_comments(verifier: &Verifier, key: &ApiKey, answer: Answer) -> Result<Comments, Error> {
    let body = answer.body();
    if body.trim_ascii_start().starts_with(b"<") {
        // An XML answer here is a refusal (often unsigned): the checks name its code.
        let _ = key;
        let map = verifier.check_unsigned(&answer)?;
        return Err(Error::NotXml {
            reason: "a comment query answered XML without an error".into(),
            excerpt: map.get("return_msg").unwrap_or("").to_owned(),
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| Error::NotXml {
        reason: "the comments are not UTF-8".into(),
        excerpt: String::new(),
    })?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let bad = |line: &str| Error::NotXml {
        reason: "not a comment line".into(),
        excerpt: line.chars().take(64).collect(),
    };
    let first = lines.next().unwrap_or("");
    let next_offset = first.trim().parse().map_err(|_| bad(first))?;
    let comments = lines
        .map(|line| {
            let mut parts = line.splitn(4, ',');
            let (Some(time), Some(tid), Some(stars), Some(comment)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(line));
            };
            let stars = stars
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|s| (1..=5).contains(s))
                .ok_or_else(|| bad(line))?;
            Ok(Comment {
                time: time.trim_start_matches('`').to_owned(),
                transaction_id: tid.trim_start_matches('`').to_owned(),
                stars,
                comment: comment.to_owned(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Comments {
        next_offset,
        comments,
    })
}

endpoint!(CommentQuery => Comments,
    Route::new("/billcommentsp/batchquerycomment")
        .certificate()
        .signed_with(SignType::HmacSha256)
        .retry_safe(),
    decode: decode_comments);
