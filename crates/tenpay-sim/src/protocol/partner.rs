//! Service-provider administration: a sub-merchant's development configuration (JSAPI
//! payment directories, at most 5; bound appids), and a bank service provider's
//! sub-merchants (`submchmanage?action=add|query`, `modifymchinfo`). The writer leaves the
//! request's sub-merchant ids out of these answers; the sub-merchant an answer is about is
//! one of its fields.
//!
//! WeChat Pay's `submchmanage` answers are unconfirmed (V2-FAMILIES §9.13). The simulator
//! answers under the root `root` (which a bank provider's production code reads), the query
//! with one `<mchinfo>` record per merchant, signed over the flat fields.

use super::{Engine, Reply, Req, Verdict, biz, ok};
use crate::ids::seq;
use crate::state::BankSub;

/// JSAPI payment directories per sub-merchant.
const MAX_PATHS: usize = 5;
/// Bound appids per sub-merchant (kept bounded).
const MAX_APPIDS: usize = 50;

impl Engine {
    /// `addsubdevconfig`: exactly one of `jsapi_path` and `sub_appid`.
    pub(super) fn add_dev_config(&self, req: &Req<'_>) -> Verdict {
        let sub = req.get("sub_mch_id").unwrap_or_default().to_owned();
        let key = (req.merchant.mch_id.clone(), sub);
        let mut state = self.lock();
        let config = state.dev_configs.entry(key).or_default();
        match (req.get("jsapi_path"), req.get("sub_appid")) {
            (Some(path), None) => {
                if !path.starts_with("https://") && !path.starts_with("http://")
                    || !path.ends_with('/')
                {
                    return biz("PARAM_ERROR", "jsapi_path格式错误，须以/结尾");
                }
                if !config.0.iter().any(|p| p == path) {
                    if config.0.len() >= MAX_PATHS {
                        return biz("PARAM_ERROR", "支付授权目录最多5个");
                    }
                    config.0.push(path.to_owned());
                }
            }
            (None, Some(appid)) => {
                if !config.1.iter().any(|a| a == appid) {
                    if config.1.len() >= MAX_APPIDS {
                        return biz("PARAM_ERROR", "绑定appid数量超过限制");
                    }
                    config.1.push(appid.to_owned());
                }
            }
            _ => return biz("PARAM_ERROR", "jsapi_path和sub_appid必须且只能填一个"),
        }
        drop(state);
        ok(Vec::<(String, String)>::new())
    }

    /// `querysubdevconfig`: the lists as JSON text.
    pub(super) fn dev_config(&self, req: &Req<'_>) -> Verdict {
        let key = (
            req.merchant.mch_id.clone(),
            req.get("sub_mch_id").unwrap_or_default().to_owned(),
        );
        let (paths, appids) = self
            .lock()
            .dev_configs
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let paths = serde_json::json!({ "jsapi_path_list": paths }).to_string();
        let appids = serde_json::json!({
            "appid_config_list": appids
                .iter()
                .map(|a| serde_json::json!({ "subscribe_appid": null, "sub_appid": a }))
                .collect::<Vec<_>>()
        })
        .to_string();
        ok([("jsapi_path_list", paths), ("appid_config_list", appids)])
    }
}

/// Sub-merchants one provider may add here (kept bounded).
const MAX_BANK_SUBS: usize = 10_000;
/// The largest query page.
const MAX_PAGE: usize = 100;
/// The profile fields submchmanage keeps, in the order its records carry them.
const PROFILE: [&str; 11] = [
    "merchant_name",
    "merchant_shortname",
    "service_phone",
    "contact",
    "contact_phone",
    "contact_email",
    "business",
    "merchant_remark",
    "channel_id",
    "contact_wechatid_type",
    "contact_wechatid",
];

/// `xml`, written with the root `xml`, under the root `root` instead.
pub(super) fn under_root(xml: &str, root: &str) -> String {
    let inner = xml
        .strip_prefix("<xml>")
        .and_then(|x| x.strip_suffix("</xml>"))
        .unwrap_or(xml);
    format!("<{root}>{inner}</{root}>")
}

impl Engine {
    /// `submchmanage?action=add`: a new sub-merchant with a fresh id. The same
    /// `merchant_remark` again answers the same id when the profile is the same, and is
    /// refused when it differs.
    pub(super) fn add_sub_merchant(&self, req: &Req<'_>) -> Verdict {
        let profile: Vec<(String, String)> = PROFILE
            .iter()
            .filter_map(|&k| req.get(k).map(|v| (k.to_owned(), v.to_owned())))
            .collect();
        let remark = req.get("merchant_remark").unwrap_or_default();
        let mch_id = req.merchant.mch_id.clone();
        let mut state = self.lock();
        let mine = || state.bank_subs.iter().filter(|((m, _), _)| *m == mch_id);
        if let Some(((_, sub), known)) = mine().find(|(_, b)| {
            b.fields
                .iter()
                .any(|(k, v)| k == "merchant_remark" && v == remark)
        }) {
            return if known.fields == profile {
                ok([("sub_mch_id", sub.clone())])
            } else {
                biz("PARAM_ERROR", "merchant_remark已存在，且商户资料不一致")
            };
        }
        if mine().count() >= MAX_BANK_SUBS {
            return biz("PARAM_ERROR", "录入的特约商户数量超过限制");
        }
        let sub = format!("{}", 1_600_000_000 + seq() % 100_000_000);
        state
            .bank_subs
            .insert((mch_id, sub.clone()), BankSub { fields: profile });
        drop(state);
        ok([("sub_mch_id", sub)])
    }

    /// `submchmanage?action=query`: by `sub_mch_id` or `merchant_name`, a page of
    /// `page_size` (10 by default, at most 100) from `page_index` 1.
    pub(super) fn sub_merchants(&self, req: &Req<'_>) -> Verdict {
        let page: usize = match req.get("page_index").map(str::parse) {
            Some(Ok(n)) if n >= 1 => n,
            _ => return biz("PARAM_ERROR", "page_index参数错误"),
        };
        let size: usize = match req.get("page_size").map(str::parse) {
            None => 10,
            Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
            Some(_) => return biz("PARAM_ERROR", "page_size参数错误"),
        };
        let (by_id, by_name) = (req.get("sub_mch_id"), req.get("merchant_name"));
        if by_id.is_none() && by_name.is_none() {
            return biz("PARAM_ERROR", "sub_mch_id和merchant_name至少填一个");
        }
        let state = self.lock();
        let found: Vec<(&String, &BankSub)> = state
            .bank_subs
            .iter()
            .filter(|((m, sub), b)| {
                *m == req.merchant.mch_id
                    && by_id.is_none_or(|id| id == sub)
                    && by_name.is_none_or(|n| {
                        b.fields.iter().any(|(k, v)| k == "merchant_name" && v == n)
                    })
            })
            .map(|((_, sub), b)| (sub, b))
            .collect();
        let total = found.len();
        let mut records = String::new();
        for (sub, b) in found
            .into_iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
        {
            let mut m = tenpay_xml::XmlMap::new();
            let _ = m.insert("mch_id", sub);
            for (k, v) in &b.fields {
                let _ = m.insert(k, v);
            }
            let _ = m.insert("channel_name", "tenpay-sim");
            records.push_str(&under_root(&m.to_xml(), "mchinfo"));
        }
        drop(state);
        // The answer as written (under `root`), with the records before its end.
        match self.write(req, ok([("total", total.to_string())])) {
            Reply::Xml(x) => match x.strip_suffix("</root>") {
                Some(head) => Verdict::Reply(Reply::Xml(format!("{head}{records}</root>"))),
                None => Verdict::Reply(Reply::Xml(x)),
            },
            other => Verdict::Reply(other),
        }
    }

    /// `modifymchinfo`: a new short name or service phone for a sub-merchant added here.
    pub(super) fn modify_sub_merchant(&self, req: &Req<'_>) -> Verdict {
        let changes: Vec<(&str, &str)> = ["merchant_shortname", "service_phone"]
            .into_iter()
            .filter_map(|k| req.get(k).map(|v| (k, v)))
            .collect();
        if changes.is_empty() {
            return biz("PARAM_ERROR", "merchant_shortname和service_phone至少填一个");
        }
        let key = (
            req.merchant.mch_id.clone(),
            req.get("sub_mch_id").unwrap_or_default().to_owned(),
        );
        let mut state = self.lock();
        let Some(sub) = state.bank_subs.get_mut(&key) else {
            return biz("INVALID_REQUEST", "子商户号信息有误，请检查修改后重试");
        };
        for (k, v) in changes {
            match sub.fields.iter_mut().find(|(name, _)| name == k) {
                Some(field) => field.1 = v.to_owned(),
                None => sub.fields.push((k.to_owned(), v.to_owned())),
            }
        }
        drop(state);
        ok(Vec::<(String, String)>::new())
    }
}
