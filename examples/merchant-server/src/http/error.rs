//! API errors: a status and a JSON body `{ "error": code, "reason": text }`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::logging::Escaped;
use crate::payments::OpError;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    reason: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `status` with a code for programs and a reason for people.
    pub fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            code,
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// 429, with `Retry-After` in whole seconds (at least 1).
    #[must_use]
    pub fn limited(limited: super::throttle::Limited) -> Self {
        let secs = limited.retry_after.as_secs_f64().ceil().max(1.0);
        // A bucket refills within minutes: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let secs = secs as u64;
        let who = match limited.scope {
            super::throttle::Scope::User => "this user",
            super::throttle::Scope::Ip => "this address",
        };
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many calls from {who}; try again in {secs} s"),
            )
        }
    }

    /// 401.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.code, "reason": self.reason })),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Invalid(reason) => Self::new(StatusCode::BAD_REQUEST, "invalid", reason),
            OpError::NoPrice(why) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_price",
                why.to_string(),
            ),
            OpError::UnknownOrder => {
                Self::new(StatusCode::NOT_FOUND, "unknown_order", "no such order")
            }
            OpError::UnknownRefund => {
                Self::new(StatusCode::NOT_FOUND, "unknown_refund", "no such refund")
            }
            OpError::Conflict { code, reason } => Self::new(StatusCode::CONFLICT, code, reason),
            OpError::Upstream(e) => {
                let why = crate::logging::report(&e);
                tracing::warn!(error = %Escaped(&why), "WeChat Pay call failed");
                Self::new(StatusCode::BAD_GATEWAY, "wechat_pay", why)
            }
            OpError::Store(e) => {
                tracing::error!(error = %Escaped(&crate::logging::report(&e)), "store failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store",
                    "the order store failed; nothing was changed",
                )
            }
        }
    }
}

/// A JSON body rejection as a 400 with axum's reason.
pub(crate) fn bad_json(e: &axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.body_text())
}
