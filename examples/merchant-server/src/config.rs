//! Configuration from the environment (or a file of the same `NAME=value` lines, which the
//! environment overrides). Missing or unusable settings are refused with the variable's name:
//! the server never starts half-configured.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `LISTEN` | the public listener: notify URLs and the app's API | `127.0.0.1:8080` |
//! | `ADMIN_LISTEN` | the back office (refunds, cancel, anomalies): plain HTTP, so a loopback or private address | `127.0.0.1:8081` |
//! | `ADMIN_LISTEN_PUBLIC` | `yes`: let `ADMIN_LISTEN` be any address (logged as a warning) | `no` |
//! | `PUBLIC_BASE_URL` | how WeChat Pay reaches the public listener (notify URLs hang off it) | `http://LISTEN` |
//! | `TENPAY_APPID`, `TENPAY_MCH_ID` | the merchant | required |
//! | `TENPAY_API_KEY_FILE` or `TENPAY_API_KEY` (alias `TENPAY_KEY`) | the API key | required |
//! | `TENPAY_SIGN_TYPE` | `MD5` or `HMAC-SHA256` | `HMAC-SHA256` |
//! | `TENPAY_BASE_URL` (alias `WECHAT_BASE_URL`) | WeChat Pay's API | production |
//! | `TENPAY_CERT_P12` (password `TENPAY_CERT_P12_PASSWORD`, default mch_id) or `TENPAY_CERT_PEM` + `TENPAY_KEY_PEM` | the client certificate, for refunds | none: refunds are refused |
//! | `TENPAY_CA_PEM` (alias `WECHAT_CA_PEM`) | extra roots to trust (a simulator's CA) | — |
//! | `DATABASE_URL` | `sqlite://FILE` or `postgres://…` | `sqlite://merchant.db` |
//! | `TENPAY_ADMIN_TOKEN_FILE` or `TENPAY_ADMIN_TOKEN` | the back office's bearer token (≥ 32 characters, ≥ 10 different ones) | required |
//! | `APP_SESSION_SECRET_FILE` or `APP_SESSION_SECRET` | signs the app's session tokens (the same rule) | required |
//!
//! A secret file (`*_FILE`, the certificate's key) readable by its group or others is logged
//! as a warning naming it.
//! | `CATALOGUE_FILE` | the items and their prices, JSON `{"item": {"amount_fen": N, "description": "…"}}` (see `catalogue.example.json`); orders take their amount from it | required unless `Server::pricing` is given |
//! | `APP_SESSION_MAX_LIFETIME_SECS` | a session token claiming a longer life is refused | 2592000 (30 days) |
//! | `TRUSTED_PROXIES` | comma-separated proxy IPs whose `X-Forwarded-For` is believed | none |
//! | `SPBILL_CREATE_IP` | this server's IP, sent for NATIVE orders | `127.0.0.1` |
//! | `HTTP_HEADER_TIMEOUT_SECS`, `HTTP_BODY_TIMEOUT_SECS`, `HTTP_REQUEST_TIMEOUT_SECS` | read and request bounds | 10, 10, 30 |
//! | `HTTP_MAX_CONNECTIONS` | open connections per listener; beyond, a connection is closed at once | 10000 |
//! | `HTTP_MAX_PER_PEER` | open connections from one address (`TRUSTED_PROXIES` exempt) | 64 |
//! | `HTTP_NOTIFY_RESERVE` | connections beyond `HTTP_MAX_CONNECTIONS` kept for the notify URLs | 256 |
//! | `HTTP_FIRST_BYTE_TIMEOUT_SECS` | a new connection that sends nothing is closed after | 3 |
//! | `HTTP_BACKLOG` | the listen backlog (the kernel caps it at `net.core.somaxconn`) | 4096 |
//! | `APP_RATE_USER_PER_MINUTE`, `APP_RATE_USER_BURST` | the app's calls that reach WeChat Pay (orders, attempts, `?refresh=true`) per user: refill a minute, bucket size | 30, 10 |
//! | `APP_RATE_IP_PER_MINUTE`, `APP_RATE_IP_BURST` | the same per client address (after `TRUSTED_PROXIES`) | 120, 40 |
//! | `AUDIT_RETENTION_DAYS` | how long refused notify deliveries are kept | 30 |
//! | `SWEEP_INTERVAL_SECS` | between two sweeps (0: no sweeper) | 60 |
//! | `SWEEP_UNPAID_AFTER_SECS`, `SWEEP_REFUND_AFTER_SECS` | when an unpaid order, a PROCESSING refund is queried | 300, 300 |
//! | `ORDER_TTL_SECS` | a payment attempt's lifetime: its `time_expire` (at least 6 minutes on the wire), then the sweeper closes it | 7200 |
//! | `RECONCILE_HOUR` | reconcile yesterday's bill after this hour, Beijing time (`off`: on demand only) | 10 |
//! | `SWEEP_BATCH`, `SWEEP_CONCURRENCY`, `SWEEP_BACKOFF_SECS` | rows per sweep; looks in flight at once; the first lease, growing per look | 100, 8, 60 |
//! | `LOG` (`tracing` filter), `LOG_FORMAT` (`human` or `json`) | logging | `info`, `human` |

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tenpay_client::Identity;
use tenpay_sign::{ApiKey, SignType};

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// A secret string (admin token, session secret): never shown by `Debug`, and wiped from
/// memory when dropped (`secrecy`).
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    /// A secret of at least `min` characters, not blank.
    ///
    /// # Errors
    /// A description of what is wrong (never the value).
    pub fn new(value: impl Into<String>, min: usize) -> Result<Self, String> {
        let value = value.into();
        if value.trim().is_empty() {
            return Err("is empty or whitespace".into());
        }
        if value.chars().count() < min {
            return Err(format!("must be at least {min} characters"));
        }
        if value.chars().any(char::is_control) {
            return Err("contains control characters".into());
        }
        Ok(Self(value.into()))
    }

    /// A secret that must be hard to guess (the admin token, the session secret): at least
    /// 32 characters, not blank, and at least 10 different characters (`"a"` × 32 and
    /// `"abab…"` are refused).
    ///
    /// # Errors
    /// A description of what is wrong (never the value).
    pub fn strong(value: impl Into<String>) -> Result<Self, String> {
        let secret = Self::new(value, 32)?;
        let distinct = secret
            .expose()
            .chars()
            .collect::<std::collections::HashSet<_>>()
            .len();
        if distinct < 10 {
            return Err(
                "is too easy to guess: use 32 or more random characters (openssl rand -hex 32)"
                    .into(),
            );
        }
        Ok(secret)
    }

    /// The value, for the code that uses it.
    #[must_use]
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret as _;
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// A database URL; its password never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// `sqlite://…` or `postgres://…` / `postgresql://…`.
    ///
    /// # Errors
    /// Any other scheme.
    pub fn new(url: impl Into<String>) -> Result<Self, String> {
        let url = url.into();
        if url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            Ok(Self(url))
        } else {
            Err("must start with sqlite: or postgres://".into())
        }
    }

    /// The full URL, password included, for the driver.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it names PostgreSQL.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // scheme://user:password@host → scheme://user:***@host, and every `password=` in the
        // query string → `password=***`.
        let (base, query) = match self.0.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (self.0.as_str(), None),
        };
        match base.split_once("://") {
            Some((scheme, rest)) if rest.contains('@') => {
                let (userinfo, host) = rest.rsplit_once('@').unwrap_or((rest, ""));
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                write!(f, "{scheme}://{user}:***@{host}")?;
            }
            _ => f.write_str(base)?,
        }
        if let Some(query) = query {
            f.write_str("?")?;
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    f.write_str("&")?;
                }
                match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => write!(f, "{k}=***")?,
                    _ => f.write_str(pair)?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Bounds on every connection of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From accepting a connection (or finishing a response) to the end of the next request's
    /// headers.
    pub header_timeout: Duration,
    /// For the whole request body.
    pub body_timeout: Duration,
    /// For the whole request, handler included.
    pub request_timeout: Duration,
    /// Open connections; further ones are closed at once.
    pub max_connections: usize,
    /// Open connections from one address (trusted proxies exempt).
    pub max_per_peer: usize,
    /// Connections beyond `max_connections` kept for the notify URLs (public listener).
    pub reserved_connections: usize,
    /// A new connection that sends nothing for this long is closed.
    pub first_byte_timeout: Duration,
    /// The listen backlog (capped by the kernel's `somaxconn`).
    pub backlog: u32,
    /// Request body size.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_per_peer: 64,
            reserved_connections: 256,
            first_byte_timeout: Duration::from_secs(3),
            backlog: 4096,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// When and how much the sweeper looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// Between two sweeps (`SWEEP_INTERVAL_SECS`, default 60; 0 turns the sweeper off).
    pub interval: Duration,
    /// An order is queried once it is this old (`SWEEP_UNPAID_AFTER_SECS`, default 300).
    pub unpaid_after: Duration,
    /// A payment attempt's lifetime: its `time_expire`, after which it is closed
    /// (`ORDER_TTL_SECS`, default 7200).
    pub order_ttl: Duration,
    /// A refund is queried once it has been PROCESSING this long
    /// (`SWEEP_REFUND_AFTER_SECS`, default 300).
    pub refund_after: Duration,
    /// Rows claimed per sweep and kind (`SWEEP_BATCH`, default 100).
    pub batch: u32,
    /// Looks in flight at once within a batch (`SWEEP_CONCURRENCY`, default 8).
    pub concurrency: u32,
    /// The first lease; each further look of the same order waits one more
    /// (`SWEEP_BACKOFF_SECS`, default 60).
    pub backoff: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            unpaid_after: Duration::from_secs(300),
            order_ttl: Duration::from_secs(7200),
            refund_after: Duration::from_secs(300),
            batch: 100,
            concurrency: 8,
            backoff: Duration::from_secs(60),
        }
    }
}

/// One bucket's size and refill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Calls refilled per minute.
    pub per_minute: std::num::NonZeroU32,
    /// Calls that may be made at once (the bucket's size).
    pub burst: std::num::NonZeroU32,
}

impl Rate {
    /// `per_minute` calls a minute, `burst` at once (0 is taken as 1).
    #[must_use]
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute: std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN),
            burst: std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN),
        }
    }
}

/// The app API's limits (`APP_RATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per authenticated user (`APP_RATE_USER_PER_MINUTE`, `APP_RATE_USER_BURST`).
    pub per_user: Rate,
    /// Per client address, after trusted proxies (`APP_RATE_IP_PER_MINUTE`,
    /// `APP_RATE_IP_BURST`).
    pub per_ip: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_user: Rate::new(30, 10),
            per_ip: Rate::new(120, 40),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// The merchant server's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The public listener (notify URLs, the app's API). Port 0 picks one.
    pub listen: SocketAddr,
    /// The back office listener.
    pub admin_listen: SocketAddr,
    /// Whether the back office may listen on an address that is neither loopback nor private
    /// (`ADMIN_LISTEN_PUBLIC=yes`; it is plain HTTP).
    pub admin_listen_public: bool,
    /// Public base URL (notify URLs are built from it); `None`: `http://` + the bound address.
    pub public_base_url: Option<String>,
    /// The appid.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// The API key.
    pub api_key: ApiKey,
    /// The sign type.
    pub sign_type: SignType,
    /// WeChat Pay's API base URL.
    pub wechat_base_url: String,
    /// The client certificate, for refunds.
    pub identity: Option<Identity>,
    /// Extra roots to trust, PEM.
    pub extra_ca_pem: Option<String>,
    /// The database.
    pub database_url: DatabaseUrl,
    /// The back office's bearer token.
    pub admin_token: Secret,
    /// The key of the app's session tokens.
    pub session_secret: Secret,
    /// Proxies whose `X-Forwarded-For` names the payer.
    pub trusted_proxies: Vec<IpAddr>,
    /// This server's IP, the `spbill_create_ip` of NATIVE orders.
    pub server_ip: String,
    /// Bounds on the public listener.
    pub public_limits: HttpLimits,
    /// Bounds on the back office listener.
    pub admin_limits: HttpLimits,
    /// How long refused notify deliveries are kept.
    pub audit_retention: Duration,
    /// The sweeper's schedule.
    pub sweep: SweepConfig,
    /// Reconcile yesterday's bill once a day after this hour, Beijing time (`RECONCILE_HOUR`,
    /// default 10; `off`: on demand only).
    pub reconcile_hour: Option<u8>,
    /// The longest a session token may live.
    pub session_max_lifetime: Duration,
    /// The app API's rate limits.
    pub rate_limits: RateLimits,
    /// The prices: the text of `CATALOGUE_FILE` (JSON, read by
    /// [`crate::pricing::Catalogue::from_json`] at start); `None`: [`crate::Server::pricing`]
    /// must give them.
    pub catalogue: Option<String>,
}

impl Config {
    /// The merchant as WeChat Pay knows it: what the client signs for and the notifier
    /// verifies for (one value, given to both).
    #[must_use]
    pub fn merchant(&self) -> tenpay_sign::Merchant {
        tenpay_sign::Merchant::new(
            &self.appid,
            &self.mch_id,
            self.api_key.clone(),
            self.sign_type,
        )
    }

    /// A configuration with every optional setting at its default.
    #[must_use]
    pub fn new(
        appid: &str,
        mch_id: &str,
        api_key: ApiKey,
        admin_token: Secret,
        session_secret: Secret,
    ) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            admin_listen_public: false,
            public_base_url: None,
            appid: appid.to_owned(),
            mch_id: mch_id.to_owned(),
            api_key,
            sign_type: SignType::HmacSha256,
            wechat_base_url: tenpay_client::PRODUCTION_URL.to_owned(),
            identity: None,
            extra_ca_pem: None,
            database_url: DatabaseUrl("sqlite://merchant.db".to_owned()),
            admin_token,
            session_secret,
            trusted_proxies: Vec::new(),
            server_ip: "127.0.0.1".to_owned(),
            public_limits: HttpLimits::default(),
            admin_limits: HttpLimits::default(),
            audit_retention: Duration::from_secs(30 * 86_400),
            sweep: SweepConfig::default(),
            reconcile_hour: Some(10),
            catalogue: None,
            rate_limits: RateLimits::default(),
            session_max_lifetime: Duration::from_secs(30 * 86_400),
        }
    }

    /// Reads the environment.
    ///
    /// # Errors
    /// The first missing or unusable variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads `NAME=value` lines (`#` comments allowed), then lets the environment override.
    ///
    /// # Errors
    /// An unreadable file, or the first missing or unusable variable.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| problem("--config", format!("cannot read {}: {e}", path.display())))?;
        let mut vars = parse_lines(&text);
        vars.extend(std::env::vars());
        Self::from_vars(&vars)
    }

    /// Reads a map of variables.
    ///
    /// # Errors
    /// The first missing or unusable variable.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let v = Vars(vars);
        let api_key = v
            .secret_text(&["TENPAY_API_KEY", "TENPAY_KEY"], "TENPAY_API_KEY_FILE")?
            .ok_or_else(|| problem("TENPAY_API_KEY", "not set (or TENPAY_API_KEY_FILE)"))?;
        let (key_var, key) = api_key;
        if key.trim().is_empty() {
            return Err(problem(key_var, "is empty or whitespace"));
        }
        let api_key = ApiKey::new(key).map_err(|e| problem(key_var, e.to_string()))?;
        let appid = v.required("TENPAY_APPID")?;
        let mch_id = v.required("TENPAY_MCH_ID")?;
        let (token_var, token) = v
            .secret_text(&["TENPAY_ADMIN_TOKEN"], "TENPAY_ADMIN_TOKEN_FILE")?
            .ok_or_else(|| {
                problem(
                    "TENPAY_ADMIN_TOKEN",
                    "not set (or TENPAY_ADMIN_TOKEN_FILE): the back office needs a token",
                )
            })?;
        let admin_token = Secret::strong(token).map_err(|e| problem(token_var, e))?;
        let (secret_var, secret) = v
            .secret_text(&["APP_SESSION_SECRET"], "APP_SESSION_SECRET_FILE")?
            .ok_or_else(|| {
                problem(
                    "APP_SESSION_SECRET",
                    "not set (or APP_SESSION_SECRET_FILE): the app's session tokens need a key",
                )
            })?;
        let session_secret = Secret::strong(secret).map_err(|e| problem(secret_var, e))?;
        let mut c = Self::new(&appid, &mch_id, api_key, admin_token, session_secret);
        if let Some(a) = v.get("LISTEN") {
            c.listen = a.parse().map_err(|e| problem("LISTEN", format!("{e}")))?;
        }
        if let Some(a) = v.get("ADMIN_LISTEN") {
            c.admin_listen = a
                .parse()
                .map_err(|e| problem("ADMIN_LISTEN", format!("{e}")))?;
        }
        c.admin_listen_public = v.yes("ADMIN_LISTEN_PUBLIC")?;
        if let Some(u) = v.get("PUBLIC_BASE_URL") {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(problem("PUBLIC_BASE_URL", "must be an http(s) URL"));
            }
            c.public_base_url = Some(u.trim_end_matches('/').to_owned());
        }
        if let Some(st) = v.get("TENPAY_SIGN_TYPE") {
            c.sign_type = st
                .parse()
                .map_err(|e: tenpay_sign::Error| problem("TENPAY_SIGN_TYPE", e.to_string()))?;
        }
        if let Some((_, u)) = v.first(&["TENPAY_BASE_URL", "WECHAT_BASE_URL"]) {
            c.wechat_base_url = u;
        }
        if let Some((var, path)) = v.first(&["TENPAY_CA_PEM", "WECHAT_CA_PEM"]) {
            c.extra_ca_pem = Some(
                std::fs::read_to_string(&path).map_err(|e| problem(var, format!("{path}: {e}")))?,
            );
        }
        if let Some(u) = v.get("DATABASE_URL") {
            c.database_url = DatabaseUrl::new(u).map_err(|e| problem("DATABASE_URL", e))?;
        }
        if let Some(path) = v.get("CATALOGUE_FILE") {
            c.catalogue = Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| problem("CATALOGUE_FILE", format!("{path}: {e}")))?,
            );
        }
        if let Some(list) = v.get("TRUSTED_PROXIES") {
            c.trusted_proxies = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<IpAddr>())
                .collect::<Result<_, _>>()
                .map_err(|e| problem("TRUSTED_PROXIES", format!("{e}")))?;
        }
        if let Some(ip) = v.get("SPBILL_CREATE_IP") {
            ip.parse::<IpAddr>()
                .map_err(|e| problem("SPBILL_CREATE_IP", format!("{e}")))?;
            c.server_ip = ip;
        }
        let mut limits = HttpLimits::default();
        if let Some(s) = v.number("HTTP_HEADER_TIMEOUT_SECS")? {
            limits.header_timeout = Duration::from_secs(s);
        }
        if let Some(s) = v.number("HTTP_BODY_TIMEOUT_SECS")? {
            limits.body_timeout = Duration::from_secs(s);
        }
        if let Some(s) = v.number("HTTP_REQUEST_TIMEOUT_SECS")? {
            limits.request_timeout = Duration::from_secs(s);
        }
        if let Some(n) = v.number("HTTP_MAX_CONNECTIONS")? {
            limits.max_connections =
                usize::try_from(n).map_err(|_| problem("HTTP_MAX_CONNECTIONS", "too large"))?;
        }
        for (var, slot) in [
            ("HTTP_MAX_PER_PEER", &mut limits.max_per_peer),
            ("HTTP_NOTIFY_RESERVE", &mut limits.reserved_connections),
        ] {
            if let Some(n) = v.number(var)? {
                *slot = usize::try_from(n).map_err(|_| problem(var, "too large"))?;
            }
        }
        if let Some(s) = v.number("HTTP_FIRST_BYTE_TIMEOUT_SECS")? {
            limits.first_byte_timeout = Duration::from_secs(s);
        }
        if let Some(n) = v.number("HTTP_BACKLOG")? {
            limits.backlog = u32::try_from(n).map_err(|_| problem("HTTP_BACKLOG", "too large"))?;
        }
        c.public_limits = limits;
        c.admin_limits = limits;
        for (var, slot) in [
            (
                "APP_RATE_USER_PER_MINUTE",
                &mut c.rate_limits.per_user.per_minute,
            ),
            ("APP_RATE_USER_BURST", &mut c.rate_limits.per_user.burst),
            (
                "APP_RATE_IP_PER_MINUTE",
                &mut c.rate_limits.per_ip.per_minute,
            ),
            ("APP_RATE_IP_BURST", &mut c.rate_limits.per_ip.burst),
        ] {
            if let Some(n) = v.number(var)? {
                *slot = u32::try_from(n)
                    .ok()
                    .and_then(std::num::NonZeroU32::new)
                    .ok_or_else(|| problem(var, "too large"))?;
            }
        }
        if let Some(s) = v.number("APP_SESSION_MAX_LIFETIME_SECS")? {
            c.session_max_lifetime = Duration::from_secs(s);
        }
        if let Some(d) = v.number("AUDIT_RETENTION_DAYS")? {
            c.audit_retention = Duration::from_secs(d.saturating_mul(86_400));
        }
        // 0 turns the sweeper off (as the table says); the other durations must be positive.
        if let Some(s) = v.get("SWEEP_INTERVAL_SECS") {
            let secs = s.trim().parse::<u64>().map_err(|_| {
                problem(
                    "SWEEP_INTERVAL_SECS",
                    "must be a whole number (0: no sweeper)",
                )
            })?;
            c.sweep.interval = Duration::from_secs(secs);
        }
        for (var, field) in [
            ("SWEEP_UNPAID_AFTER_SECS", &mut c.sweep.unpaid_after),
            ("ORDER_TTL_SECS", &mut c.sweep.order_ttl),
            ("SWEEP_REFUND_AFTER_SECS", &mut c.sweep.refund_after),
            ("SWEEP_BACKOFF_SECS", &mut c.sweep.backoff),
        ] {
            if let Some(s) = v.number(var)? {
                *field = Duration::from_secs(s);
            }
        }
        if let Some(h) = v.get("RECONCILE_HOUR") {
            c.reconcile_hour = match h.trim() {
                "off" => None,
                h => Some(
                    h.parse::<u8>()
                        .ok()
                        .filter(|h| *h < 24)
                        .ok_or_else(|| problem("RECONCILE_HOUR", "must be 0 to 23, or off"))?,
                ),
            };
        }
        if let Some(n) = v.number("SWEEP_BATCH")? {
            c.sweep.batch = u32::try_from(n).map_err(|_| problem("SWEEP_BATCH", "too large"))?;
        }
        if let Some(n) = v.number("SWEEP_CONCURRENCY")? {
            c.sweep.concurrency = u32::try_from(n)
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| problem("SWEEP_CONCURRENCY", "must be 1 to 256"))?;
        }
        c.identity = match (
            v.get("TENPAY_CERT_P12"),
            v.get("TENPAY_CERT_PEM"),
            v.get("TENPAY_KEY_PEM"),
        ) {
            (Some(p12), _, _) => {
                warn_if_loose(&p12, "TENPAY_CERT_P12");
                let id = Identity::from_pkcs12_file(&p12)
                    .map_err(|e| problem("TENPAY_CERT_P12", crate::chain::report(&e)))?;
                Some(match v.get("TENPAY_CERT_P12_PASSWORD") {
                    Some(pw) => id.password(pw),
                    None => id,
                })
            }
            (None, Some(cert), Some(key)) => Some({
                warn_if_loose(&key, "TENPAY_KEY_PEM");
                Identity::from_pem_files(&cert, &key)
                    .map_err(|e| problem("TENPAY_CERT_PEM", crate::chain::report(&e)))?
            }),
            (None, Some(_), None) => {
                return Err(problem("TENPAY_KEY_PEM", "TENPAY_CERT_PEM needs it"));
            }
            (None, None, Some(_)) => {
                return Err(problem("TENPAY_CERT_PEM", "TENPAY_KEY_PEM needs it"));
            }
            (None, None, None) => None,
        };
        Ok(c)
    }
}

/// How logs are written, from `LOG` and `LOG_FORMAT`.
///
/// # Errors
/// An unknown `LOG_FORMAT`.
pub fn log_format(vars: &HashMap<String, String>) -> Result<LogFormat, ConfigError> {
    match Vars(vars).get("LOG_FORMAT").as_deref() {
        None | Some("human") => Ok(LogFormat::Human),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => Err(problem("LOG_FORMAT", "must be human or json")),
    }
}

/// `NAME=value` lines; `#` comments and blank lines skipped.
#[must_use]
pub fn parse_lines(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// Logs a warning when the secret file `path` (named by `variable`) is open to its group or
/// others: the check the `tenpay` command makes, shared through `tenpay-client`.
fn warn_if_loose(path: &str, variable: &str) {
    if let Some(w) =
        tenpay_client::secret_file::warning(std::path::Path::new(path), &format!("{variable}:"))
    {
        tracing::warn!("{w}");
    }
}

/// Whether `ip` is reachable only from this machine or a private network: loopback,
/// RFC 1918, link-local, IPv6 unique-local.
#[must_use]
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// The settings `--simulator` takes from the environment over its generated ones: the
/// listeners (and `ADMIN_LISTEN_PUBLIC`), the admin token and session secret (generated only
/// when unset) and the catalogue.
///
/// # Errors
/// The first unusable variable.
pub fn apply_simulator_overrides(
    vars: &HashMap<String, String>,
    c: &mut Config,
) -> Result<(), ConfigError> {
    let v = Vars(vars);
    if let Some(a) = v.get("LISTEN") {
        c.listen = a.parse().map_err(|e| problem("LISTEN", format!("{e}")))?;
    }
    if let Some(a) = v.get("ADMIN_LISTEN") {
        c.admin_listen = a
            .parse()
            .map_err(|e| problem("ADMIN_LISTEN", format!("{e}")))?;
    }
    c.admin_listen_public = v.yes("ADMIN_LISTEN_PUBLIC")?;
    if let Some((var, token)) = v.secret_text(&["TENPAY_ADMIN_TOKEN"], "TENPAY_ADMIN_TOKEN_FILE")? {
        c.admin_token = Secret::strong(token).map_err(|e| problem(var, e))?;
    }
    if let Some((var, secret)) =
        v.secret_text(&["APP_SESSION_SECRET"], "APP_SESSION_SECRET_FILE")?
    {
        c.session_secret = Secret::strong(secret).map_err(|e| problem(var, e))?;
    }
    if let Some(path) = v.get("CATALOGUE_FILE") {
        c.catalogue = Some(
            std::fs::read_to_string(&path)
                .map_err(|e| problem("CATALOGUE_FILE", format!("{path}: {e}")))?,
        );
    }
    Ok(())
}

struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    fn get(&self, k: &str) -> Option<String> {
        self.0.get(k).filter(|v| !v.is_empty()).cloned()
    }

    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    fn required(&self, k: &'static str) -> Result<String, ConfigError> {
        self.get(k).ok_or_else(|| problem(k, "not set"))
    }

    fn yes(&self, k: &'static str) -> Result<bool, ConfigError> {
        match self.get(k).as_deref().map(str::trim) {
            None | Some("no" | "false" | "0") => Ok(false),
            Some("yes" | "true" | "1") => Ok(true),
            Some(_) => Err(problem(k, "must be yes or no")),
        }
    }

    fn number(&self, k: &'static str) -> Result<Option<u64>, ConfigError> {
        self.get(k)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| problem(k, "must be a positive whole number"))
            })
            .transpose()
    }

    /// A secret from the first set variable of `direct`, or else from the file `file` names
    /// (trailing newline trimmed). Setting both is refused: one of them is a mistake.
    fn secret_text(
        &self,
        direct: &[&'static str],
        file: &'static str,
    ) -> Result<Option<(&'static str, String)>, ConfigError> {
        // A variable that is present but empty is a mistake, not an absence.
        for name in direct.iter().chain(std::iter::once(&file)) {
            if self.0.get(*name).is_some_and(|v| v.trim().is_empty()) {
                return Err(problem(name, "is empty or whitespace"));
            }
        }
        match (self.first(direct), self.get(file)) {
            (Some(_), Some(_)) => Err(problem(file, format!("set both {file} and {}", direct[0]))),
            (Some(v), None) => Ok(Some(v)),
            (None, Some(path)) => {
                warn_if_loose(&path, file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| problem(file, format!("{path}: {e}")))?;
                Ok(Some((file, text.trim_end_matches(['\n', '\r']).to_owned())))
            }
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const BASE: [(&str, &str); 5] = [
        ("TENPAY_APPID", "wx2421b1c4370ec43b"),
        ("TENPAY_MCH_ID", "10000100"),
        ("TENPAY_API_KEY", "192006250b4c09247ec02edce69f6a2d"),
        (
            "TENPAY_ADMIN_TOKEN",
            "admin-token-0123456789abcdef0123456789",
        ),
        ("APP_SESSION_SECRET", "session-secret-0123456789abcdef01234"),
    ];

    fn without(name: &str) -> HashMap<String, String> {
        let mut v = vars(&BASE);
        v.remove(name);
        v
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        assert!(Config::from_vars(&vars(&BASE)).is_ok());
        for (name, _) in BASE {
            let e = Config::from_vars(&without(name)).unwrap_err();
            assert_eq!(e.variable, name, "{e}");
        }
    }

    #[test]
    fn blank_secrets_are_refused() {
        let mut v = vars(&BASE);
        v.insert("TENPAY_API_KEY".into(), "   ".into());
        assert_eq!(
            Config::from_vars(&v).unwrap_err().variable,
            "TENPAY_API_KEY"
        );
        let mut v = vars(&BASE);
        v.insert("TENPAY_ADMIN_TOKEN".into(), " ".repeat(40));
        assert_eq!(
            Config::from_vars(&v).unwrap_err().variable,
            "TENPAY_ADMIN_TOKEN"
        );
        let mut v = vars(&BASE);
        v.insert("TENPAY_ADMIN_TOKEN".into(), "short".into());
        assert!(
            Config::from_vars(&v)
                .unwrap_err()
                .to_string()
                .contains("32")
        );
    }

    #[test]
    fn tenpay_key_is_an_alias_and_wechat_base_url_still_read() {
        let mut v = without("TENPAY_API_KEY");
        v.insert(
            "TENPAY_KEY".into(),
            "192006250b4c09247ec02edce69f6a2d".into(),
        );
        v.insert("WECHAT_BASE_URL".into(), "http://127.0.0.1:1".into());
        let c = Config::from_vars(&v).unwrap();
        assert_eq!(c.wechat_base_url, "http://127.0.0.1:1");
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut v = vars(&BASE);
        v.insert(
            "DATABASE_URL".into(),
            "postgres://tenpay:hunter2-password@db:5432/shop".into(),
        );
        let c = Config::from_vars(&v).unwrap();
        let shown = format!("{c:?}");
        for secret in [
            "hunter2-password",
            "192006250b4c09247ec02edce69f6a2d",
            "admin-token-0123",
            "session-secret-0123",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("postgres://tenpay:***@db:5432/shop"),
            "{shown}"
        );
        // In the query string too, and in Display (the startup error prints it).
        for url in [
            "postgres://db:5432/shop?user=tenpay&password=hunter2-password&sslmode=require",
            "postgres://tenpay:hunter2-password@db/shop?PASSWORD=hunter2-password",
        ] {
            let shown = DatabaseUrl::new(url).unwrap().to_string();
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("=***"), "{shown}");
        }
        assert_eq!(
            DatabaseUrl::new("postgres://db/shop?sslmode=require")
                .unwrap()
                .to_string(),
            "postgres://db/shop?sslmode=require"
        );
    }

    #[test]
    fn a_sweep_interval_of_zero_turns_the_sweeper_off() {
        let mut v = vars(&BASE);
        v.insert("SWEEP_INTERVAL_SECS".into(), "0".into());
        assert!(Config::from_vars(&v).unwrap().sweep.interval.is_zero());
        v.insert("SWEEP_INTERVAL_SECS".into(), "-1".into());
        assert!(Config::from_vars(&v).is_err());
        // The other durations stay positive.
        v.insert("SWEEP_INTERVAL_SECS".into(), "30".into());
        v.insert("SWEEP_BACKOFF_SECS".into(), "0".into());
        assert!(Config::from_vars(&v).is_err());
    }
}
