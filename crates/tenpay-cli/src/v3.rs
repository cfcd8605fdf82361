//! `tenpay v3 …`: API v3 messages offline: sign a request, verify an answer or a
//! notification (`--explain` says what was checked and the usual causes), decrypt a
//! notification's resource, and check a merchant's v3 keys (`doctor`).

use clap::Subcommand;
use tenpay_sign_v3::{
    ApiV3Key, PlatformCertificate, PrivateKey, PublicKey, Resource, SignedHeaders, Signer,
    Verifier, VerifyError, answer_message, request_message,
};

use crate::input::{Failure, bad_input, key_problem, read_input};

#[derive(Debug, Subcommand)]
pub(crate) enum V3Command {
    /// Sign a request: print its Authorization header.
    #[command(
        after_help = "Example:\n  tenpay v3 sign --key-file apiclient_key.pem --mchid 1230000109 --serial 5F1C72E2A8931B72A2E13AF8DEE92471EB397115 \\\n    --method POST --url /v3/pay/transactions/native body.json"
    )]
    Sign {
        /// The body file (empty for GET), or - for standard input.
        #[arg(default_value = "")]
        file: String,
        /// The merchant's API private key (PEM).
        #[arg(long)]
        key_file: String,
        /// The merchant id.
        #[arg(long)]
        mchid: String,
        /// The merchant API certificate's serial.
        #[arg(long)]
        serial: String,
        /// The HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// The path and query as sent.
        #[arg(long)]
        url: String,
        /// Unix seconds (default: now).
        #[arg(long)]
        timestamp: Option<u64>,
        /// The nonce (default: random).
        #[arg(long)]
        nonce: Option<String>,
        /// Also print the signed message.
        #[arg(long)]
        explain: bool,
    },
    /// Verify an answer or a notification: exit 0 `valid`, exit 1 `invalid: <reason>`.
    #[command(
        after_help = "Example:\n  tenpay v3 verify --public-key pub_key.pem --id PUB_KEY_ID_01… --timestamp 1722850421 \\\n    --nonce d824f2e0… --signature Bde9… --serial PUB_KEY_ID_01… body.json"
    )]
    Verify {
        /// The raw body file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// WeChat Pay's public key (PEM), with --id.
        #[arg(long)]
        public_key: Option<String>,
        /// The public key's id (PUB_KEY_ID_…).
        #[arg(long)]
        id: Option<String>,
        /// A platform certificate (PEM); repeatable.
        #[arg(long)]
        certificate: Vec<String>,
        /// Wechatpay-Timestamp.
        #[arg(long)]
        timestamp: String,
        /// Wechatpay-Nonce.
        #[arg(long)]
        nonce: String,
        /// Wechatpay-Signature.
        #[arg(long)]
        signature: String,
        /// Wechatpay-Serial.
        #[arg(long)]
        serial: String,
        /// Check the clock against this time (Unix seconds; default: now).
        #[arg(long)]
        now: Option<u64>,
        /// On failure, print the message checked and the likely causes.
        #[arg(long)]
        explain: bool,
    },
    /// Decrypt a notification's resource (or a bare resource object) with the APIv3 key.
    #[command(
        after_help = "Example:\n  tenpay v3 decrypt --apiv3-key-file apiv3.txt notification.json"
    )]
    Decrypt {
        /// The notification or resource JSON, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// A file holding the APIv3 key (32 characters).
        #[arg(long)]
        apiv3_key_file: String,
    },
    /// Check a merchant's v3 keys: the private key, that the certificate is its pair and its
    /// serial, the certificate's validity, the APIv3 key's length. Exit 0 only when all pass.
    #[command(
        after_help = "Example:\n  tenpay v3 doctor --key-file apiclient_key.pem --certificate apiclient_cert.pem --serial 5F1C… --apiv3-key-file apiv3.txt"
    )]
    Doctor {
        /// The merchant's API private key (PEM).
        #[arg(long)]
        key_file: String,
        /// The merchant's API certificate (PEM).
        #[arg(long)]
        certificate: String,
        /// The serial the merchant sends (to compare with the certificate's).
        #[arg(long)]
        serial: Option<String>,
        /// A file holding the APIv3 key.
        #[arg(long)]
        apiv3_key_file: Option<String>,
    },
}

fn read_text(path: &str) -> Result<String, Failure> {
    let bytes = read_input(path)?;
    String::from_utf8(bytes).map_err(|_| bad_input(format!("{path} is not UTF-8")))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A message with its line ends shown.
fn shown(message: &[u8]) -> String {
    String::from_utf8_lossy(message).replace('\n', "\\n\n")
}

pub(crate) fn run(command: V3Command) -> Result<u8, Failure> {
    match command {
        V3Command::Sign {
            file,
            key_file,
            mchid,
            serial,
            method,
            url,
            timestamp,
            nonce,
            explain,
        } => {
            let key = PrivateKey::from_pem(&read_text(&key_file)?)
                .map_err(|e| key_problem(format!("{key_file}: {e}")))?;
            let signer = Signer::new(&mchid, &serial, key).map_err(|e| bad_input(e.to_string()))?;
            let body = if file.is_empty() {
                Vec::new()
            } else {
                read_input(&file)?
            };
            let ts = timestamp.unwrap_or_else(now);
            let nonce = nonce.unwrap_or_else(uuid_nonce);
            let auth = signer
                .authorization(&method, &url, ts, &nonce, &body)
                .map_err(|e| bad_input(e.to_string()))?;
            println!("Authorization: {auth}");
            if explain {
                println!(
                    "signed message:\n{}",
                    shown(&request_message(&method, &url, ts, &nonce, &body))
                );
            }
            Ok(0)
        }
        V3Command::Verify {
            file,
            public_key,
            id,
            certificate,
            timestamp,
            nonce,
            signature,
            serial,
            now: at,
            explain,
        } => {
            let body = read_input(&file)?;
            let mut keys = Verifier::new();
            if let Some(path) = &public_key {
                let key = PublicKey::from_pem(&read_text(path)?)
                    .map_err(|e| key_problem(format!("{path}: {e}")))?;
                let id = id.as_deref().unwrap_or(&serial);
                keys.add_public_key(id, key)
                    .map_err(|e| bad_input(e.to_string()))?;
            }
            for path in &certificate {
                let cert = PlatformCertificate::from_pem(&read_text(path)?)
                    .map_err(|e| key_problem(format!("{path}: {e}")))?;
                keys.add_certificate(cert);
            }
            if keys.is_empty() {
                return Err(bad_input("give --public-key (with --id) or --certificate"));
            }
            let headers = SignedHeaders::new(&timestamp, &nonce, &signature, &serial);
            match keys.verify(&headers, &body, at.unwrap_or_else(now)) {
                Ok(()) => {
                    println!("valid");
                    Ok(0)
                }
                Err(e) => {
                    println!("invalid: {e}");
                    if explain {
                        explain_failure(&e, &keys, &timestamp, &nonce, &body);
                    }
                    Ok(1)
                }
            }
        }
        V3Command::Decrypt {
            file,
            apiv3_key_file,
        } => {
            let text = read_text(&apiv3_key_file)?;
            let key = ApiV3Key::new(text.trim()).map_err(|e| key_problem(e.to_string()))?;
            let json: serde_json::Value = serde_json::from_slice(&read_input(&file)?)
                .map_err(|e| bad_input(format!("not JSON: {e}")))?;
            let resource = json.get("resource").unwrap_or(&json).clone();
            let resource: Resource = serde_json::from_value(resource)
                .map_err(|e| bad_input(format!("no resource: {e}")))?;
            let plain = key
                .open(&resource)
                .map_err(|e| key_problem(e.to_string()))?;
            println!("{plain}");
            Ok(0)
        }
        V3Command::Doctor {
            key_file,
            certificate,
            serial,
            apiv3_key_file,
        } => doctor(
            &key_file,
            &certificate,
            serial.as_deref(),
            apiv3_key_file.as_deref(),
        ),
    }
}

fn uuid_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn explain_failure(e: &VerifyError, keys: &Verifier, timestamp: &str, nonce: &str, body: &[u8]) {
    println!(
        "checked message:\n{}",
        shown(&answer_message(timestamp, nonce, body))
    );
    let held: Vec<String> = keys.ids().map(ToString::to_string).collect();
    println!("keys held: {}", held.join(", "));
    let causes: &[&str] = match e {
        VerifyError::Mismatch => &[
            "the body is not the raw bytes received (parsed and re-serialised JSON, a trailing newline added or removed)",
            "the key is the merchant's own certificate, not WeChat Pay's platform certificate or public key",
            "the headers belong to another message (a retry carries its own timestamp, nonce and signature)",
        ],
        VerifyError::UnknownKey(_) => &[
            "a platform certificate not downloaded yet (rotation): download /v3/certificates again",
            "a public-key-signed message while only certificates are configured (the migration's ramp), or the reverse",
        ],
        VerifyError::ClockSkew { .. } => &[
            "this machine's clock, or the message is older than five minutes (replayed, or verified late)",
        ],
        VerifyError::Probe => &["a WeChat Pay signature probe: refusing it is the right answer"],
        _ => &[],
    };
    for c in causes {
        println!("likely: {c}");
    }
}

fn doctor(
    key_file: &str,
    certificate: &str,
    serial: Option<&str>,
    apiv3_key_file: Option<&str>,
) -> Result<u8, Failure> {
    let mut failed = false;
    let mut report = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        failed |= !ok;
    };
    let key = match PrivateKey::from_pem(&read_text(key_file)?) {
        Ok(k) => {
            report(true, format!("private key {key_file}: {k:?}"));
            Some(k)
        }
        Err(e) => {
            report(false, format!("private key {key_file}: {e}"));
            None
        }
    };
    match PlatformCertificate::from_pem(&read_text(certificate)?) {
        Ok(cert) => {
            report(
                true,
                format!("certificate {certificate}: serial {}", cert.serial()),
            );
            if let Some(key) = &key {
                let pair = key.public_key() == *cert.public_key();
                report(
                    pair,
                    if pair {
                        "the certificate is the private key's pair".into()
                    } else {
                        "the certificate is NOT the private key's pair (another merchant's, or an old one)".into()
                    },
                );
            }
            if let Some(s) = serial {
                let same = s.eq_ignore_ascii_case(cert.serial().as_str());
                report(
                    same,
                    if same {
                        "the serial sent is the certificate's".into()
                    } else {
                        format!(
                            "the serial sent ({s}) is not the certificate's ({}): WeChat Pay answers SIGN_ERROR",
                            cert.serial()
                        )
                    },
                );
            }
            let valid = cert.is_valid_at(now());
            report(
                valid,
                if valid {
                    "the certificate is valid now".into()
                } else {
                    "the certificate is not valid now (expired: replace it on the merchant platform)".into()
                },
            );
        }
        Err(e) => report(false, format!("certificate {certificate}: {e}")),
    }
    if let Some(path) = apiv3_key_file {
        let text = read_text(path)?;
        match ApiV3Key::new(text.trim()) {
            Ok(_) => report(true, "the APIv3 key is 32 bytes".into()),
            Err(e) => report(
                false,
                format!("APIv3 key: {e} (not the API v2 key, which may differ)"),
            ),
        }
    }
    Ok(u8::from(failed))
}
