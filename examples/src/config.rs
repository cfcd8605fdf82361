//! Configuration from the environment (or a file of the same `NAME=value` lines).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `LISTEN` | address to serve on | `127.0.0.1:8080` |
//! | `TENPAY_APPID`, `TENPAY_MCH_ID` | the merchant | — (simulator mode when the key is absent) |
//! | `TENPAY_API_KEY` or `TENPAY_API_KEY_FILE` | the API key | — |
//! | `TENPAY_SIGN_TYPE` | `MD5` or `HMAC-SHA256` | `HMAC-SHA256` |
//! | `PUBLIC_BASE_URL` | how WeChat Pay reaches this server (notify URLs hang off it) | `http://LISTEN` |
//! | `WECHAT_BASE_URL` | WeChat Pay's API | production |
//! | `TENPAY_CERT_P12` (password `TENPAY_CERT_P12_PASSWORD`, default mch_id) or `TENPAY_CERT_PEM` + `TENPAY_KEY_PEM` | the client certificate, for refunds | — |
//! | `WECHAT_CA_PEM` | an extra CA to trust (a simulator's) | — |
//! | `DATABASE_URL` | `sqlite://FILE` or `postgres://…` | `sqlite://merchant.db` |
//! | `SPBILL_CREATE_IP` | the server's IP sent as `spbill_create_ip` | `127.0.0.1` |

use std::collections::HashMap;
use std::net::SocketAddr;

use tenpay_client::Identity;
use tenpay_sign::{ApiKey, SignType};

/// The merchant server's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// The appid.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// The API key.
    pub api_key: ApiKey,
    /// The sign type.
    pub sign_type: SignType,
    /// Public base URL (notify URLs are built from it); `None`: `http://` + the bound address.
    pub public_base_url: Option<String>,
    /// WeChat Pay's API base URL.
    pub wechat_base_url: String,
    /// The client certificate, for refunds.
    pub identity: Option<Identity>,
    /// An extra CA to trust.
    pub extra_ca_pem: Option<String>,
    /// The database.
    pub database_url: String,
    /// The IP sent as `spbill_create_ip`.
    pub spbill_create_ip: String,
}

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// A configuration for a merchant; everything else takes its default.
    #[must_use]
    pub fn new(appid: &str, mch_id: &str, api_key: ApiKey, listen: SocketAddr) -> Self {
        Self {
            listen,
            appid: appid.to_owned(),
            mch_id: mch_id.to_owned(),
            api_key,
            sign_type: SignType::HmacSha256,
            public_base_url: None,
            wechat_base_url: tenpay_client::PRODUCTION_URL.to_owned(),
            identity: None,
            extra_ca_pem: None,
            database_url: "sqlite://merchant.db".to_owned(),
            spbill_create_ip: "127.0.0.1".to_owned(),
        }
    }

    /// Reads the environment. `Ok(None)` when no API key is configured (simulator mode).
    ///
    /// # Errors
    /// A variable with an unusable value.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads `NAME=value` lines (`#` comments allowed), then lets the environment override.
    ///
    /// # Errors
    /// An unreadable file or an unusable value.
    pub fn from_file(path: &std::path::Path) -> Result<Option<Self>, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let mut vars: HashMap<String, String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        vars.extend(std::env::vars());
        Self::from_vars(&vars)
    }

    fn from_vars(vars: &HashMap<String, String>) -> Result<Option<Self>, ConfigError> {
        let get = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        let key = match (get("TENPAY_API_KEY"), get("TENPAY_API_KEY_FILE")) {
            (Some(k), _) => k,
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|e| ConfigError(format!("TENPAY_API_KEY_FILE {path}: {e}")))?
                .trim()
                .to_owned(),
            (None, None) => return Ok(None),
        };
        let require = |k: &str| {
            get(k).ok_or_else(|| ConfigError(format!("{k} is required with TENPAY_API_KEY")))
        };
        let listen: SocketAddr = get("LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| ConfigError(format!("LISTEN: {e}")))?;
        let api_key = ApiKey::new(key).map_err(|e| ConfigError(format!("TENPAY_API_KEY: {e}")))?;
        let mut config = Self::new(
            &require("TENPAY_APPID")?,
            &require("TENPAY_MCH_ID")?,
            api_key,
            listen,
        );
        if let Some(st) = get("TENPAY_SIGN_TYPE") {
            config.sign_type = st
                .parse()
                .map_err(|e| ConfigError(format!("TENPAY_SIGN_TYPE: {e}")))?;
        }
        if let Some(v) = get("PUBLIC_BASE_URL") {
            config.public_base_url = Some(v.trim_end_matches('/').to_owned());
        }
        if let Some(v) = get("WECHAT_BASE_URL") {
            config.wechat_base_url = v;
        }
        if let Some(v) = get("DATABASE_URL") {
            config.database_url = v;
        }
        if let Some(v) = get("SPBILL_CREATE_IP") {
            config.spbill_create_ip = v;
        }
        if let Some(v) = get("WECHAT_CA_PEM") {
            config.extra_ca_pem = Some(
                std::fs::read_to_string(&v)
                    .map_err(|e| ConfigError(format!("WECHAT_CA_PEM {v}: {e}")))?,
            );
        }
        config.identity = match (
            get("TENPAY_CERT_P12"),
            get("TENPAY_CERT_PEM"),
            get("TENPAY_KEY_PEM"),
        ) {
            (Some(p12), _, _) => {
                let id = Identity::from_pkcs12_file(&p12)
                    .map_err(|e| ConfigError(format!("TENPAY_CERT_P12: {e}")))?;
                Some(match get("TENPAY_CERT_P12_PASSWORD") {
                    Some(pw) => id.password(pw),
                    None => id,
                })
            }
            (None, Some(cert), Some(key)) => Some(
                Identity::from_pem_files(&cert, &key)
                    .map_err(|e| ConfigError(format!("TENPAY_CERT_PEM/TENPAY_KEY_PEM: {e}")))?,
            ),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(ConfigError(
                    "TENPAY_CERT_PEM and TENPAY_KEY_PEM go together".into(),
                ));
            }
            (None, None, None) => None,
        };
        Ok(Some(config))
    }
}
