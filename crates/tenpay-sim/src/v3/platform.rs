//! WeChat Pay's side of the v3 keys: platform certificates (rotated on request) and the
//! WeChat Pay public key, which sign every v3 answer and notification.

use std::sync::{Mutex, MutexGuard, OnceLock};

use rcgen::{CertificateParams, DnType, KeyPair, PKCS_RSA_SHA256, SerialNumber};
use tenpay_sign_v3::PrivateKey;

use crate::clock::{compact, now_unix};
use crate::ids::{hex_upper, nonce, random_u64};

/// The WeChat Pay public key's id in the simulator.
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0111000100202612030000000001";

const FIRST_CERT_KEY: &str = include_str!("keys/platform_certificate_key.pem");
const PUBLIC_KEY_KEY: &str = include_str!("keys/platform_public_key_key.pem");

/// A platform certificate the simulator signs with.
pub(crate) struct Cert {
    pub(crate) serial: String,
    pub(crate) pem: String,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    key: PrivateKey,
}

/// The platform keys: certificates (newest last; the newest signs) and the public key.
pub(crate) struct Platform {
    certs: OnceLock<Mutex<Vec<Cert>>>,
    public_key: OnceLock<Option<PrivateKey>>,
}

/// Which key signs a merchant's answers and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum V3Signing {
    /// The newest platform certificate (the merchant downloads it from `/v3/certificates`).
    #[default]
    Certificate,
    /// The WeChat Pay public key ([`PUBLIC_KEY_ID`]); `/v3/certificates` answers 404 as for a
    /// merchant who never had a platform certificate.
    PublicKey,
}

fn certificate(key_pem: &str, valid_from_year: i32) -> Option<Cert> {
    let key = PrivateKey::from_pem(key_pem).ok()?;
    let pair = KeyPair::from_pem_and_sign_algo(key_pem, &PKCS_RSA_SHA256).ok()?;
    let mut params = CertificateParams::new(Vec::<String>::new()).ok()?;
    params
        .distinguished_name
        .push(DnType::CommonName, "Tenpay.com sign (tenpay-sim)");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Tenpay.com");
    let mut serial = [0u8; 20];
    for chunk in serial.chunks_mut(8) {
        let r = random_u64().to_be_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    serial[0] = (serial[0] & 0x7f) | 0x10;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = rcgen::date_time_ymd(valid_from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(valid_from_year + 6, 1, 1);
    let cert = params.self_signed(&pair).ok()?;
    let parsed = tenpay_sign_v3::PlatformCertificate::from_pem(&cert.pem()).ok()?;
    Some(Cert {
        serial: hex_upper(&serial),
        pem: cert.pem(),
        not_before: parsed.not_before(),
        not_after: parsed.not_after(),
        key,
    })
}

fn this_year() -> i32 {
    compact(now_unix())
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2026)
}

impl Platform {
    pub(crate) fn new() -> Self {
        Self {
            certs: OnceLock::new(),
            public_key: OnceLock::new(),
        }
    }

    pub(crate) fn certs(&self) -> MutexGuard<'_, Vec<Cert>> {
        self.certs
            .get_or_init(|| {
                Mutex::new(
                    certificate(FIRST_CERT_KEY, this_year() - 1)
                        .into_iter()
                        .collect(),
                )
            })
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new platform certificate with a new key: it signs from now on; the older ones stay
    /// valid and listed (WeChat Pay's rotation). Returns its serial.
    pub(crate) fn rotate(&self) -> Option<String> {
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).ok()?;
        let pem = {
            use rsa::pkcs8::EncodePrivateKey as _;
            key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .ok()?
                .to_string()
        };
        let cert = certificate(&pem, this_year())?;
        let serial = cert.serial.clone();
        self.certs().push(cert);
        Some(serial)
    }

    fn public_key(&self) -> Option<&PrivateKey> {
        self.public_key
            .get_or_init(|| PrivateKey::from_pem(PUBLIC_KEY_KEY).ok())
            .as_ref()
    }

    /// The public key's PEM (what the merchant platform lets a merchant download).
    pub(crate) fn public_key_pem(&self) -> Option<String> {
        Some(self.public_key()?.public_key().to_pem())
    }

    /// Signs `TIMESTAMP\nNONCE\nBODY\n` now: the four headers.
    pub(crate) fn sign(&self, mode: V3Signing, body: &[u8]) -> Vec<(&'static str, String)> {
        let ts = now_unix().to_string();
        let nonce = nonce();
        let message = tenpay_sign_v3::answer_message(&ts, &nonce, body);
        let (serial, signature) = match mode {
            V3Signing::PublicKey => (
                PUBLIC_KEY_ID.to_owned(),
                self.public_key().and_then(|k| k.sign(&message).ok()),
            ),
            V3Signing::Certificate => {
                let certs = self.certs();
                match certs.last() {
                    Some(c) => (c.serial.clone(), c.key.sign(&message).ok()),
                    None => (String::new(), None),
                }
            }
        };
        vec![
            (tenpay_sign_v3::header::TIMESTAMP, ts),
            (tenpay_sign_v3::header::NONCE, nonce),
            (tenpay_sign_v3::header::SERIAL, serial),
            (
                tenpay_sign_v3::header::SIGNATURE,
                signature.unwrap_or_default(),
            ),
            (
                tenpay_sign_v3::header::SIGNATURE_TYPE,
                tenpay_sign_v3::SCHEME.to_owned(),
            ),
        ]
    }
}
