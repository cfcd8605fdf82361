//! `tenpay doctor`: checks a profile and says in plain words what is wrong. The most common
//! production problem, SIGNERROR from configuration (the AppSecret used as the API key, another
//! merchant's key, the sandbox key), is named as such.

use std::time::Duration;

use tenpay_client::{ErrCode, Error, OrderQuery, OutTradeNo};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::input::{Failure, report};
use crate::ops::{OutputArgs, runtime};
use crate::profile::{MerchantArgs, Profile};

/// How far the local clock may be from the server's.
const MAX_SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Warn,
    Fail,
}

struct Check {
    name: &'static str,
    verdict: Verdict,
    say: String,
}

fn check(name: &'static str, verdict: Verdict, say: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        say: say.into(),
    }
}

/// 32 lowercase hex digits: the shape of an AppSecret (and of some test keys).
fn appsecret_shaped(key: &str) -> bool {
    key.len() == 32
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Why a key that WeChat Pay refuses is wrong, as far as its shape tells.
fn key_advice(profile: &Profile) -> String {
    let key = profile.key.expose_secret();
    let len = key.chars().count();
    let sandbox = profile
        .base_url
        .as_deref()
        .is_some_and(|u| u.contains("sandbox"));
    if len != 32 {
        return format!(
            "the key is {len} characters; the API key set on the merchant platform (pay.weixin.qq.com → 账户中心 → API安全) is 32"
        );
    }
    let mut why = Vec::new();
    if appsecret_shaped(key) {
        why.push("it looks like an AppSecret (32 lowercase hex digits): the AppSecret belongs to the official account or mini program (mp.weixin.qq.com), not to payments".to_owned());
    }
    why.push(format!(
        "it may be another merchant's key (this is mch_id {})",
        profile.mch_id
    ));
    why.push(if sandbox {
        "against the sandbox, the key is the sandbox key from getsignkey, not the API key"
            .to_owned()
    } else {
        "the sandbox key (from getsignkey) works only under the sandbox paths".to_owned()
    });
    format!(
        "WeChat Pay refuses this key's signature: {}",
        why.join("; ")
    )
}

pub(crate) fn doctor(merchant: &MerchantArgs, out: OutputArgs) -> Result<u8, Failure> {
    let profile = Profile::resolve(merchant)?;
    let mut checks = Vec::new();
    checks.push(check(
        "profile",
        Verdict::Pass,
        format!(
            "appid {} with mch_id {}, {} ({})",
            profile.appid,
            profile.mch_id,
            profile.sign_type,
            profile.name.as_deref().unwrap_or("flags and environment")
        ),
    ));
    let base = profile
        .base_url
        .clone()
        .unwrap_or_else(|| tenpay_client::PRODUCTION_URL.to_owned());
    let env = if base.contains("sandbox") {
        "the sandbox"
    } else if base.starts_with(tenpay_client::PRODUCTION_URL)
        || base.starts_with(tenpay_client::BACKUP_URL)
    {
        "production"
    } else {
        "a server that is not WeChat Pay's (a simulator?)"
    };
    checks.push(check(
        "environment",
        Verdict::Pass,
        format!("{base}: {env}"),
    ));
    checks.push(certificate(&profile));
    let client = profile.client();
    let rt = runtime()?;
    match client {
        Err(f) => checks.push(check("client", Verdict::Fail, f.message)),
        Ok(client) => {
            checks.push(rt.block_on(key(&profile, &client)));
            checks.push(rt.block_on(clock(&profile, &base)));
        }
    }
    let failed = checks.iter().any(|c| c.verdict == Verdict::Fail);
    if out.json {
        let list: Vec<serde_json::Value> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.name,
                    "verdict": match c.verdict { Verdict::Pass => "pass", Verdict::Warn => "warn", Verdict::Fail => "fail" },
                    "detail": c.say,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "ok": !failed, "checks": list }));
    } else {
        for c in &checks {
            let mark = match c.verdict {
                Verdict::Pass => "ok  ",
                Verdict::Warn => "warn",
                Verdict::Fail => "FAIL",
            };
            println!("{mark}  {:<12} {}", c.name, c.say);
        }
        println!(
            "{}",
            if failed {
                "something is wrong: see FAIL above"
            } else {
                "everything checked passes"
            }
        );
    }
    Ok(u8::from(failed))
}

/// The key and the ids: an orderquery for an order that cannot exist answers ORDERNOTEXIST
/// when both are right.
async fn key(profile: &Profile, client: &tenpay_client::Client) -> Check {
    let probe = format!("DOCTOR{:016x}", nanos());
    let Ok(no) = OutTradeNo::new(probe) else {
        return check(
            "key",
            Verdict::Fail,
            "internal: the probe order number is invalid",
        );
    };
    match client.order_query(&OrderQuery::by_out_trade_no(no)).await {
        Err(Error::Business {
            err_code: ErrCode::OrderNotExist,
            ..
        })
        | Ok(_) => check(
            "key",
            Verdict::Pass,
            "a test orderquery answered ORDERNOTEXIST, signed: the API key, the sign type and the appid/mch_id pair are right",
        ),
        Err(Error::Business {
            err_code: ErrCode::SignError,
            ..
        }) => check("key", Verdict::Fail, key_advice(profile)),
        Err(Error::Protocol { return_msg }) if return_msg.contains("签名") => {
            check("key", Verdict::Fail, key_advice(profile))
        }
        Err(Error::Business {
            err_code: ErrCode::AppidMchidNotMatch,
            ..
        }) => check(
            "ids",
            Verdict::Fail,
            format!(
                "appid {} does not belong to mch_id {}: bind it on the merchant platform, or fix the profile",
                profile.appid, profile.mch_id
            ),
        ),
        Err(Error::Protocol { return_msg }) if return_msg.contains("appid") => check(
            "ids",
            Verdict::Fail,
            format!(
                "appid {} and mch_id {} do not belong together (WeChat Pay says: {return_msg})",
                profile.appid, profile.mch_id
            ),
        ),
        Err(Error::Protocol { return_msg }) if return_msg.contains("mch_id") => check(
            "ids",
            Verdict::Fail,
            format!(
                "mch_id {} is unknown (WeChat Pay says: {return_msg})",
                profile.mch_id
            ),
        ),
        Err(e @ Error::BadSignature(_)) => check(
            "key",
            Verdict::Fail,
            format!(
                "the answer's signature does not verify with this key and {}: {}",
                profile.sign_type,
                report(&e)
            ),
        ),
        Err(e) if e.is_connect() || e.is_timeout() => check(
            "network",
            Verdict::Fail,
            format!("cannot reach the API: {}", report(&e)),
        ),
        Err(e) => check(
            "key",
            Verdict::Fail,
            format!("the test orderquery failed: {}", report(&e)),
        ),
    }
}

/// The client certificate: it opens, names this mch_id, and is valid now.
fn certificate(profile: &Profile) -> Check {
    let identity = match profile.identity() {
        Ok(Some(id)) => id,
        Ok(None) => {
            return check(
                "certificate",
                Verdict::Warn,
                "none configured: refunds, reversals and fund flows need the client certificate (apiclient_cert.p12)",
            );
        }
        Err(f) => return check("certificate", Verdict::Fail, f.message),
    };
    let der = match identity.certificate_der(&profile.mch_id) {
        Ok(d) => d,
        Err(e) => {
            return check(
                "certificate",
                Verdict::Fail,
                format!("it does not open: {}", report(&e)),
            );
        }
    };
    let cert = match X509Certificate::from_der(&der) {
        Ok((_, c)) => c,
        Err(e) => {
            return check(
                "certificate",
                Verdict::Fail,
                format!("it is not an X.509 certificate: {e}"),
            );
        }
    };
    let subject = cert.subject().to_string();
    let names_mch = cert
        .subject()
        .iter_attributes()
        .any(|a| a.as_str().is_ok_and(|v| v == profile.mch_id));
    let now = unix_now();
    let validity = cert.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if !names_mch {
        return check(
            "certificate",
            Verdict::Fail,
            format!(
                "its subject ({subject}) does not name mch_id {}: it is another merchant's certificate",
                profile.mch_id
            ),
        );
    }
    if now > until {
        return check(
            "certificate",
            Verdict::Fail,
            format!(
                "it expired on {} (download a new one on the merchant platform)",
                validity.not_after
            ),
        );
    }
    if now < from {
        return check(
            "certificate",
            Verdict::Fail,
            format!("it is not valid before {}", validity.not_before),
        );
    }
    let days = (until - now) / 86_400;
    check(
        "certificate",
        if days < 30 {
            Verdict::Warn
        } else {
            Verdict::Pass
        },
        format!(
            "{subject}, valid until {} ({days} days)",
            validity.not_after
        ),
    )
}

/// The local clock against the server's `Date` header (time_start, time_expire and the
/// client's timestamps come from it).
async fn clock(profile: &Profile, base: &str) -> Check {
    let client = match date_client(profile) {
        Ok(c) => c,
        Err(e) => {
            return check(
                "clock",
                Verdict::Warn,
                format!("not checked: {}", report(&e)),
            );
        }
    };
    let response =
        match tokio::time::timeout(Duration::from_secs(10), client.head(base).send()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                return check(
                    "clock",
                    Verdict::Warn,
                    format!("not checked: {}", report(&e)),
                );
            }
            Err(_) => return check("clock", Verdict::Warn, "not checked: no answer within 10 s"),
        };
    let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
    else {
        return check(
            "clock",
            Verdict::Warn,
            "not checked: the server sent no Date header",
        );
    };
    let server = date
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let skew = unix_now() - server;
    if skew.abs() > MAX_SKEW_SECS {
        check(
            "clock",
            Verdict::Fail,
            format!(
                "the local clock is {skew} s off the server's: fix NTP (time_expire and time_start are computed from it)"
            ),
        )
    } else {
        check(
            "clock",
            Verdict::Pass,
            format!("within {} s of the server's", skew.abs().max(1)),
        )
    }
}

/// Why the clock check's HTTP client could not be made.
#[derive(Debug, thiserror::Error)]
enum DateClientError {
    #[error("cannot read {}", path.display())]
    Ca {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS configuration")]
    Tls(#[source] rustls::Error),
    #[error("HTTP client")]
    Http(#[source] reqwest::Error),
}

fn date_client(profile: &Profile) -> Result<reqwest::Client, DateClientError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &profile.ca_pem {
        let pem = std::fs::read(ca).map_err(|source| DateClientError::Ca {
            path: ca.clone(),
            source,
        })?;
        for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
            let _ = roots.add(cert);
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(DateClientError::Tls)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(DateClientError::Http)
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn unix_now() -> i64 {
    i64::try_from(nanos() / 1_000_000_000).unwrap_or(0)
}
