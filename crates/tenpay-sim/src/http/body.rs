//! The reply body and the one response builder every part of the edge uses (the API
//! listener, the control API, the dashboard): a leaf, so that they depend on it and not on
//! each other.

use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body::{Body, Frame};

/// A reply body that can also stop half way (the `Truncated` fault).
#[derive(Debug)]
pub(crate) struct SimBody {
    data: Option<Bytes>,
    then_fail: bool,
}

impl SimBody {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        Self {
            data: Some(data.into()),
            then_fail: false,
        }
    }

    /// `data`, then an error: hyper aborts the connection mid-body.
    pub(crate) fn cut(data: Bytes) -> Self {
        Self {
            data: Some(data),
            then_fail: true,
        }
    }
}

/// The `Truncated` fault's error, which makes hyper abort the connection mid-body.
#[derive(Debug)]
pub(crate) struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer truncated by an injected fault")
    }
}

impl std::error::Error for Cut {}

impl Body for SimBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        match self.data.take() {
            Some(d) => Poll::Ready(Some(Ok(Frame::data(d)))),
            None if self.then_fail => {
                self.then_fail = false;
                Poll::Ready(Some(Err(Cut)))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && !self.then_fail
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match (&self.data, self.then_fail) {
            (Some(d), false) => http_body::SizeHint::with_exact(d.len() as u64),
            _ => http_body::SizeHint::default(),
        }
    }
}

/// A response of `status` with `content_type` and `body`.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<SimBody> {
    let mut r = Response::new(SimBody::full(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
