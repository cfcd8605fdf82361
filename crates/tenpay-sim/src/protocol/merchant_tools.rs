//! The merchant's service calls: `/payitil/report` (accepted, answered unsigned) and
//! `/billcommentsp/batchquerycomment` (a text page: every paid order of the period has a
//! five-star comment).

use tenpay_xml::{BeijingTime, XmlMap};

use super::{Engine, Reply, Req, Verdict, biz};
use crate::clock::dashed;

/// `payitil/report`: a general report needs `execute_time`, `return_code` and
/// `result_code`; a batch, `trades` as a JSON array. Answered unsigned.
pub(super) fn report(req: &Req<'_>) -> Verdict {
    let batch = req
        .get("interface_url")
        .is_some_and(|u| u.ends_with("/micropay/total"));
    let complete = if batch {
        req.get("trades")
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .is_some_and(|t| t.is_array())
    } else {
        ["execute_time", "return_code", "result_code"]
            .iter()
            .all(|f| req.get(f).is_some())
    };
    if !complete {
        return biz("PARAM_ERROR", "上报参数不完整");
    }
    let mut m = XmlMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "SUCCESS"),
    ] {
        let _ = m.insert(k, v);
    }
    Verdict::Reply(Reply::Xml(m.to_xml()))
}

impl Engine {
    /// `batchquerycomment`: the paid orders of `[begin_time, end_time)`, from `offset`, at most
    /// `limit` (200), one comment each.
    pub(super) fn comments(&self, req: &Req<'_>) -> Verdict {
        let time = |name: &str| {
            req.get(name)
                .and_then(|t| t.parse::<BeijingTime>().ok())
                .map(BeijingTime::unix)
        };
        let (Some(begin), Some(end)) = (time("begin_time"), time("end_time")) else {
            return biz("PARAM_ERROR", "begin_time或end_time格式错误");
        };
        let Ok(offset) = req.get("offset").unwrap_or("0").parse::<usize>() else {
            return biz("PARAM_ERROR", "offset参数错误");
        };
        let limit = req
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(200)
            .min(200);
        let state = self.lock();
        let mut paid: Vec<(i64, String)> = state
            .orders()
            .filter(|o| o.mch_id == req.merchant.mch_id)
            .filter_map(|o| Some((o.time_end?, o.transaction_id.clone()?)))
            .filter(|(t, _)| (begin..end).contains(t))
            .collect();
        drop(state);
        paid.sort();
        let page: Vec<_> = paid.iter().skip(offset).take(limit).collect();
        let mut body = format!("{}\n", offset + page.len());
        for (t, tid) in page {
            body.push_str(&format!("`{},`{tid},5,好评\n", dashed(*t)));
        }
        Verdict::Reply(Reply::Raw {
            content_type: "text/plain; charset=utf-8",
            body: body.into_bytes(),
        })
    }
}
