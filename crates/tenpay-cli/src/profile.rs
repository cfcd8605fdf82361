//! Merchant profiles: a config file with named profiles, overridden by environment variables,
//! overridden by flags. The same variables as the reference merchant server.
//!
//! ```toml
//! # ~/.config/tenpay/config.toml (or $TENPAY_CONFIG)
//! default = "shop"
//!
//! [profiles.shop]
//! appid = "wx2421b1c4370ec43b"
//! mch_id = "10000100"
//! key_file = "/etc/tenpay/shop.key"     # the API key: only ever from a file or the environment
//! sign_type = "HMAC-SHA256"
//! cert_p12 = "/etc/tenpay/apiclient_cert.p12"   # or cert_pem + key_pem
//! base_url = "https://api.mch.weixin.qq.com"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;
use tenpay_client::{Client, Identity};
use tenpay_sign::{ApiKey, SignType};

use crate::input::{Failure, bad_input, key_problem, report};
use crate::{KeyArgs, SignTypeArg};

/// Which merchant: a profile, and flags over it.
#[derive(Debug, Args, Clone)]
pub(crate) struct MerchantArgs {
    /// The profile to use (default: the config file's `default`, or the only profile).
    #[arg(long, env = "TENPAY_PROFILE", global = true)]
    pub(crate) profile: Option<String>,
    /// The config file (default: $XDG_CONFIG_HOME/tenpay/config.toml or ~/.config/tenpay/config.toml).
    #[arg(long, env = "TENPAY_CONFIG", value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The appid (TENPAY_APPID).
    #[arg(long, global = true)]
    appid: Option<String>,
    /// The merchant id (TENPAY_MCH_ID).
    #[arg(long, global = true)]
    mch_id: Option<String>,
    /// The algorithm the merchant signs with (TENPAY_SIGN_TYPE; default MD5).
    #[arg(long, value_enum, global = true)]
    sign_type: Option<SignTypeArg>,
    /// The API's base URL (TENPAY_BASE_URL; default production).
    #[arg(long, value_name = "URL", global = true)]
    base_url: Option<String>,
    /// The client certificate as PKCS#12 (TENPAY_CERT_P12; password TENPAY_CERT_P12_PASSWORD,
    /// default the mch_id).
    #[arg(long, value_name = "PATH", global = true)]
    cert_p12: Option<PathBuf>,
    /// The client certificate as PEM (TENPAY_CERT_PEM), with --key-pem.
    #[arg(long, value_name = "PATH", global = true)]
    cert_pem: Option<PathBuf>,
    /// The client certificate's private key as PEM (TENPAY_KEY_PEM).
    #[arg(long, value_name = "PATH", global = true)]
    key_pem: Option<PathBuf>,
    /// Extra root certificates, PEM (TENPAY_CA_PEM): a simulator's CA.
    #[arg(long, value_name = "PATH", global = true)]
    ca_pem: Option<PathBuf>,
    /// Service-provider mode: the sub-merchant (TENPAY_SUB_MCH_ID).
    #[arg(long, global = true)]
    sub_mch_id: Option<String>,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
}

/// One profile as written in the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileProfile {
    appid: Option<String>,
    mch_id: Option<String>,
    key_file: Option<PathBuf>,
    sign_type: Option<String>,
    base_url: Option<String>,
    cert_p12: Option<PathBuf>,
    cert_p12_password_file: Option<PathBuf>,
    cert_pem: Option<PathBuf>,
    key_pem: Option<PathBuf>,
    ca_pem: Option<PathBuf>,
    sub_mch_id: Option<String>,
    sub_appid: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, FileProfile>,
}

/// The client certificate, where it comes from.
#[derive(Debug, Clone)]
pub(crate) enum CertSource {
    Pkcs12 {
        path: PathBuf,
        password: Option<String>,
    },
    Pem {
        cert: PathBuf,
        key: PathBuf,
    },
}

/// A merchant, resolved: what the client needs.
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) name: Option<String>,
    pub(crate) appid: String,
    pub(crate) mch_id: String,
    pub(crate) key: ApiKey,
    /// Where the key came from, for people (never the key).
    pub(crate) key_source: String,
    pub(crate) sign_type: SignType,
    pub(crate) base_url: Option<String>,
    pub(crate) cert: Option<CertSource>,
    pub(crate) ca_pem: Option<PathBuf>,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_path(name: &str) -> Option<PathBuf> {
    env(name).map(PathBuf::from)
}

/// The config file's path: the flag (or TENPAY_CONFIG), else the user's config folder.
pub(crate) fn config_path(args: &MerchantArgs) -> Option<PathBuf> {
    if let Some(p) = &args.config {
        return Some(p.clone());
    }
    let base =
        env_path("XDG_CONFIG_HOME").or_else(|| env_path("HOME").map(|h| h.join(".config")))?;
    Some(base.join("tenpay").join("config.toml"))
}

fn read_config(args: &MerchantArgs) -> Result<(Option<PathBuf>, ConfigFile), Failure> {
    let Some(path) = config_path(args) else {
        return Ok((None, ConfigFile::default()));
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: ConfigFile =
                toml::from_str(&text).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
            Ok((Some(path), file))
        }
        // No file at the default place: no profiles. A file named on purpose must exist.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.config.is_none() => {
            Ok((None, ConfigFile::default()))
        }
        Err(e) => Err(bad_input(format!("cannot read {}: {e}", path.display()))),
    }
}

/// The config file read (if any) and its profiles' names, each with whether it is the default.
pub(crate) type Listing = (Option<PathBuf>, Vec<(String, bool)>);

/// Every profile in the config file, by name.
pub(crate) fn list(args: &MerchantArgs) -> Result<Listing, Failure> {
    let (path, file) = read_config(args)?;
    let default = default_name(&file);
    Ok((
        path,
        file.profiles
            .keys()
            .map(|n| (n.clone(), Some(n) == default.as_ref()))
            .collect(),
    ))
}

fn default_name(file: &ConfigFile) -> Option<String> {
    file.default.clone().or_else(|| {
        (file.profiles.len() == 1)
            .then(|| file.profiles.keys().next().cloned())
            .flatten()
    })
}

/// Warns when a file that holds a secret is readable by its group or others.
pub(crate) fn warn_if_shared(path: &Path, what: &str) {
    if let Some(w) = tenpay_client::secret_file::warning(path, what) {
        eprintln!("tenpay: warning: {w}");
    }
}

fn read_key_file(path: &Path) -> Result<ApiKey, Failure> {
    warn_if_shared(path, "the key file");
    let text = std::fs::read_to_string(path)
        .map_err(|e| key_problem(format!("cannot read the key file {}: {e}", path.display())))?;
    ApiKey::new(text.trim())
        .map_err(|_| key_problem(format!("the key file {} is empty", path.display())))
}

impl Profile {
    /// Flags over environment variables over the profile.
    pub(crate) fn resolve(args: &MerchantArgs) -> Result<Self, Failure> {
        let (path, file) = read_config(args)?;
        let name = args.profile.clone().or_else(|| default_name(&file));
        let p = match &name {
            Some(n) => file.profiles.get(n).cloned().ok_or_else(|| {
                bad_input(match &path {
                    Some(path) => format!("no profile {n:?} in {}", path.display()),
                    None => format!("no profile {n:?}: there is no config file"),
                })
            })?,
            None => FileProfile::default(),
        };
        let need = |what: &str, flag: &str, var: &str| {
            bad_input(format!(
                "no {what}: give --{flag}, set {var}, or add it to a profile"
            ))
        };
        let appid = args
            .appid
            .clone()
            .or_else(|| env("TENPAY_APPID"))
            .or(p.appid)
            .ok_or_else(|| need("appid", "appid", "TENPAY_APPID"))?;
        let mch_id = args
            .mch_id
            .clone()
            .or_else(|| env("TENPAY_MCH_ID"))
            .or(p.mch_id)
            .ok_or_else(|| need("mch_id", "mch-id", "TENPAY_MCH_ID"))?;
        let sign_type = match args.sign_type {
            Some(s) => s.into(),
            None => match env("TENPAY_SIGN_TYPE").or(p.sign_type) {
                Some(s) => s
                    .parse()
                    .map_err(|_| bad_input(format!("sign_type {s:?} is not MD5 or HMAC-SHA256")))?,
                None => SignType::Md5,
            },
        };
        let (key, key_source) = api_key(&args.key, p.key_file.as_deref())?;
        let cert = match (
            args.cert_p12
                .clone()
                .or_else(|| env_path("TENPAY_CERT_P12"))
                .or(p.cert_p12),
            args.cert_pem
                .clone()
                .or_else(|| env_path("TENPAY_CERT_PEM"))
                .or(p.cert_pem),
            args.key_pem
                .clone()
                .or_else(|| env_path("TENPAY_KEY_PEM"))
                .or(p.key_pem),
        ) {
            (Some(path), _, _) => {
                warn_if_shared(&path, "the certificate file");
                let password = match env("TENPAY_CERT_P12_PASSWORD") {
                    Some(p) => Some(p),
                    None => match &p.cert_p12_password_file {
                        Some(f) => Some(
                            std::fs::read_to_string(f)
                                .map_err(|e| {
                                    bad_input(format!("cannot read {}: {e}", f.display()))
                                })?
                                .trim()
                                .to_owned(),
                        ),
                        None => None,
                    },
                };
                Some(CertSource::Pkcs12 { path, password })
            }
            (None, Some(cert), Some(key)) => {
                warn_if_shared(&key, "the private key file");
                Some(CertSource::Pem { cert, key })
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(bad_input(
                    "a PEM client certificate needs both --cert-pem and --key-pem",
                ));
            }
            (None, None, None) => None,
        };
        Ok(Self {
            name,
            appid,
            mch_id,
            key,
            key_source,
            sign_type,
            base_url: args
                .base_url
                .clone()
                .or_else(|| env("TENPAY_BASE_URL"))
                .or(p.base_url),
            cert,
            ca_pem: args
                .ca_pem
                .clone()
                .or_else(|| env_path("TENPAY_CA_PEM"))
                .or(p.ca_pem),
            sub_mch_id: args
                .sub_mch_id
                .clone()
                .or_else(|| env("TENPAY_SUB_MCH_ID"))
                .or(p.sub_mch_id),
            sub_appid: env("TENPAY_SUB_APPID").or(p.sub_appid),
        })
    }
}

/// The API key and where it came from, in the one order every command and the merchant
/// server use: --key-file, --key, TENPAY_API_KEY_FILE, TENPAY_API_KEY
/// (or its alias TENPAY_KEY), then the profile's key_file.
pub(crate) fn api_key(
    args: &KeyArgs,
    profile_file: Option<&Path>,
) -> Result<(ApiKey, String), Failure> {
    if let Some(path) = &args.key_file {
        return Ok((read_key_file(path)?, format!("file {}", path.display())));
    }
    if let Some(key) = &args.key {
        eprintln!(
            "tenpay: warning: --key puts the API key in your shell history; prefer --key-file or TENPAY_API_KEY_FILE"
        );
        let k = ApiKey::new(key.clone()).map_err(|_| key_problem("the API key is empty"))?;
        return Ok((k, "--key".into()));
    }
    if let Some(path) = env_path("TENPAY_API_KEY_FILE") {
        return Ok((
            read_key_file(&path)?,
            format!("file {} (TENPAY_API_KEY_FILE)", path.display()),
        ));
    }
    for var in ["TENPAY_API_KEY", "TENPAY_KEY"] {
        if let Some(v) = env(var) {
            let k = ApiKey::new(v).map_err(|_| key_problem("the API key is empty"))?;
            return Ok((k, format!("the environment ({var})")));
        }
    }
    if let Some(path) = profile_file {
        return Ok((
            read_key_file(path)?,
            format!("file {} (profile)", path.display()),
        ));
    }
    Err(key_problem(
        "no API key: use --key-file PATH, TENPAY_API_KEY_FILE, TENPAY_API_KEY, or key_file in a profile",
    ))
}

impl Profile {
    /// The client certificate, opened.
    pub(crate) fn identity(&self) -> Result<Option<Identity>, Failure> {
        let cert_error = |e: tenpay_client::Error| bad_input(report(&e));
        Ok(match &self.cert {
            None => None,
            Some(CertSource::Pkcs12 { path, password }) => {
                let id = Identity::from_pkcs12_file(path).map_err(cert_error)?;
                Some(match password {
                    Some(p) => id.password(p.clone()),
                    None => id,
                })
            }
            Some(CertSource::Pem { cert, key }) => {
                Some(Identity::from_pem_files(cert, key).map_err(cert_error)?)
            }
        })
    }

    /// A client for this merchant.
    pub(crate) fn client(&self) -> Result<Client, Failure> {
        self.builder()?.build().map_err(|e| bad_input(report(&e)))
    }

    /// A client builder for this merchant, to adjust before building.
    pub(crate) fn builder(&self) -> Result<tenpay_client::ClientBuilder, Failure> {
        let mut b = Client::builder(self.merchant());
        if let Some(url) = &self.base_url {
            b = b.base_url(url);
        }
        if let Some(id) = self.identity()? {
            b = b.identity(id);
        }
        if let Some(ca) = &self.ca_pem {
            let pem = std::fs::read(ca)
                .map_err(|e| bad_input(format!("cannot read {}: {e}", ca.display())))?;
            b = b.add_root_certificate_pem(pem);
        }
        Ok(b)
    }

    /// Who the profile calls as: the merchant, and its sub-merchant when one is set.
    pub(crate) fn merchant(&self) -> tenpay_client::Merchant {
        let m = tenpay_client::Merchant::new(
            &self.appid,
            &self.mch_id,
            self.key.clone(),
            self.sign_type,
        );
        match &self.sub_mch_id {
            Some(sub) => m.with_sub_merchant(sub, self.sub_appid.clone()),
            None => m,
        }
    }

    /// The profile for people: every setting and where the key comes from, never the key.
    pub(crate) fn describe(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (
                "profile",
                self.name
                    .clone()
                    .unwrap_or_else(|| "(none: flags and environment)".into()),
            ),
            ("appid", self.appid.clone()),
            ("mch_id", self.mch_id.clone()),
            ("sign_type", self.sign_type.as_str().to_owned()),
            (
                "key",
                format!("{} characters, from {}", self.key.len(), self.key_source),
            ),
            (
                "base_url",
                self.base_url
                    .clone()
                    .unwrap_or_else(|| tenpay_client::PRODUCTION_URL.to_owned()),
            ),
        ];
        v.push((
            "certificate",
            match &self.cert {
                None => "none (refunds and reversals need one)".into(),
                Some(CertSource::Pkcs12 { path, .. }) => format!("PKCS#12 {}", path.display()),
                Some(CertSource::Pem { cert, key }) => {
                    format!("PEM {} + {}", cert.display(), key.display())
                }
            },
        ));
        if let Some(ca) = &self.ca_pem {
            v.push(("ca_pem", ca.display().to_string()));
        }
        if let Some(s) = &self.sub_mch_id {
            v.push(("sub_mch_id", s.clone()));
        }
        v
    }
}
