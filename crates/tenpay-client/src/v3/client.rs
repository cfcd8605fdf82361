//! The v3 client: signing, sending, verifying, retrying.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use tenpay_sign_v3::{
    ApiV3Key, AppPay, JsapiPay, KeyId, KeyRing, PlatformCertificate, PublicKey, Resource,
    SignedHeaders, Signer, Verifier, VerifyError, header,
};

use super::{Error, PRODUCTION_URL, Prepay};
use crate::v3::error::ApiError;

/// The largest v3 answer read (they are a few KiB).
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

type ClockFn = dyn Fn() -> u64 + Send + Sync;
type NonceFn = dyn Fn() -> String + Send + Sync;

/// A verified answer: its status, raw body and request id.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Answer {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The body, exactly as received and verified.
    pub body: Bytes,
    /// `Request-ID`.
    pub request_id: Option<String>,
}

/// Builds a v3 [`Client`].
pub struct ClientBuilder {
    appid: String,
    signer: Signer,
    apiv3_key: ApiV3Key,
    base: String,
    keys: KeyRing,
    public_keys: Vec<(String, PublicKey)>,
    roots: Vec<Vec<u8>>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    allow_insecure_http: bool,
    clock: Arc<ClockFn>,
    nonce: Arc<NonceFn>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("appid", &self.appid)
            .field("mchid", &self.signer.mchid())
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ClientBuilder {
    /// Where requests go (WeChat Pay's host by default; the simulator's URL in tests).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base = url.into();
        self
    }

    /// WeChat Pay's keys, shared with the notification handler (`tenpay_notify::v3`) so
    /// that a certificate downloaded here verifies notifications too.
    #[must_use]
    pub fn keys(mut self, keys: KeyRing) -> Self {
        self.keys = keys;
        self
    }

    /// Public-key mode: WeChat Pay's public key and its id (`PUB_KEY_ID_…`). Every request
    /// then names it in `Wechatpay-Serial`, so WeChat Pay signs the answers with it.
    #[must_use]
    pub fn public_key(mut self, id: impl Into<String>, key: PublicKey) -> Self {
        self.public_keys.push((id.into(), key));
        self
    }

    /// An extra root certificate (PEM) to trust, beside the web PKI (the simulator's CA).
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots.push(pem.into());
        self
    }

    /// The whole-call timeout (10 s by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a call whose attempt is in doubt is repeated with the identical
    /// request, and the pause between (2 and 200 ms by default).
    #[must_use]
    pub fn retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    /// Plain `http://` to a host other than this machine (a test network).
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The clock requests are signed and answers checked with (Unix seconds).
    #[must_use]
    pub fn clock_fn(mut self, f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(f);
        self
    }

    /// Where nonces come from (32 random hex characters by default).
    #[must_use]
    pub fn nonce_fn(mut self, f: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Arc::new(f);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a base URL that is not https (http only to this machine), or an
    /// unusable root certificate; [`Error::Key`] for a public key id that is not one.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base.trim_end_matches('/').to_owned();
        crate::client::url::check_base_url(&base, self.allow_insecure_http)
            .map_err(|e| Error::Config(e.to_string()))?;
        for (id, key) in self.public_keys {
            self.keys
                .update(|v| v.add_public_key(&id, key))
                .map_err(Error::Key)?;
        }
        let tls =
            crate::tls::config(&self.roots, None).map_err(|e| Error::Config(e.to_string()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("tenpay/", env!("CARGO_PKG_VERSION"), " (api-v3)"))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                appid: self.appid,
                signer: self.signer,
                apiv3_key: self.apiv3_key,
                base,
                keys: self.keys,
                http,
                retries: self.retries,
                backoff: self.backoff,
                clock: self.clock,
                nonce: self.nonce,
            }),
            sub: None,
        })
    }
}

struct Inner {
    appid: String,
    signer: Signer,
    apiv3_key: ApiV3Key,
    base: String,
    keys: KeyRing,
    http: reqwest::Client,
    retries: u32,
    backoff: Duration,
    clock: Arc<ClockFn>,
    nonce: Arc<NonceFn>,
}

/// A v3 client for one merchant (or, as a service provider, one of its sub-merchants:
/// [`Client::with_sub_merchant`]). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    sub: Option<Arc<SubMerchant>>,
}

/// The sub-merchant a service provider's client acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubMerchant {
    pub(crate) sub_mchid: String,
    pub(crate) sub_appid: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("v3::Client")
            .field("appid", &self.inner.appid)
            .field("mchid", &self.inner.signer.mchid())
            .field("sub", &self.sub)
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// The characters a path segment keeps; the rest are percent-encoded before signing, so
/// the signed URL is the one sent.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'*')
    .remove(b'@');

/// A path segment, percent-encoded.
pub(crate) fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

impl Client {
    /// A builder for merchant `signer` paying into `appid`, with its APIv3 key (which
    /// decrypts downloaded certificates).
    #[must_use]
    pub fn builder(appid: impl Into<String>, signer: Signer, apiv3_key: ApiV3Key) -> ClientBuilder {
        ClientBuilder {
            appid: appid.into(),
            signer,
            apiv3_key,
            base: PRODUCTION_URL.to_owned(),
            keys: KeyRing::default(),
            public_keys: Vec::new(),
            roots: Vec::new(),
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(200),
            allow_insecure_http: false,
            clock: Arc::new(system_now),
            nonce: Arc::new(crate::client::builder::default_nonce),
        }
    }

    /// The appid (the service provider's, `sp_appid`, in partner mode).
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.inner.appid
    }

    /// This service provider's client acting for sub-merchant `sub_mchid` (and its own
    /// appid, when the payer comes from it): orders go to the `/v3/pay/partner/…` paths with
    /// `sp_appid`, `sp_mchid` and `sub_mchid`; refunds, queries and bills carry `sub_mchid`.
    /// Shares the connection pool, the signer and the keys.
    #[must_use]
    pub fn with_sub_merchant(
        &self,
        sub_mchid: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            sub: Some(Arc::new(SubMerchant {
                sub_mchid: sub_mchid.into(),
                sub_appid,
            })),
        }
    }

    /// The sub-merchant this client acts for, in partner mode.
    pub(crate) fn sub(&self) -> Option<&SubMerchant> {
        self.sub.as_deref()
    }

    /// The signer.
    #[must_use]
    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// WeChat Pay's keys as held now (shared with whoever else holds the ring).
    #[must_use]
    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    /// The appid the payer's device pays under: the sub-merchant's own when it has one.
    pub(crate) fn payer_appid(&self) -> &str {
        self.sub()
            .and_then(|s| s.sub_appid.as_deref())
            .unwrap_or(&self.inner.appid)
    }

    pub(crate) fn now(&self) -> u64 {
        (self.inner.clock)()
    }

    pub(crate) fn nonce(&self) -> String {
        (self.inner.nonce)()
    }

    /// Sends one signed request (`path_and_query` as it is to be sent, already
    /// percent-encoded) and verifies the answer: the open seam under every call, for paths
    /// not modelled here. A 2xx answer is verified (except the unsigned bill download); any
    /// other status is [`Error::Api`].
    ///
    /// # Errors
    /// [`Error::Api`], [`Error::Verify`], [`Error::Transport`], [`Error::TooLarge`],
    /// [`Error::Sign`].
    pub async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&[u8]>,
    ) -> Result<Answer, Error> {
        self.request_inner(method, path_and_query, body, None).await
    }

    /// As [`Client::request`], for a body carrying fields sealed with
    /// [`Client::encrypt_field`]: the request names the key they were sealed to in
    /// `Wechatpay-Serial`, as WeChat Pay requires.
    ///
    /// # Errors
    /// As [`Client::request`].
    pub async fn request_sealed(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
        sealed_to: &KeyId,
    ) -> Result<Answer, Error> {
        self.request_inner(method, path_and_query, Some(body), Some(sealed_to))
            .await
    }

    /// Seals a sensitive field (a name, an id number, a bank account) to WeChat Pay:
    /// RSA-OAEP under the public key if one is held, else the newest valid platform
    /// certificate. Returns the key's id (for [`Client::request_sealed`]) and the base64
    /// ciphertext.
    ///
    /// # Errors
    /// [`Error::Key`] when no WeChat Pay key is held (download the certificates first),
    /// [`Error::Sign`] for a text longer than one RSA block.
    pub fn encrypt_field(&self, text: &str) -> Result<(KeyId, String), Error> {
        let keys = self.inner.keys.current();
        let (id, key) = keys.encryption_key(self.now()).ok_or_else(|| {
            Error::Key(tenpay_sign_v3::KeyError::KeyId(
                "no WeChat Pay key held".into(),
            ))
        })?;
        Ok((id.clone(), key.encrypt(text).map_err(Error::Sign)?))
    }

    async fn request_inner(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&[u8]>,
        sealed_to: Option<&KeyId>,
    ) -> Result<Answer, Error> {
        let answer = self
            .send(method.clone(), path_and_query, body, sealed_to)
            .await?;
        let (status, headers, bytes) = answer;
        let request_id = find(&headers, header::REQUEST_ID);
        if !(200..300).contains(&status) {
            return Err(Error::Api(api_error(status, &bytes, request_id)));
        }
        if !path_and_query.starts_with("/v3/billdownload/") {
            let signed = SignedHeaders::from_fn(|name| find_ref(&headers, name));
            match self.inner.keys.verify(&signed, &bytes, self.now()) {
                Ok(()) => {}
                // A platform certificate not seen yet: download them once, then check again.
                Err(VerifyError::UnknownKey(serial))
                    if !serial.starts_with(tenpay_sign_v3::PUBLIC_KEY_ID_PREFIX)
                        && path_and_query != "/v3/certificates" =>
                {
                    self.download_certificates().await?;
                    self.inner
                        .keys
                        .verify(&signed, &bytes, self.now())
                        .map_err(Error::Verify)?;
                }
                Err(e) => return Err(Error::Verify(e)),
            }
        }
        Ok(Answer {
            status,
            body: bytes,
            request_id,
        })
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }

    /// The path and query of `url` when it is on this client's host.
    pub(crate) fn path_on_host(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(self.inner.base.as_str())?;
        rest.starts_with('/').then(|| rest.to_owned())
    }

    /// Sends one signed GET and returns the response unread (a file streamed to a writer:
    /// unsigned, so not verified here). A status other than 200 is [`Error::Api`].
    pub(crate) async fn open(
        &self,
        method: Method,
        path_and_query: &str,
    ) -> Result<reqwest::Response, Error> {
        let response = self
            .request_builder(method, path_and_query, &[], None)?
            .send()
            .await
            .map_err(Error::Transport)?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let request_id = response
                .headers()
                .get(header::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.bytes().await.unwrap_or_default();
            return Err(Error::Api(api_error(status, &body, request_id)));
        }
        Ok(response)
    }

    fn request_builder(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
        sealed_to: Option<&KeyId>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let auth = self
            .inner
            .signer
            .authorization(
                method.as_str(),
                path_and_query,
                self.now(),
                &self.nonce(),
                body,
            )
            .map_err(Error::Sign)?;
        let mut req = self
            .inner
            .http
            .request(method, format!("{}{path_and_query}", self.inner.base))
            .header(reqwest::header::AUTHORIZATION, auth.to_string())
            .header(reqwest::header::ACCEPT, "application/json");
        // The key sealed fields were encrypted to; otherwise the public key's id, so that
        // WeChat Pay signs the answer with it (the migration's second bar).
        if let Some(id) = sealed_to {
            req = req.header(header::SERIAL, id.as_str());
        } else if let Some(id) = self.inner.keys.current().public_key_id() {
            req = req.header(header::SERIAL, id.as_str());
        }
        if !body.is_empty() {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        Ok(req)
    }

    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&[u8]>,
        sealed_to: Option<&KeyId>,
    ) -> Result<(u16, Vec<(String, String)>, Bytes), Error> {
        let req =
            self.request_builder(method, path_and_query, body.unwrap_or_default(), sealed_to)?;
        let mut response = req.send().await.map_err(Error::Transport)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(Error::TooLarge(MAX_ANSWER_BYTES));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::Transport)? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Error::TooLarge(MAX_ANSWER_BYTES));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, headers, Bytes::from(bytes)))
    }

    /// A call repeated with the identical request while its attempts are in doubt (no
    /// answer, a 5xx or 429, an answer that does not verify): for the calls WeChat Pay
    /// makes idempotent by their number. Returns the last error otherwise.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> (Result<Answer, Error>, bool) {
        let mut doubted = false;
        let mut attempt = 0;
        loop {
            let result = self.request(method.clone(), path, body).await;
            match &result {
                Err(e) if e.is_in_doubt() && attempt < self.inner.retries => {
                    doubted = true;
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "tenpay v3: repeating the same request");
                    tokio::time::sleep(self.inner.backoff).await;
                }
                Err(e) => {
                    doubted |= e.is_in_doubt();
                    return (result, doubted);
                }
                Ok(_) => return (result, doubted),
            }
        }
    }

    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<T, Error> {
        let answer = self.call(method, path, body).await.0?;
        decode(&answer.body)
    }

    /// Downloads the platform certificates (`GET /v3/certificates`), decrypts them with the
    /// APIv3 key, checks the answer with them (it is signed by one of them), and adds them
    /// to the key ring. Certificate mode only: a public-key merchant gets
    /// `404 RESOURCE_NOT_EXISTS`.
    ///
    /// # Errors
    /// [`Error::Api`] (404 in public-key mode), [`Error::Decrypt`], [`Error::Key`],
    /// [`Error::Verify`], [`Error::Decode`], and the transport's.
    pub async fn download_certificates(&self) -> Result<Vec<PlatformCertificate>, Error> {
        let (status, headers, bytes) = self
            .send(Method::GET, "/v3/certificates", None, None)
            .await?;
        let request_id = find(&headers, header::REQUEST_ID);
        if !(200..300).contains(&status) {
            return Err(Error::Api(api_error(status, &bytes, request_id)));
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            serial_no: String,
            encrypt_certificate: Resource,
        }
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Entry>,
        }
        let list: List = decode(&bytes)?;
        let mut certs = Vec::new();
        for e in list.data {
            let pem = self
                .inner
                .apiv3_key
                .open(&e.encrypt_certificate)
                .map_err(Error::Decrypt)?;
            let cert = PlatformCertificate::from_pem(&pem).map_err(Error::Key)?;
            if cert.serial().as_str() != e.serial_no.to_ascii_uppercase() {
                return Err(Error::Decode(format!(
                    "certificate {} is listed as {}",
                    cert.serial(),
                    e.serial_no
                )));
            }
            certs.push(cert);
        }
        // The answer is signed by one of the certificates it carries (or one held already).
        let mut check: Verifier = Verifier::clone(&self.inner.keys.current());
        for c in &certs {
            check.add_certificate(c.clone());
        }
        let signed = SignedHeaders::from_fn(|name| find_ref(&headers, name));
        check
            .verify(&signed, &bytes, self.now())
            .map_err(Error::Verify)?;
        self.inner.keys.update(|v| {
            for c in &certs {
                v.add_certificate(c.clone());
            }
        });
        Ok(certs)
    }

    /// The JSAPI / mini-program pay parameters for a prepay id (`wx.requestPayment`),
    /// signed now.
    ///
    /// # Errors
    /// [`Error::Sign`].
    pub fn jsapi_pay(&self, prepay: &Prepay) -> Result<JsapiPay, Error> {
        self.inner
            .signer
            .jsapi_pay(
                self.payer_appid(),
                &prepay.prepay_id,
                self.now(),
                &self.nonce(),
            )
            .map_err(Error::Sign)
    }

    /// The APP pay parameters for a prepay id, signed now.
    ///
    /// # Errors
    /// [`Error::Sign`].
    pub fn app_pay(&self, prepay: &Prepay) -> Result<AppPay, Error> {
        self.inner
            .signer
            .app_pay(
                self.payer_appid(),
                &prepay.prepay_id,
                self.now(),
                &self.nonce(),
            )
            .map_err(Error::Sign)
    }
}

fn find(headers: &[(String, String)], name: &str) -> Option<String> {
    find_ref(headers, name).map(str::to_owned)
}

fn find_ref<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode(e.to_string()))
}

fn api_error(status: u16, body: &[u8], request_id: Option<String>) -> ApiError {
    #[derive(serde::Deserialize, Default)]
    struct Body {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<serde_json::Value>,
    }
    let b: Body = serde_json::from_slice(body).unwrap_or_default();
    ApiError {
        status,
        code: b.code,
        message: b.message,
        detail: b.detail,
        request_id,
    }
}
