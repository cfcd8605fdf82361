use std::sync::Arc;
use std::time::{Duration, Instant};

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;
use tracing::Instrument as _;

use crate::answer::{Answer, Verifier, parse_envelope};
use crate::endpoint::{Endpoint, MerchantFields};
use crate::error::excerpt;
use crate::outcome::{Attempts, Fate, MovesMoney, Outcome, Refused, Sent, judge};
use crate::{ConfigError, Error, Identity, RetryPolicy};

/// Production: `https://api.mch.weixin.qq.com`.
pub const PRODUCTION_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup domain: `https://api2.mch.weixin.qq.com`.
pub const BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";

/// Where and how a request is sent.
pub(crate) struct Route<'a> {
    pub(crate) path: &'a str,
    pub(crate) secapi: bool,
    pub(crate) retry_safe: bool,
    pub(crate) large_answer: bool,
    pub(crate) sign_type: SignType,
    pub(crate) merchant_fields: MerchantFields,
    pub(crate) nonce: bool,
}

/// Which sandbox path layout to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sandbox {
    /// `/xdc/apiv2sandbox/...`, key from `/xdc/apiv2getsignkey/sign/getsignkey` (since 2022).
    Current,
    /// `/sandboxnew/...`, key from `/sandboxnew/pay/getsignkey`.
    Legacy,
}

impl Sandbox {
    fn prefix(self) -> &'static str {
        match self {
            Self::Current => "/xdc/apiv2sandbox",
            Self::Legacy => "/sandboxnew",
        }
    }

    fn key_path(self) -> &'static str {
        match self {
            Self::Current => "/xdc/apiv2getsignkey/sign/getsignkey",
            Self::Legacy => "/sandboxnew/pay/getsignkey",
        }
    }
}

/// How long a fetched sandbox key is reused (it expires after about three days).
const SANDBOX_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

type NonceFn = dyn Fn() -> String + Send + Sync;
type ClockFn = dyn Fn() -> i64 + Send + Sync;

/// A WeChat Pay V2 client for one merchant configuration. Cheap to clone.
///
/// ```no_run
/// use tenpay_client::{Client, OutTradeNo, UnifiedOrder};
/// use tenpay_sign::{ApiKey, SignType};
/// use tenpay_xml::Fen;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder("wx2421b1c4370ec43b", "10000100", ApiKey::new("your-32-character-api-key.......")?, SignType::HmacSha256)
///     .build()?;
/// let order = UnifiedOrder::app("腾讯充值中心-QQ会员充值", OutTradeNo::new("20150806125346")?, Fen::new(888),
///     "123.12.12.123", "https://pay.example.com/wechat/notify/pay");
/// let answer = client.unified_order(&order).await?;
/// let params = client.app_params(&answer.prepay_id);
/// # let _ = params; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    /// What the clients of several merchants can share: the connection pool and settings.
    pub(crate) inner: Arc<Inner>,
    /// Who calls: the merchant, its sub-merchant, its key and certificate.
    pub(crate) merchant: Arc<Merchant>,
}

/// The merchant side of a client.
pub(crate) struct Merchant {
    pub(crate) appid: String,
    pub(crate) mch_id: String,
    pub(crate) key: ApiKey,
    pub(crate) sign_type: SignType,
    pub(crate) sub_appid: Option<String>,
    pub(crate) sub_mch_id: Option<String>,
    /// The sandbox key of this mch_id (shared by its sub-merchant and appid views).
    sandbox_key: Arc<tokio::sync::Mutex<Option<(ApiKey, Instant)>>>,
    /// WeChat Pay's RSA key for bank payments, fetched once per mch_id and kept.
    pub(crate) public_key: Arc<tokio::sync::Mutex<Option<crate::PublicKey>>>,
    /// A connection pool that presents this mch_id's certificate.
    pub(crate) http_cert: Option<reqwest::Client>,
    verifier: Verifier,
}

impl Merchant {
    fn verifier(
        appid: &str,
        mch_id: &str,
        sign_type: SignType,
        sub: Option<(&str, Option<String>)>,
    ) -> Verifier {
        let v = Verifier::new(appid, mch_id, sign_type);
        match sub {
            Some((sub_mch_id, sub_appid)) => v.sub_merchant(sub_mch_id, sub_appid),
            None => v,
        }
    }
}

/// How pools are made (kept to make a pool for another merchant's certificate).
struct PoolSettings {
    roots: Vec<Vec<u8>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
}

impl PoolSettings {
    fn pool(&self, identity: Option<crate::tls::LoadedIdentity>) -> Result<reqwest::Client, Error> {
        reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::config(&self.roots, identity)?)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .tcp_nodelay(true)
            // WeChat Pay never redirects; following one would re-send the signed body
            // (and present the certificate) to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(ConfigError::HttpClient(e)))
    }
}

pub(crate) struct Inner {
    base: String,
    backup: Option<String>,
    sandbox: Option<Sandbox>,
    http: reqwest::Client,
    pools: PoolSettings,
    pub(crate) nonce: Arc<NonceFn>,
    pub(crate) clock: Arc<ClockFn>,
    retry: RetryPolicy,
    pub(crate) poll_interval: Duration,
    pub(crate) poll_window: Duration,
    max_bill_bytes: usize,
    max_streamed_bill_bytes: u64,
    pub(crate) bank_key: crate::payout::BankKeySource,
}

/// The largest XML answer read (WeChat Pay's are a few KiB); larger is [`Error::TooLarge`].
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The default largest bill or fund flow read into memory, compressed or inflated
/// ([`ClientBuilder::max_bill_bytes`]): [`Client::download_bill`] holds the text and its
/// parsed rows, about 10 × this at the worst.
pub const DEFAULT_MAX_BILL_BYTES: usize = 64 * 1024 * 1024;
/// The default largest bill streamed to a writer ([`ClientBuilder::max_streamed_bill_bytes`]):
/// memory stays bounded whatever the size; this bounds what is written.
pub const DEFAULT_MAX_STREAMED_BILL_BYTES: u64 = 1024 * 1024 * 1024;

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (i, m) = (&self.inner, &self.merchant);
        f.debug_struct("Client")
            .field("appid", &m.appid)
            .field("mch_id", &m.mch_id)
            .field("sign_type", &m.sign_type)
            .field("sub_mch_id", &m.sub_mch_id)
            .field("base_url", &i.base)
            .field("sandbox", &i.sandbox)
            .field("identity", &m.http_cert.is_some())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]. Setters never fail; [`ClientBuilder::build`] reports problems.
#[must_use]
pub struct ClientBuilder {
    appid: String,
    mch_id: String,
    key: ApiKey,
    sign_type: SignType,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
    base: String,
    failover: Option<String>,
    sandbox: Option<Sandbox>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    identity: Option<Identity>,
    roots: Vec<Vec<u8>>,
    nonce: Arc<NonceFn>,
    clock: Arc<ClockFn>,
    retry: RetryPolicy,
    poll_interval: Duration,
    poll_window: Duration,
    max_bill_bytes: usize,
    max_streamed_bill_bytes: u64,
    allow_insecure_http: bool,
    bank_key: crate::payout::BankKeySource,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .finish_non_exhaustive()
    }
}

/// 32 lowercase hex characters from a random UUID v4.
fn default_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Client {
    /// A builder for a merchant: appid, mch_id, API key and the sign type its requests use.
    pub fn builder(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
    ) -> ClientBuilder {
        ClientBuilder {
            appid: appid.into(),
            mch_id: mch_id.into(),
            key,
            sign_type,
            sub_appid: None,
            sub_mch_id: None,
            base: PRODUCTION_URL.to_owned(),
            failover: None,
            sandbox: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            user_agent: concat!("tenpay-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            identity: None,
            roots: Vec::new(),
            nonce: Arc::new(default_nonce),
            clock: Arc::new(system_clock),
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_secs(5),
            poll_window: Duration::from_secs(45),
            max_bill_bytes: DEFAULT_MAX_BILL_BYTES,
            max_streamed_bill_bytes: DEFAULT_MAX_STREAMED_BILL_BYTES,
            allow_insecure_http: false,
            bank_key: crate::payout::BankKeySource::default(),
        }
    }

    /// The appid.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.merchant.appid
    }

    /// The merchant id.
    #[must_use]
    pub fn mch_id(&self) -> &str {
        &self.merchant.mch_id
    }

    /// The sign type requests use (and answers must be signed with).
    #[must_use]
    pub fn sign_type(&self) -> SignType {
        self.merchant.sign_type
    }

    /// Calls an endpoint: signs the request, sends it (retrying only where repeating is safe),
    /// verifies and decodes the answer.
    ///
    /// # Errors
    /// See [`Error`].
    ///
    /// An endpoint that moves money ([`Endpoint::MOVES_MONEY`]) does not compile here: its
    /// outcome is judged over every attempt by [`Client::execute_money`].
    ///
    /// ```compile_fail
    /// use tenpay_client::{Client, Refund};
    /// fn run(rt: &tokio::runtime::Runtime, client: &Client, refund: &Refund) {
    ///     let _ = rt.block_on(client.execute(refund)); // a refund: use execute_money
    /// }
    /// let _ = run as fn(&_, &_, &_);
    /// ```
    pub async fn execute<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        const {
            assert!(
                !E::MOVES_MONEY,
                "this endpoint moves money: call it with Client::execute_money"
            );
        }
        self.traced::<E, _>(request.out_trade_no(), self.execute_inner(request))
            .await
    }

    /// Calls an endpoint that moves money and judges the outcome over every attempt (see
    /// [`Outcome`]): `Done` when WeChat Pay says so; `Err` only when nothing was moved for
    /// certain; otherwise `Unknown` or `NumberTaken`, to settle by querying the number.
    ///
    /// # Errors
    /// [`Refused`]: no attempt reached WeChat Pay, or the first that did was refused with a
    /// code the family documents as final.
    pub async fn execute_money<E: MovesMoney>(
        &self,
        request: &E,
    ) -> Result<Outcome<E::Response>, Refused> {
        const {
            assert!(
                E::MOVES_MONEY,
                "a MovesMoney endpoint must set Endpoint::MOVES_MONEY"
            );
        }
        let sent = self
            .traced::<E, _>(Some(request.number()), self.send_typed(request))
            .await;
        judge(request.number(), sent, E::read_code)
    }

    /// Signs and sends a typed request; every attempt's fate with the last result.
    pub(crate) async fn send_typed<E: Endpoint>(&self, request: &E) -> Sent<E::Response> {
        let route = match self.route_for::<E>() {
            Ok(r) => r,
            Err(e) => return Sent::unsent(e),
        };
        match request.to_map() {
            Ok(map) => self.send(&route, map, E::decode).await,
            Err(e) => Sent::unsent(Error::Request(e)),
        }
    }

    /// Runs `call` in the `tenpay` span (endpoint, number, err_code, latency).
    async fn traced<E: Endpoint, T: Traced>(
        &self,
        number: Option<&str>,
        call: impl Future<Output = T>,
    ) -> T {
        let span = tracing::info_span!(
            "tenpay",
            endpoint = E::PATH,
            out_trade_no = number.unwrap_or(""),
            err_code = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        span.record(
            "latency_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        if let Some(e) = result.error() {
            if let Some(code) = e.err_code() {
                span.record("err_code", code.as_str());
            }
            span.in_scope(|| tracing::warn!(error = %e, "tenpay call failed"));
        }
        result
    }

    /// The same merchant acting for a sub-merchant (service-provider mode), sharing this
    /// client's connection pools and certificate: cheap, for one request or many. Answers
    /// are checked against these sub-merchant ids.
    #[must_use]
    pub fn with_sub_merchant(
        &self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        let m = &self.merchant;
        let sub_mch_id = sub_mch_id.into();
        let verifier = Merchant::verifier(
            &m.appid,
            &m.mch_id,
            m.sign_type,
            Some((&sub_mch_id, sub_appid.clone())),
        );
        Self {
            inner: Arc::clone(&self.inner),
            merchant: Arc::new(Merchant {
                appid: m.appid.clone(),
                mch_id: m.mch_id.clone(),
                key: m.key.clone(),
                sign_type: m.sign_type,
                sub_appid,
                sub_mch_id: Some(sub_mch_id),
                sandbox_key: Arc::clone(&m.sandbox_key),
                public_key: Arc::clone(&m.public_key),
                http_cert: m.http_cert.clone(),
                verifier,
            }),
        }
    }

    /// Another app of the same merchant (a mini program beside an APP on one mch_id), sharing
    /// the pools, the key and the certificate.
    #[must_use]
    pub fn with_appid(&self, appid: impl Into<String>) -> Self {
        let m = &self.merchant;
        let appid = appid.into();
        let verifier = Merchant::verifier(
            &appid,
            &m.mch_id,
            m.sign_type,
            m.sub_mch_id.as_deref().map(|s| (s, m.sub_appid.clone())),
        );
        Self {
            inner: Arc::clone(&self.inner),
            merchant: Arc::new(Merchant {
                appid,
                mch_id: m.mch_id.clone(),
                key: m.key.clone(),
                sign_type: m.sign_type,
                sub_appid: m.sub_appid.clone(),
                sub_mch_id: m.sub_mch_id.clone(),
                sandbox_key: Arc::clone(&m.sandbox_key),
                public_key: Arc::clone(&m.public_key),
                http_cert: m.http_cert.clone(),
                verifier,
            }),
        }
    }

    /// A client for another merchant (another mch_id, key and sign type) that shares this
    /// client's plain connection pool and settings; its certificate, when given, gets a pool
    /// of its own (a TLS client identity belongs to one mch_id).
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable certificate, or HMAC-SHA256 with the sandbox.
    pub fn with_merchant(
        &self,
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        key: ApiKey,
        sign_type: SignType,
        identity: Option<&Identity>,
    ) -> Result<Self, Error> {
        let (appid, mch_id) = (appid.into(), mch_id.into());
        if self.inner.sandbox.is_some() && !matches!(sign_type, SignType::Md5) {
            return Err(Error::Config(ConfigError::SandboxMd5Only {
                what: format!("merchant {mch_id}"),
            }));
        }
        let http_cert = match identity {
            Some(id) => Some(self.inner.pools.pool(Some(id.load(&mch_id)?))?),
            None => None,
        };
        let verifier = Merchant::verifier(&appid, &mch_id, sign_type, None);
        Ok(Self {
            inner: Arc::clone(&self.inner),
            merchant: Arc::new(Merchant {
                appid,
                mch_id,
                key,
                sign_type,
                sub_appid: None,
                sub_mch_id: None,
                sandbox_key: Arc::new(tokio::sync::Mutex::new(None)),
                public_key: Arc::new(tokio::sync::Mutex::new(None)),
                http_cert,
                verifier,
            }),
        })
    }

    /// The signed XML body of a request, as [`Client::execute`] would send it (with a fresh
    /// nonce): for your own HTTP stack, or to see what is signed.
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry; [`Error::Config`] in sandbox mode, whose
    /// key is fetched by `execute`.
    pub fn request_body<E: Endpoint>(&self, request: &E) -> Result<String, Error> {
        if self.inner.sandbox.is_some() {
            return Err(Error::Config(ConfigError::SandboxRequestBody));
        }
        let sign_type = self.sign_type_for::<E>()?;
        let mut map = request.to_map().map_err(Error::Request)?;
        self.fill_common(&mut map, sign_type, E::MERCHANT_FIELDS, E::NONCE)
            .map_err(Error::Request)?;
        map.sign(&self.merchant.key, sign_type)
            .map_err(Error::Request)?;
        Ok(map.to_xml())
    }

    /// Verifies and decodes an answer body received for `E` by your own HTTP stack: the same
    /// checks as [`Client::execute`] (envelope, `return_code`, signature with the request's
    /// algorithm, appid and mch_id, `result_code`).
    ///
    /// # Errors
    /// As [`Client::execute`], without the transport errors.
    pub fn read_answer<E: Endpoint>(&self, body: &[u8]) -> Result<E::Response, Error> {
        E::decode(
            &self.verifier_for::<E>()?,
            &self.merchant.key,
            Answer {
                body: bytes::Bytes::copy_from_slice(body),
                inflate_limit: self.inner.max_bill_bytes,
            },
        )
    }

    async fn execute_inner<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        self.send_typed(request).await.result
    }

    /// Signs `map` (after adding the merchant's fields, the nonce and `sign_type`), posts it to
    /// the route's path, repeating only where the route says it is safe, and decodes each
    /// answer with `decode`.
    pub(crate) async fn send<R>(
        &self,
        route: &Route<'_>,
        map: XmlMap,
        decode: impl Fn(&Verifier, &ApiKey, Answer) -> Result<R, Error>,
    ) -> Sent<R> {
        match self.prepare(route, map).await {
            Ok((http, key, body)) => self.send_body(route, http, &key, body, decode).await,
            Err(e) => Sent::unsent(e),
        }
    }

    /// Posts a signed body to the route's path, repeating the identical body only where the
    /// route says it is safe, and decodes each answer with `decode`. Returns the last result
    /// and every attempt's [`Fate`]: what a money-moving call is judged by.
    pub(crate) async fn send_body<R>(
        &self,
        route: &Route<'_>,
        http: &reqwest::Client,
        key: &ApiKey,
        body: String,
        decode: impl Fn(&Verifier, &ApiKey, Answer) -> Result<R, Error>,
    ) -> Sent<R> {
        let inner = &self.inner;
        let (appid_field, mch_id_field) = route.merchant_fields.answer_names();
        let verifier = self
            .merchant
            .verifier
            .with_sign_type(route.sign_type)
            .merchant_fields(appid_field, mch_id_field);
        let prefix = inner.sandbox.map_or("", Sandbox::prefix);
        let limit = if route.large_answer {
            inner.max_bill_bytes
        } else {
            MAX_ANSWER_BYTES
        };
        let mut attempt = 0u32;
        let mut attempts = Attempts::default();
        loop {
            let base = match (&inner.backup, attempt) {
                (Some(backup), n) if n > 0 => backup.as_str(),
                _ => inner.base.as_str(),
            };
            let url = format!("{base}{prefix}{}", route.path);
            let result = match self.post(http, &url, body.clone(), limit).await {
                Ok(answer) => decode(&verifier, key, answer),
                Err(e) => Err(e),
            };
            attempts.push(Fate::of(&result));
            let Err(e) = &result else {
                return Sent { result, attempts };
            };
            attempt += 1;
            match inner.retry.delay(e, route.retry_safe, attempt) {
                Some(delay) => {
                    tracing::debug!(attempt, error = %e, "tenpay: repeating the same request");
                    tokio::time::sleep(delay).await;
                }
                None => return Sent { result, attempts },
            }
        }
    }

    /// The algorithm requests to `E` are signed with: the endpoint's own when it has one
    /// (HMAC-SHA256 for downloadfundflow), else the client's.
    ///
    /// # Errors
    /// [`Error::Config`] when the endpoint needs HMAC-SHA256 and the client uses the sandbox,
    /// whose key signs MD5 only.
    fn sign_type_for<E: Endpoint>(&self) -> Result<SignType, Error> {
        self.resolve_sign_type(E::SIGN_TYPE, E::PATH)
    }

    /// The endpoint's fixed algorithm, or the client's; HMAC-SHA256 is refused in the sandbox.
    pub(crate) fn resolve_sign_type(
        &self,
        fixed: Option<SignType>,
        path: &str,
    ) -> Result<SignType, Error> {
        match fixed {
            None => Ok(self.merchant.sign_type),
            Some(SignType::HmacSha256) if self.inner.sandbox.is_some() => {
                Err(Error::Config(ConfigError::SandboxMd5Only {
                    what: path.to_owned(),
                }))
            }
            Some(fixed) => Ok(fixed),
        }
    }

    /// The merchant's ids (under `fields`' names), sub-merchant fields (the pay family's
    /// only), `nonce_str` and `sign_type` (when HMAC).
    fn fill_common(
        &self,
        map: &mut XmlMap,
        sign_type: SignType,
        fields: MerchantFields,
        nonce: bool,
    ) -> Result<(), tenpay_xml::Error> {
        let (inner, m) = (&self.inner, &self.merchant);
        if let Some(name) = fields.appid {
            map.insert(name, &m.appid)?;
        }
        map.insert(fields.mch_id, &m.mch_id)?;
        if fields.sub_merchant {
            if let Some(s) = &m.sub_appid {
                map.insert("sub_appid", s)?;
            }
            if let Some(s) = &m.sub_mch_id {
                map.insert("sub_mch_id", s)?;
            }
        }
        if nonce {
            map.insert("nonce_str", &(inner.nonce)())?;
        }
        if matches!(sign_type, SignType::HmacSha256) {
            map.insert("sign_type", SignType::HmacSha256.as_str())?;
        }
        Ok(())
    }

    /// The key requests are signed with: the API key, or in the sandbox the sandbox key
    /// (fetched once and cached).
    async fn signing_key(&self) -> Result<ApiKey, Error> {
        let Some(sandbox) = self.inner.sandbox else {
            return Ok(self.merchant.key.clone());
        };
        let mut cached = self.merchant.sandbox_key.lock().await;
        if let Some((key, at)) = cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < SANDBOX_KEY_TTL)
        {
            let _ = at;
            return Ok(key.clone());
        }
        let key = self.fetch_sandbox_key(sandbox).await?;
        *cached = Some((key.clone(), Instant::now()));
        Ok(key)
    }

    /// `getsignkey`: signed with the real key and MD5, no appid.
    async fn fetch_sandbox_key(&self, sandbox: Sandbox) -> Result<ApiKey, Error> {
        let inner = &self.inner;
        let mut map = XmlMap::new();
        let mut put = |k: &str, v: &str| map.insert(k, v).map_err(Error::Request);
        put("mch_id", &self.merchant.mch_id)?;
        put("nonce_str", &(inner.nonce)())?;
        map.sign(&self.merchant.key, SignType::Md5)
            .map_err(Error::Request)?;
        let url = format!("{}{}", inner.base, sandbox.key_path());
        let answer = self
            .post(&inner.http, &url, map.to_xml(), MAX_ANSWER_BYTES)
            .await?;
        let m = parse_envelope(&answer)?;
        let key = m
            .get("sandbox_signkey")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::NotXml {
                reason: "getsignkey answer has no sandbox_signkey".into(),
                excerpt: String::new(),
            })?;
        tracing::debug!("tenpay: fetched the sandbox sign key");
        ApiKey::new(key).map_err(|e| Error::Config(ConfigError::SandboxKey(e)))
    }

    /// Signs and sends `request` once (no retry, no backup domain) and returns the response
    /// unread, for answers streamed to a writer. Redirects are never followed.
    pub(crate) async fn open<E: Endpoint>(&self, request: &E) -> Result<reqwest::Response, Error> {
        let route = self.route_for::<E>()?;
        let map = request.to_map().map_err(Error::Request)?;
        let (http, _, body) = self.prepare(&route, map).await?;
        let prefix = self.inner.sandbox.map_or("", Sandbox::prefix);
        http.post(format!("{}{prefix}{}", self.inner.base, E::PATH))
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(transport)
    }

    /// The route of a typed endpoint.
    pub(crate) fn route_for<E: Endpoint>(&self) -> Result<Route<'static>, Error> {
        Ok(Route {
            path: E::PATH,
            secapi: E::SECAPI,
            retry_safe: E::RETRY_SAFE,
            large_answer: E::LARGE_ANSWER,
            sign_type: self.sign_type_for::<E>()?,
            merchant_fields: E::MERCHANT_FIELDS,
            nonce: E::NONCE,
        })
    }

    /// The pool a route is sent through (the certificate's for `/secapi/`), the signing key,
    /// and the signed body: the merchant's fields, the nonce and `sign_type` added to `map`.
    pub(crate) async fn prepare(
        &self,
        route: &Route<'_>,
        mut map: XmlMap,
    ) -> Result<(&reqwest::Client, ApiKey, String), Error> {
        let http = if route.secapi {
            self.merchant
                .http_cert
                .as_ref()
                .ok_or_else(|| Error::NoIdentity {
                    path: route.path.to_owned(),
                })?
        } else {
            &self.inner.http
        };
        let key = self.signing_key().await?;
        self.fill_common(
            &mut map,
            route.sign_type,
            route.merchant_fields,
            route.nonce,
        )
        .map_err(Error::Request)?;
        map.sign(&key, route.sign_type).map_err(Error::Request)?;
        Ok((http, key, map.to_xml()))
    }

    /// The base URL requests go to.
    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }

    /// The largest bill accepted, compressed or inflated.
    pub(crate) fn max_streamed_bill_bytes(&self) -> u64 {
        self.inner.max_streamed_bill_bytes
    }

    /// Sends a body and reads the answer, at most `limit` bytes (checked against
    /// Content-Length first, then while streaming). Redirects are never followed.
    pub(crate) async fn post(
        &self,
        http: &reqwest::Client,
        url: &str,
        body: String,
        limit: usize,
    ) -> Result<Answer, Error> {
        let mut response = http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let declared = response.content_length();
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Error::TooLarge { limit });
        }
        let mut bytes =
            Vec::with_capacity(declared.map_or(8 * 1024, |n| usize::try_from(n).unwrap_or(limit)));
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > limit {
                return Err(Error::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(Error::Http {
                status,
                excerpt: excerpt(&bytes),
            });
        }
        Ok(Answer {
            body: bytes::Bytes::from(bytes),
            inflate_limit: self.inner.max_bill_bytes,
        })
    }

    /// What answers to `E` are checked against: this client's merchant and sub-merchant, and
    /// the sign type requests to `E` are signed with.
    ///
    /// # Errors
    /// [`Error::Config`] when the endpoint needs HMAC-SHA256 and the client uses the sandbox.
    pub fn verifier_for<E: Endpoint>(&self) -> Result<Verifier, Error> {
        let (appid, mch_id) = E::MERCHANT_FIELDS.answer_names();
        Ok(self
            .merchant
            .verifier
            .with_sign_type(self.sign_type_for::<E>()?)
            .merchant_fields(appid, mch_id))
    }
}

/// `https://`, or `http://` to a loopback host (or anywhere with the opt-in).
fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(Error::Config(ConfigError::BaseUrl {
            url: url.to_owned(),
        }));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback || allow_insecure_http {
        Ok(())
    } else {
        // Plain http would send signed requests (and the certificate's calls) unencrypted.
        Err(Error::Config(ConfigError::BaseUrl {
            url: url.to_owned(),
        }))
    }
}

pub(crate) fn transport(e: reqwest::Error) -> Error {
    // reqwest's error names the URL, which carries no secret here (no query string).
    Error::Transport(e)
}

impl ClientBuilder {
    /// Where WeChat Pay's RSA key for bank payments is fetched (`…/risk/getpublickey`):
    /// by default only from the production risk host (`https://fraud.mch.weixin.qq.com`),
    /// and only when the base URL is production or its backup. Any other base (the
    /// simulator, a proxy, the sandbox) needs this set explicitly, so that whoever serves
    /// the API cannot also choose the key card numbers are encrypted with.
    pub fn bank_key_url(mut self, url: impl Into<String>) -> Self {
        self.bank_key.url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Pins WeChat Pay's RSA key for bank payments: a fetched key whose SHA-256 fingerprint
    /// ([`PublicKey::fingerprint`](crate::PublicKey::fingerprint), logged at each fetch) is
    /// not this one is refused, and nothing is sent.
    pub fn pin_bank_key(mut self, sha256_hex: impl Into<String>) -> Self {
        self.bank_key.pin = Some(sha256_hex.into().to_ascii_lowercase());
        self
    }

    /// Starts with a key kept from an earlier fetch (fetched again only when WeChat Pay
    /// cannot decrypt with it).
    pub fn bank_key(mut self, key: crate::PublicKey) -> Self {
        self.bank_key.preset = Some(key);
        self
    }

    /// Service-provider mode: act for this sub-merchant (and its appid, when it has one).
    pub fn sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self.sub_appid = sub_appid;
        self
    }

    /// The API's base URL: [`PRODUCTION_URL`] (default), [`BACKUP_URL`], or a simulator.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base = url.into();
        self
    }

    /// On transport failures, repeat safe requests against [`BACKUP_URL`].
    pub fn failover_to_backup(mut self, yes: bool) -> Self {
        self.failover = yes.then(|| BACKUP_URL.to_owned());
        self
    }

    /// On transport failures, repeat safe requests against this URL (another domain, or in
    /// tests a second simulator).
    pub fn backup_url(mut self, url: impl Into<String>) -> Self {
        self.failover = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Use the sandbox ("仿真测试系统"): paths under the sandbox prefix, requests signed with
    /// the sandbox key (fetched and cached by the client) and MD5, which the sandbox requires.
    pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    /// The whole-request timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connect timeout (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The client certificate for the `/secapi/` endpoints.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Trusts an extra root CA (PEM), such as a simulator's.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots.push(pem.into());
        self
    }

    /// Where nonces come from (default: a random UUID v4 as 32 hex characters).
    pub fn nonce_fn(mut self, f: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Arc::new(f);
        self
    }

    /// Where the time comes from, in Unix seconds (default: the system clock).
    pub fn clock_fn(mut self, f: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(f);
        self
    }

    /// How many times a safe request is repeated after a retryable failure (default 2), and the
    /// first backoff (default 200 ms, doubling).
    pub fn retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retry = RetryPolicy::new(retries, backoff);
        self
    }

    /// When failed calls are repeated (see [`RetryPolicy`]; default: twice, 200 ms doubling).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The payment-code helper's polling: interval (default 5 s) and window (default 45 s).
    pub fn micropay_polling(mut self, interval: Duration, window: Duration) -> Self {
        self.poll_interval = interval;
        self.poll_window = window;
        self
    }

    /// The largest bill or fund flow read into memory ([`Client::download_bill`]),
    /// compressed and inflated (default [`DEFAULT_MAX_BILL_BYTES`], 64 MiB); larger is
    /// [`Error::TooLarge`]. XML answers are capped at [`MAX_ANSWER_BYTES`]. Large bills are
    /// streamed instead: [`Client::download_bill_to`].
    pub fn max_bill_bytes(mut self, bytes: usize) -> Self {
        self.max_bill_bytes = bytes;
        self
    }

    /// The largest bill streamed to a writer ([`Client::download_bill_to`],
    /// [`Client::download_bill_raw_to`]), as written (default
    /// [`DEFAULT_MAX_STREAMED_BILL_BYTES`], 1 GiB); larger is [`Error::TooLarge`].
    pub fn max_streamed_bill_bytes(mut self, bytes: u64) -> Self {
        self.max_streamed_bill_bytes = bytes;
        self
    }

    /// Accepts a plain `http://` base URL for hosts other than loopback (an HTTP proxy that
    /// terminates TLS in a test network). Loopback hosts (the simulator) are always accepted;
    /// production uses `https://`.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a base URL that is not http(s), an HMAC sign type with the sandbox
    /// (which takes MD5 only), or an unusable certificate.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base.trim_end_matches('/').to_owned();
        for url in std::iter::once(&base).chain(self.failover.as_ref()) {
            check_base_url(url, self.allow_insecure_http)?;
        }
        if self.sandbox.is_some() && !matches!(self.sign_type, SignType::Md5) {
            return Err(Error::Config(ConfigError::SandboxMd5Only {
                what: format!("merchant {}", self.mch_id),
            }));
        }
        let pools = PoolSettings {
            roots: self.roots,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            user_agent: self.user_agent,
        };
        if let Some(url) = &self.bank_key.url {
            check_base_url(url, self.allow_insecure_http)?;
        }
        let plain = pools.pool(None)?;
        let with_cert = match &self.identity {
            Some(identity) => Some(pools.pool(Some(identity.load(&self.mch_id)?))?),
            None => None,
        };
        let verifier = Merchant::verifier(
            &self.appid,
            &self.mch_id,
            self.sign_type,
            self.sub_mch_id
                .as_deref()
                .map(|s| (s, self.sub_appid.clone())),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                backup: self.failover,
                sandbox: self.sandbox,
                http: plain,
                pools,
                nonce: self.nonce,
                clock: self.clock,
                retry: self.retry,
                poll_interval: self.poll_interval,
                poll_window: self.poll_window,
                max_bill_bytes: self.max_bill_bytes,
                max_streamed_bill_bytes: self.max_streamed_bill_bytes,
                bank_key: crate::payout::BankKeySource {
                    url: self.bank_key.url,
                    pin: self.bank_key.pin,
                    preset: None,
                },
            }),
            merchant: Arc::new(Merchant {
                appid: self.appid,
                mch_id: self.mch_id,
                key: self.key,
                sign_type: self.sign_type,
                sub_appid: self.sub_appid,
                sub_mch_id: self.sub_mch_id,
                sandbox_key: Arc::new(tokio::sync::Mutex::new(None)),
                public_key: Arc::new(tokio::sync::Mutex::new(self.bank_key.preset)),
                http_cert: with_cert,
                verifier,
            }),
        })
    }
}

/// A call's result as the `tenpay` span records it.
trait Traced {
    fn error(&self) -> Option<&Error>;
}

impl<T> Traced for Result<T, Error> {
    fn error(&self) -> Option<&Error> {
        self.as_ref().err()
    }
}

impl<T> Traced for Sent<T> {
    fn error(&self) -> Option<&Error> {
        self.result.as_ref().err()
    }
}
