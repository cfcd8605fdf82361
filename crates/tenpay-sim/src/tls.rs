//! The optional TLS listener: a CA, a server certificate for 127.0.0.1 / localhost, and a
//! client identity per merchant (PEM, and PKCS#12 with WeChat's legacy encryption and the
//! mch_id as password), all generated at start. `/secapi/` calls must present the merchant's
//! client certificate.

use std::sync::Arc;

use p12_keystore::{EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A merchant's generated client identity, as WeChat Pay would issue it.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientIdentity {
    /// The merchant id (also the PKCS#12 password).
    pub mch_id: String,
    /// `apiclient_cert.pem`.
    pub cert_pem: String,
    /// `apiclient_key.pem` (PKCS#8).
    pub key_pem: String,
    /// `apiclient_cert.p12`: encrypted with PBE-SHA1-RC2-40 (the legacy algorithm OpenSSL 3
    /// refuses by default), password = mch_id.
    pub pkcs12: Vec<u8>,
    pub(crate) cert_der: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("mch_id", &self.mch_id)
            .finish_non_exhaustive()
    }
}

/// The TLS material of a simulator started with TLS.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsMaterial {
    /// The CA that signed the server and client certificates (trust it in the client).
    pub ca_pem: String,
    /// The simulator's server certificate, for `127.0.0.1` and `localhost`, signed by the CA.
    /// Serve your own local `https://` notify URL with it (and [`Self::server_key_pem`]): the
    /// simulator trusts its CA when it delivers notifications.
    pub server_cert_pem: String,
    /// The private key of [`Self::server_cert_pem`] (PKCS#8).
    pub server_key_pem: String,
    /// One identity per merchant.
    pub identities: Vec<ClientIdentity>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("identities", &self.identities)
            .finish_non_exhaustive()
    }
}

impl TlsMaterial {
    /// The identity of a merchant.
    #[must_use]
    pub fn identity(&self, mch_id: &str) -> Option<&ClientIdentity> {
        self.identities.iter().find(|i| i.mch_id == mch_id)
    }
}

pub(crate) struct Generated {
    pub(crate) material: TlsMaterial,
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

/// Why the TLS material could not be made, or a notify root certificate is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct TlsError {
    what: &'static str,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TlsError {
    fn new(what: &'static str) -> Self {
        Self { what, source: None }
    }
}

/// The generation step failed with `e`.
fn err<E: std::error::Error + Send + Sync + 'static>(e: E) -> TlsError {
    TlsError {
        what: "generating the certificates",
        source: Some(Box::new(e)),
    }
}

fn bad_root<E: std::error::Error + Send + Sync + 'static>(e: E) -> TlsError {
    TlsError {
        what: "a notify root certificate is unusable",
        source: Some(Box::new(e)),
    }
}

pub(crate) fn generate(mch_ids: &[String]) -> Result<Generated, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tenpay-sim CA");
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;

    let server_key = KeyPair::generate().map_err(err)?;
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(err)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "tenpay-sim");
    let server_cert = server_params.signed_by(&server_key, &ca).map_err(err)?;

    let mut identities = Vec::new();
    for mch_id in mch_ids {
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, mch_id.as_str());
        params
            .distinguished_name
            .push(DnType::OrganizationName, "tenpay-sim merchant");
        let cert = params.signed_by(&key, &ca).map_err(err)?;
        let mut store = KeyStore::new();
        let chain = PrivateKeyChain::new(
            b"apiclient".to_vec(),
            p12_keystore::PrivateKey::from_der(&key.serialize_der()).map_err(err)?,
            [p12_keystore::Certificate::from_der(cert.der()).map_err(err)?],
        );
        store.add_entry("apiclient", KeyStoreEntry::PrivateKeyChain(chain));
        // EncryptionAlgorithm::PbeWithShaAnd40BitRc4Cbc maps to pbeWithSHAAnd40BitRC2-CBC
        // (1.2.840.113549.1.12.1.6), the algorithm of WeChat Pay's apiclient_cert.p12.
        let pkcs12 = store
            .writer(mch_id)
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd40BitRc4Cbc)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .write()
            .map_err(err)?;
        identities.push(ClientIdentity {
            mch_id: mch_id.clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            pkcs12,
            cert_der: cert.der().to_vec(),
        });
    }

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).map_err(err)?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()
            .map_err(err)?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .map_err(err)?;
    Ok(Generated {
        material: TlsMaterial {
            ca_pem: ca.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            identities,
        },
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    })
}

/// The TLS client configuration for `https://` notify URLs: the public web PKI
/// (webpki-roots), the simulator's own CA when it has one, and the extra roots given.
pub(crate) fn delivery_config(
    own_ca_pem: Option<&str>,
    extra_pems: &[String],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in own_ca_pem
        .into_iter()
        .chain(extra_pems.iter().map(String::as_str))
    {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(bad_root)?;
            roots.add(cert).map_err(bad_root)?;
            found = true;
        }
        if !found {
            return Err(TlsError::new("a notify root PEM holds no CERTIFICATE"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
