//! Building a [`Client`]: the merchant, the pools, the policies.

use std::sync::Arc;
use std::time::Duration;

use tenpay_sign::SignType;

use super::*;

/// Configures a [`Client`]. Setters never fail; [`ClientBuilder::build`] reports problems.
#[must_use]
pub struct ClientBuilder {
    merchant: Merchant,
    base: String,
    backup: Option<String>,
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
            .field("merchant", &self.merchant)
            .finish_non_exhaustive()
    }
}

/// 32 lowercase hex characters from a random UUID v4.
pub(crate) fn default_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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

    /// The API's base URL: [`PRODUCTION_URL`] (default), [`BACKUP_URL`], or a simulator.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base = url.into();
        self
    }

    /// On transport failures, repeat safe requests against the backup domain,
    /// [`BACKUP_URL`].
    pub fn use_backup(mut self, yes: bool) -> Self {
        self.backup = yes.then(|| BACKUP_URL.to_owned());
        self
    }

    /// On transport failures, repeat safe requests against this URL (another domain, or in
    /// tests a second simulator).
    pub fn backup_url(mut self, url: impl Into<String>) -> Self {
        self.backup = Some(url.into().trim_end_matches('/').to_owned());
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
        for url in std::iter::once(&base).chain(self.backup.as_ref()) {
            check_base_url(url, self.allow_insecure_http)?;
        }
        if self.sandbox.is_some() && !matches!(self.merchant.sign_type(), SignType::Md5) {
            return Err(Error::Config(ConfigError::SandboxMd5Only {
                what: format!("merchant {}", self.merchant.mch_id()),
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
            Some(identity) => Some(pools.pool(Some(identity.load(self.merchant.mch_id())?))?),
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                backup: self.backup,
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
            account: Arc::new(Account {
                merchant: self.merchant,
                sandbox_key: Arc::new(tokio::sync::Mutex::new(None)),
                public_key: Arc::new(tokio::sync::Mutex::new(self.bank_key.preset)),
                http_cert: with_cert,
            }),
        })
    }
}

impl Client {
    /// A builder for a client calling as `merchant` (with its sub-merchant, if it has one).
    pub fn builder(merchant: Merchant) -> ClientBuilder {
        ClientBuilder {
            merchant,
            base: PRODUCTION_URL.to_owned(),
            backup: None,
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
}
