//! TLS: rustls with the ring provider, Mozilla's roots (plus any you add), and the merchant's
//! client certificate for the `/secapi/` endpoints.

use std::sync::Arc;

use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{ConfigError, Error};

/// The merchant's client certificate (`apiclient_cert`), for refunds, reversals and the other
/// `/secapi/` endpoints.
///
/// WeChat Pay issues it as `apiclient_cert.p12` (password: the mch_id), encrypted with the
/// legacy RC2/3DES algorithms that OpenSSL 3 refuses by default; this loads it with a pure-Rust
/// PKCS#12 reader, so no OpenSSL legacy provider is needed. The PEM pair
/// (`apiclient_cert.pem`, `apiclient_key.pem`) works too.
#[derive(Clone)]
pub struct Identity {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Pem {
        cert: Vec<u8>,
        key: Vec<u8>,
    },
    Pkcs12 {
        der: Vec<u8>,
        password: Option<String>,
    },
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Pem { .. } => "PEM",
            Source::Pkcs12 { .. } => "PKCS#12",
        };
        f.debug_struct("Identity")
            .field("format", &kind)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// From the PEM certificate (chain) and private key (PKCS#8, PKCS#1 or SEC1).
    #[must_use]
    pub fn from_pem(cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            source: Source::Pem {
                cert: cert_pem.into(),
                key: key_pem.into(),
            },
        }
    }

    /// From PEM files.
    ///
    /// # Errors
    /// [`Error::Config`] when a file cannot be read.
    pub fn from_pem_files(
        cert: impl AsRef<std::path::Path>,
        key: impl AsRef<std::path::Path>,
    ) -> Result<Self, Error> {
        Ok(Self::from_pem(read(cert.as_ref())?, read(key.as_ref())?))
    }

    /// From PKCS#12 bytes. The password defaults to the client's mch_id, as WeChat Pay issues it.
    #[must_use]
    pub fn from_pkcs12(der: impl Into<Vec<u8>>) -> Self {
        Self {
            source: Source::Pkcs12 {
                der: der.into(),
                password: None,
            },
        }
    }

    /// From a PKCS#12 file (`apiclient_cert.p12`).
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read.
    pub fn from_pkcs12_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        Ok(Self::from_pkcs12(read(path.as_ref())?))
    }

    /// The PKCS#12 password, when it is not the mch_id.
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        if let Source::Pkcs12 { password: p, .. } = &mut self.source {
            *p = Some(password.into());
        }
        self
    }

    /// The leaf certificate (DER), decoded as the client would decode it for `mch_id` (the
    /// PKCS#12 password defaults to it): to check its subject and validity before use.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigError::Certificate`] when it does not open.
    pub fn certificate_der(&self, mch_id: &str) -> Result<Vec<u8>, Error> {
        let (certs, _) = self.load(mch_id)?;
        Ok(certs.first().map(|c| c.to_vec()).unwrap_or_default())
    }

    /// The certificate chain and key, decoded.
    pub(crate) fn load(&self, mch_id: &str) -> Result<LoadedIdentity, Error> {
        match &self.source {
            Source::Pem { cert, key } => {
                let certs = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        Error::Config(ConfigError::certificate(
                            "the certificate PEM is unreadable",
                            e,
                        ))
                    })?;
                if certs.is_empty() {
                    return Err(Error::Config(ConfigError::Certificate {
                        what: "the certificate PEM holds no certificate",
                        source: None,
                    }));
                }
                let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                    Error::Config(ConfigError::certificate("the key PEM is unreadable", e))
                })?;
                Ok((certs, key))
            }
            Source::Pkcs12 { der, password } => {
                let password = password.as_deref().unwrap_or(mch_id);
                let store = KeyStore::from_pkcs12(der, password, Pkcs12ImportPolicy::Relaxed).map_err(|e| {
                    Error::Config(ConfigError::Certificate {
                        what: "the PKCS#12 file does not open (wrong password, or not a PKCS#12 file?)",
                        source: Some(format!("{e:?}").into()),
                    })
                })?;
                let (_, chain) = store.private_key_chain().ok_or_else(|| {
                    Error::Config(ConfigError::Certificate {
                        what: "the PKCS#12 file holds no private key with a certificate",
                        source: None,
                    })
                })?;
                let certs: Vec<CertificateDer<'static>> = chain
                    .certs()
                    .iter()
                    .map(|c| CertificateDer::from(c.as_der().to_vec()))
                    .collect();
                if certs.is_empty() {
                    return Err(Error::Config(ConfigError::Certificate {
                        what: "the PKCS#12 file holds no certificate for its key",
                        source: None,
                    }));
                }
                let key =
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
                Ok((certs, key))
            }
        }
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| {
        Error::Config(ConfigError::Read {
            path: path.to_owned(),
            source,
        })
    })
}

/// A decoded client certificate chain and its key.
pub(crate) type LoadedIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A rustls client configuration: ring, safe defaults, Mozilla roots plus `extra_roots`, and the
/// client certificate when given.
pub(crate) fn config(
    extra_roots: &[Vec<u8>],
    identity: Option<LoadedIdentity>,
) -> Result<rustls::ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in extra_roots {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| Error::Config(ConfigError::RootCertificate(Box::new(e))))?;
            roots
                .add(cert)
                .map_err(|e| Error::Config(ConfigError::RootCertificate(Box::new(e))))?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Config(ConfigError::Tls(e)))?
    .with_root_certificates(roots);
    match identity {
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(|e| {
            Error::Config(ConfigError::certificate(
                "TLS refused the certificate and key",
                e,
            ))
        }),
        None => Ok(builder.with_no_client_auth()),
    }
}
