//! The v3 client's errors.

use tenpay_sign_v3::{DecryptError, KeyError, SignError, VerifyError};

/// A v3 error answer: the status and the JSON error body `{code, message, detail}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// `PARAM_ERROR`, `SIGN_ERROR`, `ORDER_NOT_EXIST`, `SYSTEM_ERROR`, … (empty when the
    /// body had none).
    pub code: String,
    /// The message, in words.
    pub message: String,
    /// `detail`, as sent (for `SIGN_ERROR`: the message WeChat Pay checked).
    pub detail: Option<serde_json::Value>,
    /// `Request-ID`, to quote to WeChat Pay's support.
    pub request_id: Option<String>,
}

impl ApiError {
    /// Whether WeChat Pay says the request was not processed and the same request may be
    /// sent again: 5xx, and 429 (for a refund "not a clear refusal": repeat it with the same
    /// `out_refund_no`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.status >= 500 || self.status == 429
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} {}: {}", self.status, self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {id})")?;
        }
        Ok(())
    }
}

/// Why a v3 call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeChat Pay answered with an error status and body. For a call that moves money this
    /// is a definite refusal only when no earlier attempt was in doubt (otherwise the call
    /// ends [`Error::InDoubt`]).
    #[error("WeChat Pay refused: {0}")]
    Api(ApiError),
    /// The answer's signature failed: it may be forged, so nothing in it is believed.
    #[error("the answer's signature failed")]
    Verify(#[source] VerifyError),
    /// No answer (connect, timeout, a dropped connection, an unreadable body).
    #[error("transport")]
    Transport(#[source] reqwest::Error),
    /// The answer is over the client's limit.
    #[error("the answer is over {0} bytes")]
    TooLarge(usize),
    /// The answer is not the JSON expected.
    #[error("the answer is not the JSON expected: {0}")]
    Decode(String),
    /// The request could not be signed.
    #[error("the request could not be signed")]
    Sign(#[source] SignError),
    /// The request could not be made (a bad field).
    #[error("bad request: {0}")]
    Request(String),
    /// A downloaded certificate did not decrypt.
    #[error("a downloaded certificate did not decrypt")]
    Decrypt(#[source] DecryptError),
    /// A key or certificate is unusable.
    #[error("a key or certificate is unusable")]
    Key(#[source] KeyError),
    /// A downloaded bill is not the one the link describes.
    #[error("the bill's SHA-1 is {actual}, the link says {expected}")]
    HashMismatch {
        /// The link's `hash_value`.
        expected: String,
        /// What the downloaded bill hashes to.
        actual: String,
    },
    /// The client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Config(String),
    /// A call that moves money may have been applied: an attempt's answer was lost, and the
    /// repeats did not settle it. Query it (by its `out_refund_no`) or repeat it with the
    /// same number; never treat it as not done.
    #[error("the outcome is unknown (an attempt may have been applied): {last}")]
    InDoubt {
        /// The last attempt's error.
        last: Box<Self>,
    },
}

impl Error {
    /// Whether this attempt's outcome is unknown: it may have been processed (no answer, an
    /// unverifiable one, a 5xx or a 429).
    #[must_use]
    pub fn is_in_doubt(&self) -> bool {
        match self {
            Self::Api(a) => a.is_retryable(),
            Self::Verify(_) | Self::Transport(_) | Self::TooLarge(_) | Self::Decode(_) => true,
            Self::InDoubt { .. } => true,
            _ => false,
        }
    }

    /// The error answer, if WeChat Pay gave one.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(a) => Some(a),
            Self::InDoubt { last } => last.api(),
            _ => None,
        }
    }
}
