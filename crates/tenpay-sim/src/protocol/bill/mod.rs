//! Bills: downloadbill and downloadfundflow (CSV, or gzip on request; errors as unsigned XML
//! with `error_code`).

pub(crate) mod render;

use tenpay_xml::{BeijingTime, XmlMap};

use super::{Engine, Reply, Req, Verdict};

impl Engine {
    pub(super) fn download_bill(&self, req: &Req<'_>) -> Verdict {
        let day_start = match bill_day(req) {
            Ok(t) => t,
            Err(v) => return v,
        };
        let bill_type = req.get("bill_type").unwrap_or("ALL");
        if !["ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND"].contains(&bill_type) {
            return bill_error("invalid bill_type", "20001");
        }
        let state = self.lock();
        let csv = render::render(&state, &req.merchant.mch_id, bill_type, day_start);
        drop(state);
        let Some(csv) = csv else {
            return bill_error("No Bill Exist", "20002");
        };
        bill_reply(req, csv)
    }

    pub(super) fn download_fund_flow(&self, req: &Req<'_>) -> Verdict {
        let day_start = match bill_day(req) {
            Ok(t) => t,
            Err(v) => return v,
        };
        let account = req.get("account_type").unwrap_or_default();
        if !["Basic", "Operation", "Fees"].contains(&account) {
            return bill_error("invalid account_type", "20001");
        }
        let state = self.lock();
        let csv = render::render_fund_flow(&state, &req.merchant.mch_id, account, day_start);
        drop(state);
        let Some(csv) = csv else {
            return bill_error("No Bill Exist", "20002");
        };
        bill_reply(req, csv)
    }
}

/// The Beijing midnight (Unix seconds) of a bill request's `bill_date` (`yyyyMMdd`).
fn bill_day(req: &Req<'_>) -> Result<i64, Verdict> {
    let date = req.get("bill_date").unwrap_or_default();
    match format!("{date}000000").parse::<BeijingTime>() {
        Ok(t) if date.len() == 8 => Ok(t.unix()),
        _ => Err(bill_error("invalid bill_date", "20001")),
    }
}

/// A bill download's error: unsigned XML with `error_code` (not `err_code`).
fn bill_error(msg: &str, code: &str) -> Verdict {
    let mut m = XmlMap::new();
    let _ = m.insert("return_code", "FAIL");
    let _ = m.insert("return_msg", msg);
    let _ = m.insert("error_code", code);
    Verdict::Reply(Reply::Xml(m.to_xml()))
}

/// A bill as text, or gzip when the request asked for it.
fn bill_reply(req: &Req<'_>, csv: String) -> Verdict {
    if req.get("tar_type") == Some("GZIP") {
        return Verdict::Reply(Reply::Raw {
            content_type: "application/x-gzip",
            body: render::gzip(csv.as_bytes()),
        });
    }
    Verdict::Reply(Reply::Raw {
        content_type: "text/plain; charset=utf-8",
        body: csv.into_bytes(),
    })
}
