//! Signing through the client: the key (the API key, or the sandbox's), the sign type the
//! route and the sandbox allow, the certificate's pool; the signing itself is
//! [`sign_map`], the one signing function.

use super::*;
use crate::MerchantExt as _;
use crate::merchant::sign_map;

impl Client {
    /// The signed XML body of a request, as [`Client::execute`] would send it (with a fresh
    /// nonce): for your own HTTP stack, or to see what is signed. Without a client, see
    /// [`MerchantExt::sign`](crate::MerchantExt::sign).
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry; [`Error::Config`] in sandbox mode, whose
    /// key is fetched by `execute`.
    pub fn request_body<E: Endpoint>(&self, request: &E) -> Result<String, Error> {
        if self.inner.sandbox.is_some() {
            return Err(Error::Config(ConfigError::SandboxRequestBody));
        }
        let route = E::ROUTE;
        let sign_type = self.sign_type_on(&route)?;
        let map = request.to_map().map_err(Error::Request)?;
        let merchant = self.merchant();
        sign_map(
            merchant,
            &route,
            sign_type,
            merchant.key(),
            map,
            &(self.inner.nonce)(),
        )
        .map_err(Error::Request)
    }

    /// The algorithm requests on `route` are signed with: the route's own when it has one
    /// (HMAC-SHA256 for downloadfundflow), else the merchant's.
    ///
    /// # Errors
    /// [`Error::Config`] when the route needs HMAC-SHA256 and the client uses the sandbox,
    /// whose key signs MD5 only.
    pub(crate) fn sign_type_on(&self, route: &Route<'_>) -> Result<SignType, Error> {
        match route.sign_type {
            Some(SignType::HmacSha256) if self.inner.sandbox.is_some() => {
                Err(Error::Config(ConfigError::SandboxMd5Only {
                    what: route.path().to_owned(),
                }))
            }
            _ => Ok(self.merchant().sign_type_for(route)),
        }
    }

    /// The pool a route is sent through (the certificate's when the route needs it), the
    /// signing key, and the signed body.
    pub(crate) async fn prepare(
        &self,
        route: &Route<'_>,
        map: XmlMap,
    ) -> Result<(&reqwest::Client, ApiKey, String), Error> {
        let sign_type = self.sign_type_on(route)?;
        let http = self.pool_for(route)?;
        let key = self.signing_key().await?;
        let body = sign_map(
            self.merchant(),
            route,
            sign_type,
            &key,
            map,
            &(self.inner.nonce)(),
        )
        .map_err(Error::Request)?;
        Ok((http, key, body))
    }

    /// The certificate's pool for a route that needs it (an error without one), else the
    /// plain pool.
    pub(crate) fn pool_for(&self, route: &Route<'_>) -> Result<&reqwest::Client, Error> {
        if !route.certificate {
            return Ok(&self.inner.http);
        }
        self.account
            .http_cert
            .as_ref()
            .ok_or_else(|| Error::NoIdentity {
                path: route.path().to_owned(),
            })
    }

    /// What answers to `E` are checked against: this client's merchant and sub-merchant, and
    /// the sign type requests to `E` are signed with.
    ///
    /// # Errors
    /// [`Error::Config`] when the endpoint needs HMAC-SHA256 and the client uses the sandbox.
    pub fn verifier_for<E: Endpoint>(&self) -> Result<Verifier, Error> {
        self.sign_type_on(&E::ROUTE)?;
        Ok(self.merchant().verifier(&E::ROUTE))
    }

    /// Fails unless the client has a certificate: every money-out call needs one, and a
    /// request sent without it would only come back as `CA_ERROR`.
    pub(crate) fn require_identity(&self, path: &str) -> Result<(), Error> {
        if self.account.http_cert.is_none() {
            return Err(Error::NoIdentity {
                path: path.to_owned(),
            });
        }
        Ok(())
    }
}
