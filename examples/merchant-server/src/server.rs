//! Starting and stopping the server: the store, the client, both listeners and the pruning of
//! refused deliveries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tenpay_client::Client;
use tenpay_notify::Notifier;
use tokio::task::JoinHandle;

use crate::auth::{AdminToken, Authenticate, SessionTokens, SharedAuthenticator};
use crate::config::Config;
use crate::http::{self, Serving};
use crate::payments::Payments;
use crate::pricing::{Catalogue, Pricing, SharedPricing};
use crate::store::{Store, StoreError};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database {url}")]
    Store {
        /// The URL, password hidden.
        url: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The WeChat Pay client could not be built (base URL, certificate, CA).
    #[error("WeChat Pay client")]
    Client(#[source] tenpay_client::Error),
    /// The back office would listen on a public address without `ADMIN_LISTEN_PUBLIC=yes`.
    #[error(
        "ADMIN_LISTEN: {0} is neither loopback nor private, and the back office is plain HTTP; put it on a private address, or set ADMIN_LISTEN_PUBLIC=yes"
    )]
    AdminExposed(SocketAddr),
    /// The catalogue (`CATALOGUE_FILE`) is unusable.
    #[error("CATALOGUE_FILE")]
    Catalogue(#[source] crate::pricing::CatalogueError),
    /// Orders would have no price: neither `CATALOGUE_FILE` nor [`Server::pricing`].
    #[error("CATALOGUE_FILE: not set, and no Server::pricing: orders would have no price")]
    NoPricing,
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({which})")]
    Bind {
        /// `public` or `admin`.
        which: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The server, configured; [`Server::start`] runs it.
pub struct Server {
    config: Config,
    authenticator: Option<SharedAuthenticator>,
    pricing: Option<SharedPricing>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("authenticator", &self.authenticator.is_some())
            .field("pricing", &self.pricing.is_some())
            .finish()
    }
}

impl Server {
    /// The server for `config`; the app's API authenticates with [`SessionTokens`] signed by
    /// `config.session_secret` unless [`Server::authenticator`] replaces them.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            config,
            authenticator: None,
            pricing: None,
        }
    }

    /// Prices orders with your own [`Pricing`] instead of the configuration's catalogue.
    #[must_use]
    pub fn pricing(mut self, p: impl Pricing) -> Self {
        self.pricing = Some(Arc::new(p));
        self
    }

    /// Authenticates the app's API with your own sessions.
    #[must_use]
    pub fn authenticator(mut self, a: impl Authenticate) -> Self {
        self.authenticator = Some(Arc::new(a));
        self
    }

    /// The store and the client of a configuration, without listeners: for commands
    /// (`merchant-server reconcile`) that run one operation and exit.
    ///
    /// # Errors
    /// [`StartError::Store`], [`StartError::Client`].
    pub async fn connect(config: &Config) -> Result<(Store, Client), StartError> {
        let store = Store::connect(&config.database_url)
            .await
            .map_err(|source| StartError::Store {
                url: config.database_url.to_string(),
                source,
            })?;
        let mut builder = Client::builder(config.merchant()).base_url(&config.wechat_base_url);
        if let Some(identity) = &config.identity {
            builder = builder.identity(identity.clone());
        } else {
            tracing::warn!(
                "no client certificate (TENPAY_CERT_P12 or TENPAY_CERT_PEM): refunds will be refused"
            );
        }
        if let Some(ca) = &config.extra_ca_pem {
            builder = builder.add_root_certificate_pem(ca.clone());
        }
        let client = builder.build().map_err(StartError::Client)?;
        Ok((store, client))
    }

    /// Opens the store (migrating it), builds the client, binds both listeners and serves.
    ///
    /// # Errors
    /// [`StartError`].
    pub async fn start(self) -> Result<Running, StartError> {
        let config = self.config;
        if !crate::config::is_private(config.admin_listen.ip()) {
            if !config.admin_listen_public {
                return Err(StartError::AdminExposed(config.admin_listen));
            }
            tracing::warn!(
                admin = %config.admin_listen,
                "the back office listens on a public address, over plain HTTP (ADMIN_LISTEN_PUBLIC=yes)"
            );
        }
        let pricing = match (self.pricing, &config.catalogue) {
            (Some(p), _) => p,
            (None, Some(json)) => {
                Arc::new(Catalogue::from_json(json).map_err(StartError::Catalogue)?)
                    as SharedPricing
            }
            (None, None) => return Err(StartError::NoPricing),
        };
        let (store, client) = Self::connect(&config).await?;
        let notifier = Notifier::new(&config.merchant());
        let bind = |which, addr, backlog| {
            http::bind(addr, backlog).map_err(|source| StartError::Bind {
                which,
                addr,
                source,
            })
        };
        let public_listener = bind("public", config.listen, config.public_limits.backlog)?;
        let admin_listener = bind("admin", config.admin_listen, config.admin_limits.backlog)?;
        let public_addr = public_listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                which: "public",
                addr: config.listen,
                source,
            })?;
        let public_base_url = config
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{public_addr}"));
        let payments = Payments::new(
            client,
            store.clone(),
            public_base_url,
            config.server_ip.clone(),
        )
        .attempt_ttl(config.sweep.order_ttl)
        .pricing(pricing);
        let tokens = SessionTokens::new(config.session_secret.clone())
            .max_lifetime(config.session_max_lifetime);
        let authenticator = self
            .authenticator
            .unwrap_or_else(|| Arc::new(tokens.clone()));
        // Revocations made by any instance, before the first request and then every 5 s.
        let window = config.session_max_lifetime;
        crate::auth::load_revocations(&store, authenticator.as_ref(), window).await;
        let revocations = tokio::spawn({
            let (store, authenticator) = (store.clone(), Arc::clone(&authenticator));
            async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    crate::auth::load_revocations(&store, authenticator.as_ref(), window).await;
                }
            }
        });
        let throttle = Arc::new(http::throttle::Throttle::new(config.rate_limits));
        let edge = http::Edge {
            unlimited_peers: config.trusted_proxies.clone().into(),
            reserve_prefix: Some("/wechat/notify/"),
            stats: Arc::default(),
        };
        let public_router = http::public::router(
            payments.clone(),
            &notifier,
            Arc::clone(&authenticator),
            config.trusted_proxies.clone(),
            Arc::clone(&throttle),
        );
        let sweep_stats = Arc::new(crate::sweeper::SweepStats::default());
        let admin_router = http::admin::router(
            payments.clone(),
            AdminToken::new(config.admin_token.clone()),
            authenticator,
            http::admin::Stats {
                sweep: Arc::clone(&sweep_stats),
                throttle,
                edge: Arc::clone(&edge.stats),
            },
        );
        let public = http::serve(public_listener, public_router, config.public_limits, edge)
            .map_err(|source| StartError::Bind {
                which: "public",
                addr: config.listen,
                source,
            })?;
        let admin = http::serve(
            admin_listener,
            admin_router,
            config.admin_limits,
            http::Edge::default(),
        )
        .map_err(|source| StartError::Bind {
            which: "admin",
            addr: config.admin_listen,
            source,
        })?;
        let pruner = tokio::spawn(prune_refused(store.clone(), config.audit_retention));
        let background = vec![pruner, revocations];
        let reconciler = config
            .reconcile_hour
            .map(|h| tokio::spawn(crate::reconcile::daily(payments.clone(), h)));
        let sweeper = (!config.sweep.interval.is_zero()).then(|| {
            tokio::spawn(crate::sweeper::run(
                payments.clone(),
                config.sweep,
                Arc::clone(&sweep_stats),
            ))
        });
        tracing::info!(public = %public.addr(), admin = %admin.addr(), "merchant server started");
        Ok(Running {
            public,
            admin,
            payments,
            tokens,
            background,
            sweeper,
            reconciler,
        })
    }
}

/// Deletes refused deliveries older than the retention, at start and then hourly.
async fn prune_refused(store: Store, retention: Duration) {
    let retention = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    loop {
        let now = crate::clock::unix_now();
        match store.prune_refused(now.saturating_sub(retention)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "refused notifications pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning refused notifications failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// A running merchant server.
#[derive(Debug)]
pub struct Running {
    public: Serving,
    admin: Serving,
    payments: Payments,
    tokens: SessionTokens,
    background: Vec<JoinHandle<()>>,
    sweeper: Option<JoinHandle<()>>,
    reconciler: Option<JoinHandle<()>>,
}

impl Running {
    /// The public listener's base URL (notify URLs, the app's API).
    #[must_use]
    pub fn public_url(&self) -> String {
        format!("http://{}", self.public.addr())
    }

    /// The back office's base URL.
    #[must_use]
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin.addr())
    }

    /// The public listener's address.
    #[must_use]
    pub fn public_addr(&self) -> SocketAddr {
        self.public.addr()
    }

    /// The back office's address.
    #[must_use]
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.addr()
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        self.payments.store()
    }

    /// The session tokens of the app's API (for your login endpoint).
    #[must_use]
    pub fn session_tokens(&self) -> &SessionTokens {
        &self.tokens
    }

    /// Stops accepting on both listeners, finishes requests in flight, and waits.
    pub async fn shutdown(self) {
        for task in &self.background {
            task.abort();
        }
        for task in [&self.sweeper, &self.reconciler].into_iter().flatten() {
            task.abort();
        }
        tokio::join!(self.public.shutdown(), self.admin.shutdown());
    }

    /// Stops at once, as a crash would.
    pub fn kill(self) {
        for task in &self.background {
            task.abort();
        }
        for task in [&self.sweeper, &self.reconciler].into_iter().flatten() {
            task.abort();
        }
        self.public.kill();
        self.admin.kill();
    }
}
