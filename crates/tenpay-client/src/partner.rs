//! Service-provider administration still on V2: a sub-merchant's development configuration
//! (its JSAPI payment directories and bound appids). Certificate, MD5, no `nonce_str`.

use serde::{Deserialize, Serialize};
use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use crate::endpoint::{Finish, MerchantFields, endpoint, keep_raw};
use crate::{Error, Route};

const DEV_CONFIG: Route<'static> = Route::new("/secapi/mch/addsubdevconfig")
    .certificate()
    .signed_with(SignType::Md5)
    .without_nonce()
    .named(MerchantFields::named(Some("appid"), "mch_id"));

/// `/secapi/mch/addsubdevconfig`: one setting of a sub-merchant per call, a JSAPI payment
/// directory (at most 5) or a bound appid. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubDevConfig {
    sub_mch_id: String,
    jsapi_path: Option<String>,
    sub_appid: Option<String>,
}

impl SubDevConfig {
    /// Adds the JSAPI payment directory `path` (`https://…/`) of `sub_mch_id`.
    pub fn jsapi_path(sub_mch_id: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
            jsapi_path: Some(path.into()),
            sub_appid: None,
        }
    }

    /// Binds `sub_appid` to `sub_mch_id` (WeChat Pay checks they have the same owner).
    pub fn sub_appid(sub_mch_id: impl Into<String>, sub_appid: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
            jsapi_path: None,
            sub_appid: Some(sub_appid.into()),
        }
    }
}

/// The answer to [`SubDevConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubDevConfigured {
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(SubDevConfigured);

endpoint!(SubDevConfig => SubDevConfigured, DEV_CONFIG.retry_safe());

/// `/secapi/mch/querysubdevconfig`: a sub-merchant's configuration. Safe to repeat.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubDevConfigQuery {
    sub_mch_id: String,
}

impl SubDevConfigQuery {
    /// The configuration of `sub_mch_id`.
    pub fn new(sub_mch_id: impl Into<String>) -> Self {
        Self {
            sub_mch_id: sub_mch_id.into(),
        }
    }
}

/// An appid bound to a sub-merchant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AppidConfig {
    /// The appid users follow after paying.
    pub subscribe_appid: Option<String>,
    /// The bound appid.
    pub sub_appid: Option<String>,
}

/// The answer to [`SubDevConfigQuery`]: the lists WeChat Pay sends as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SubDevConfiguration {
    /// The JSAPI payment directories.
    #[serde(skip)]
    pub jsapi_paths: Vec<String>,
    /// The bound appids.
    #[serde(skip)]
    pub appids: Vec<AppidConfig>,
    /// Every field of the verified answer.
    #[serde(skip)]
    pub raw: XmlMap,
}

impl Finish for SubDevConfiguration {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Paths {
            #[serde(default)]
            jsapi_path_list: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Appids {
            #[serde(default)]
            appid_config_list: Vec<AppidConfig>,
        }
        fn json<T: serde::de::DeserializeOwned>(
            raw: &XmlMap,
            field: &str,
        ) -> Result<Option<T>, Error> {
            raw.get(field)
                .filter(|t| !t.is_empty())
                .map(|t| {
                    serde_json::from_str(t).map_err(|e| {
                        Error::Decode(tenpay_xml::Error::InvalidValue {
                            field: field.to_owned(),
                            reason: e.to_string(),
                        })
                    })
                })
                .transpose()
        }
        self.jsapi_paths = json::<Paths>(&raw, "jsapi_path_list")?
            .map(|p| p.jsapi_path_list)
            .unwrap_or_default();
        self.appids = json::<Appids>(&raw, "appid_config_list")?
            .map(|a| a.appid_config_list)
            .unwrap_or_default();
        self.raw = raw;
        Ok(())
    }
}

endpoint!(SubDevConfigQuery => SubDevConfiguration,
    Route::new("/secapi/mch/querysubdevconfig")
        .certificate()
        .signed_with(SignType::Md5)
        .without_nonce()
        .named(MerchantFields::named(Some("appid"), "mch_id"))
        .retry_safe());
