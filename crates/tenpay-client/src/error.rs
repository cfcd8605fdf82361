use tenpay_xml::{ErrCode, IdError};

/// What went wrong with a call. The layers are kept apart: transport, `return_code=FAIL`
/// (protocol), a bad answer signature, `result_code=FAIL` (business).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration or an argument is unusable (base URL, certificate, id, …); nothing
    /// was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `/secapi/` endpoint was called without a client certificate; nothing was sent.
    #[error(
        "{path} needs the merchant's client certificate: configure one with ClientBuilder::identity"
    )]
    NoIdentity {
        /// The endpoint.
        path: String,
    },
    /// The request could not be built (a field XML cannot carry, …); nothing was sent.
    #[error("the request cannot be built; nothing was sent")]
    Request(#[source] tenpay_xml::Error),
    /// Connecting, sending or receiving failed, or timed out (the cause is reqwest's error;
    /// see [`Error::is_timeout`], [`Error::is_connect`]).
    #[error("transport")]
    Transport(#[source] reqwest::Error),
    /// The answer (or an inflated bill) is larger than the limit; it was not read further and
    /// is not retried.
    #[error("answer larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Writing a streamed bill to its writer failed.
    #[error("writing the bill failed")]
    Write(#[source] std::io::Error),
    /// Reading a bill or fund flow from its reader ([`BillReader`](crate::BillReader)) failed
    /// (text that is not UTF-8 is [`Error::NotXml`] instead).
    #[error("reading the bill failed")]
    ReadBill(#[source] std::io::Error),
    /// The server answered with a status other than 200.
    #[error("HTTP {status}: {excerpt:?}")]
    Http {
        /// The status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// The answer is not the XML envelope (an HTML error page, a truncated body, …).
    #[error("answer is not a WeChat Pay message ({reason}): {excerpt:?}")]
    NotXml {
        /// Why it was refused.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// `return_code=FAIL`: the request was refused at the protocol level (signature, format,
    /// missing parameter, …).
    #[error("return_code=FAIL: {return_msg}")]
    Protocol {
        /// `return_msg`.
        return_msg: String,
    },
    /// A success answer without a valid signature (made with the request's algorithm and key).
    #[error("the answer's signature does not verify")]
    BadSignature(#[source] tenpay_xml::Error),
    /// A success answer for another merchant.
    #[error("answer is for {field} {received:?}, not this merchant")]
    ForeignAnswer {
        /// `appid` or `mch_id`.
        field: &'static str,
        /// The value received.
        received: String,
    },
    /// A verified answer about another order or amount than the request's (an orderquery
    /// SUCCESS for a payment-code number used with another amount).
    #[error("the answer's {field} is {received:?}, the request's {expected:?}")]
    Mismatch {
        /// The field.
        field: &'static str,
        /// The request's value.
        expected: String,
        /// The answer's value.
        received: String,
    },
    /// `result_code=FAIL`.
    #[error("{err_code}: {err_code_des}")]
    Business {
        /// `err_code`.
        err_code: ErrCode,
        /// `err_code_des`.
        err_code_des: String,
    },
    /// The verified answer does not decode into the typed response.
    #[error("the answer does not decode")]
    Decode(#[source] tenpay_xml::Error),
}

impl Error {
    /// The `err_code` of a business failure.
    #[must_use]
    pub fn err_code(&self) -> Option<&ErrCode> {
        match self {
            Self::Business { err_code, .. } => Some(err_code),
            _ => None,
        }
    }

    /// Whether the outcome is unknown and repeating the same request is the documented remedy:
    /// transport failures, HTTP 5xx, non-XML answers, SYSTEMERROR, BIZERR_NEED_RETRY.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::NotXml { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            Self::Business { err_code, .. } => err_code.is_retryable(),
            _ => false,
        }
    }

    /// Whether this was a timeout.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(e) if e.is_timeout())
    }

    /// Whether connecting failed (nothing reached the server).
    #[must_use]
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Transport(e) if e.is_connect())
    }
}

/// Why a configuration or an argument is unusable. Each variant names what is wrong; causes
/// are its `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A base URL that is not `https://` (plain `http://` is accepted for loopback hosts, or
    /// with `ClientBuilder::allow_insecure_http`).
    #[error(
        "base URL {url:?} is not https (plain http only to loopback, or with allow_insecure_http)"
    )]
    BaseUrl {
        /// The URL.
        url: String,
    },
    /// The sandbox signs with MD5 only.
    #[error("{what} needs HMAC-SHA256; the sandbox accepts MD5 signatures only")]
    SandboxMd5Only {
        /// The client, or the endpoint that requires HMAC-SHA256.
        what: String,
    },
    /// `request_body` cannot sign in sandbox mode (the sandbox key is fetched by `execute`).
    #[error("request_body signs with the API key; the sandbox key is fetched by execute")]
    SandboxRequestBody,
    /// The sandbox answered with an unusable sign key.
    #[error("the sandbox's sign key is unusable")]
    SandboxKey(#[source] tenpay_sign::Error),
    /// A merchant number (`out_trade_no`, `out_refund_no`) of the wrong form.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A `bill_date` that is not a `yyyyMMdd` day.
    #[error("bill_date must be yyyyMMdd, got {0:?}")]
    BillDate(String),
    /// WeChat Pay's RSA key for bank payments is unusable (not PKCS#1 or SPKI PEM), or a
    /// text is too long to encrypt under it.
    #[error("WeChat Pay's public key: {0}")]
    PublicKey(String),
    /// A raw call marked as moving money made with `Client::call` (or one not marked made
    /// with `Client::call_money`): its outcome must be judged over every attempt.
    #[error("{path} moves money: call it with Client::call_money, marked RawCall::moves_money")]
    MovesMoney {
        /// The path.
        path: String,
    },
    /// No host to fetch WeChat Pay's RSA key for bank payments from: the base URL is not
    /// production, and `ClientBuilder::bank_key_url` is not set.
    #[error(
        "base URL {base:?} is not production: set ClientBuilder::bank_key_url to fetch the bank payment key"
    )]
    BankKeyHost {
        /// The base URL.
        base: String,
    },
    /// A raw call's path that is not a V2 path.
    #[error("not a V2 path: {0:?}")]
    Path(String),
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The client certificate or its key is unusable.
    #[error("client certificate: {what}")]
    Certificate {
        /// What is wrong.
        what: &'static str,
        /// The decoder's or TLS library's error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An extra root certificate is unusable.
    #[error("root certificate")]
    RootCertificate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The TLS configuration could not be built.
    #[error("TLS configuration")]
    Tls(#[source] rustls::Error),
    /// The HTTP client could not be built.
    #[error("HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl ConfigError {
    pub(crate) fn certificate(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Certificate {
            what,
            source: Some(Box::new(source)),
        }
    }
}

pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .collect()
}

impl From<IdError> for Error {
    fn from(e: IdError) -> Self {
        Self::Config(ConfigError::Id(e))
    }
}

/// A `result_code=FAIL` error with `code`, for the unit tests.
#[cfg(test)]
pub(crate) fn business(code: &str) -> Error {
    Error::Business {
        err_code: ErrCode::from(code),
        err_code_des: String::new(),
    }
}
