//! Service-provider administration: a sub-merchant's development configuration (JSAPI
//! payment directories, at most 5; bound appids). Answers carry no sub-merchant ids, as
//! WeChat Pay's do not (the writer leaves them out).

use super::{Engine, Req, Verdict, biz, ok};

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
