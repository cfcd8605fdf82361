use std::sync::Arc;
use std::time::{Duration, Instant};

use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::XmlMap;

use crate::answer::{Answer, Verifier};
use crate::endpoint::{Endpoint, Host, Route};
use crate::error::excerpt;
use crate::merchant::Merchant;
use crate::outcome::{Attempts, Fate, MovesMoney, Outcome, Refused, Sent, judge};
use crate::{ConfigError, Error, Identity, RetryPolicy};

pub(crate) mod builder;
mod sandbox;
mod signing;
mod transport;
pub(crate) mod url;

pub use builder::ClientBuilder;
pub(crate) use builder::default_nonce;
pub use sandbox::Sandbox;
pub(crate) use transport::transport;
use url::check_base_url;
pub use url::{BACKUP_URL, PRODUCTION_URL};

type NonceFn = dyn Fn() -> String + Send + Sync;
type ClockFn = dyn Fn() -> i64 + Send + Sync;

/// A WeChat Pay V2 client for one merchant configuration. Cheap to clone.
///
/// ```no_run
/// use tenpay_client::{Client, Merchant, OutTradeNo, UnifiedOrder};
/// use tenpay_sign::{ApiKey, SignType};
/// use tenpay_xml::Fen;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let merchant = Merchant::new("wx2421b1c4370ec43b", "10000100", ApiKey::new("your-32-character-api-key.......")?, SignType::HmacSha256);
/// let client = Client::builder(merchant)
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
    pub(crate) account: Arc<Account>,
}

/// The merchant side of a client: the [`Merchant`] and what is kept per merchant.
pub(crate) struct Account {
    pub(crate) merchant: Merchant,
    /// The sandbox key of this mch_id (shared by its sub-merchant and appid views).
    pub(crate) sandbox_key: Arc<tokio::sync::Mutex<Option<(ApiKey, Instant)>>>,
    /// WeChat Pay's RSA key for bank payments, fetched once per mch_id and kept.
    pub(crate) public_key: Arc<tokio::sync::Mutex<Option<crate::PublicKey>>>,
    /// A connection pool that presents this mch_id's certificate.
    pub(crate) http_cert: Option<reqwest::Client>,
}

impl Account {
    /// Another merchant view (a sub-merchant, another appid) with this one's caches and
    /// certificate.
    fn view(&self, merchant: Merchant) -> Self {
        Self {
            merchant,
            sandbox_key: Arc::clone(&self.sandbox_key),
            public_key: Arc::clone(&self.public_key),
            http_cert: self.http_cert.clone(),
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
    pub(crate) base: String,
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
        let (i, a) = (&self.inner, &self.account);
        f.debug_struct("Client")
            .field("merchant", &a.merchant)
            .field("base_url", &i.base)
            .field("sandbox", &i.sandbox)
            .field("identity", &a.http_cert.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Who this client calls as: the merchant, and its sub-merchant in service-provider mode.
    #[must_use]
    pub fn merchant(&self) -> &Merchant {
        &self.account.merchant
    }

    /// Calls an endpoint: signs the request, sends it (retrying only where repeating is safe),
    /// verifies and decodes the answer.
    ///
    /// # Errors
    /// See [`Error`].
    ///
    /// An endpoint that moves money ([`Route::moving_money`]) does not compile here: its
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
                !E::ROUTE.moves_money,
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
                E::ROUTE.moves_money,
                "a MovesMoney endpoint's route must be moving_money()"
            );
        }
        let sent = self
            .traced::<E, _>(Some(request.number()), self.send_typed(request))
            .await;
        judge(request.number(), sent, E::read_code)
    }

    /// Signs and sends a typed request; every attempt's fate with the last result.
    pub(crate) async fn send_typed<E: Endpoint>(&self, request: &E) -> Sent<E::Response> {
        let route = E::ROUTE;
        match request.to_map() {
            Ok(map) => self.send(&route, map, E::decode).await,
            Err(e) => Sent::unsent(Error::Request(e)),
        }
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
        let merchant = self
            .merchant()
            .clone()
            .with_sub_merchant(sub_mch_id, sub_appid);
        self.viewed_as(merchant)
    }

    /// Another app of the same merchant (a mini program beside an APP on one mch_id), sharing
    /// the pools, the key and the certificate.
    #[must_use]
    pub fn with_appid(&self, appid: impl Into<String>) -> Self {
        let merchant = self.merchant().clone().with_appid(appid);
        self.viewed_as(merchant)
    }

    fn viewed_as(&self, merchant: Merchant) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            account: Arc::new(self.account.view(merchant)),
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
        merchant: Merchant,
        identity: Option<&Identity>,
    ) -> Result<Self, Error> {
        if self.inner.sandbox.is_some() && !matches!(merchant.sign_type(), SignType::Md5) {
            return Err(Error::Config(ConfigError::SandboxMd5Only {
                what: format!("merchant {}", merchant.mch_id()),
            }));
        }
        let http_cert = match identity {
            Some(id) => Some(self.inner.pools.pool(Some(id.load(merchant.mch_id())?))?),
            None => None,
        };
        Ok(Self {
            inner: Arc::clone(&self.inner),
            account: Arc::new(Account {
                merchant,
                sandbox_key: Arc::new(tokio::sync::Mutex::new(None)),
                public_key: Arc::new(tokio::sync::Mutex::new(None)),
                http_cert,
            }),
        })
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
            self.merchant().key(),
            Answer {
                body: bytes::Bytes::copy_from_slice(body),
                inflate_limit: self.inner.max_bill_bytes,
            },
        )
    }

    async fn execute_inner<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        self.send_typed(request).await.result
    }

    /// [`Client::execute`], returning the answer's body as received beside what it decodes
    /// to: the bytes whose signature was checked, to keep as evidence (a re-serialised map
    /// is not what WeChat Pay signed).
    ///
    /// # Errors
    /// As [`Client::execute`].
    pub async fn execute_answered<E: Endpoint>(
        &self,
        request: &E,
    ) -> Result<(E::Response, Answer), Error> {
        const {
            assert!(
                !E::ROUTE.moves_money,
                "this endpoint moves money: call it with Client::execute_money"
            );
        }
        let route = E::ROUTE;
        let call = async {
            let map = request.to_map().map_err(Error::Request)?;
            self.send(&route, map, |verifier, key, answer| {
                let kept = answer.clone();
                E::decode(verifier, key, answer).map(|r| (r, kept))
            })
            .await
            .result
        };
        self.traced::<E, _>(request.out_trade_no(), call).await
    }

    /// The base URL requests go to.
    pub(crate) fn base(&self) -> &str {
        &self.inner.base
    }

    /// The largest bill accepted, compressed or inflated.
    pub(crate) fn max_streamed_bill_bytes(&self) -> u64 {
        self.inner.max_streamed_bill_bytes
    }
}
