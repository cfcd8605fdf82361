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
}

impl ApiError {
    /// An error of `status` with a code for programs and a reason for people.
    pub fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            code,
            reason: reason.into(),
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
        (
            self.status,
            Json(json!({ "error": self.code, "reason": self.reason })),
        )
            .into_response()
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
