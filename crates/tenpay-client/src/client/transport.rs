//! Sending: the signed body posted, bounded reads, the retry loop with every attempt's fate,
//! the tracing span of a call.

use tracing::Instrument as _;

use super::*;
use crate::MerchantExt as _;

impl Client {
    /// Runs `call` in the `tenpay` span (endpoint, number, err_code, latency).
    pub(crate) async fn traced<E: Endpoint, T: Traced>(
        &self,
        number: Option<&str>,
        call: impl Future<Output = T>,
    ) -> T {
        let span = tracing::info_span!(
            "tenpay",
            endpoint = E::ROUTE.path(),
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
        let verifier = self.merchant().verifier(route);
        let limit = if route.large_answer {
            inner.max_bill_bytes
        } else {
            MAX_ANSWER_BYTES
        };
        let mut attempt = 0u32;
        let mut attempts = Attempts::default();
        loop {
            let result = match self.url(route, attempt) {
                Ok(url) => match self.post(http, &url, body.clone(), limit).await {
                    Ok(answer) => decode(&verifier, key, answer),
                    Err(e) => Err(e),
                },
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

    /// Where attempt `attempt` (0 first) of a route is posted: the base URL (the backup's
    /// for repeats, when one is set) with the sandbox prefix, or the risk host.
    ///
    /// # Errors
    /// [`ConfigError::BankKeyHost`] for the risk host off production with no URL set.
    pub(crate) fn url(&self, route: &Route<'_>, attempt: u32) -> Result<String, Error> {
        let inner = &self.inner;
        match route.host {
            Host::Api => {
                let base = match (&inner.backup, attempt) {
                    (Some(backup), n) if n > 0 => backup.as_str(),
                    _ => inner.base.as_str(),
                };
                let prefix = inner.sandbox.map_or("", Sandbox::prefix);
                Ok(format!("{base}{prefix}{}", route.path()))
            }
            Host::Risk => Ok(format!(
                "{}{}",
                inner.bank_key.host(&inner.base)?,
                route.path()
            )),
            Host::FacePay => Ok(format!(
                "{}{}",
                url::face_pay_base(&inner.base),
                route.path()
            )),
        }
    }

    /// Signs and sends `request` once (no retry, no backup) and returns the response
    /// unread, for answers streamed to a writer. Redirects are never followed.
    pub(crate) async fn open<E: Endpoint>(&self, request: &E) -> Result<reqwest::Response, Error> {
        let route = E::ROUTE;
        let map = request.to_map().map_err(Error::Request)?;
        let (http, _, body) = self.prepare(&route, map).await?;
        http.post(self.url(&route, 0)?)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(transport)
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
        let response = http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        self.read_body(response, limit).await
    }

    /// GETs a signed URL (the H5 signing page's) and reads the answer as `post` does.
    /// Errors never carry the URL, whose query is the signed request.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        url: &str,
        limit: usize,
    ) -> Result<Answer, Error> {
        let response = http
            .get(url)
            .send()
            .await
            .map_err(|e| transport(e.without_url()))?;
        self.read_body(response, limit).await.map_err(|e| match e {
            Error::Transport(e) => Error::Transport(e.without_url()),
            other => other,
        })
    }

    /// An answer's body, at most `limit` bytes (checked against Content-Length first, then
    /// while streaming); a status other than 200 is [`Error::Http`].
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        limit: usize,
    ) -> Result<Answer, Error> {
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
}

pub(crate) fn transport(e: reqwest::Error) -> Error {
    // reqwest's error names the URL, which carries no secret here (no query string).
    Error::Transport(e)
}

/// A call's result as the `tenpay` span records it.
pub(crate) trait Traced {
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
