//! Signing: the merchant's fields, the nonce and `sign_type` added to a request, the key it
//! is signed with, and what its answer is verified against.

use super::*;

impl Client {
    /// The signed XML body of a request, as [`Client::execute`] would send it (with a fresh
    /// nonce): for your own HTTP stack, or to see what is signed.
    ///
    /// # Errors
    /// [`Error::Request`] for a field XML cannot carry; [`Error::Config`] in sandbox mode, whose
    /// key is fetched by `execute`.
    pub fn request_body<E: Endpoint>(&self, request: &E) -> Result<String, Error> {
        if self.inner.sandbox.is_some() {
            return Err(Error::Config(ConfigError::SandboxRequestBody));
        }
        let sign_type = self.sign_type_for::<E>()?;
        let mut map = request.to_map().map_err(Error::Request)?;
        self.fill_common(&mut map, sign_type, E::MERCHANT_FIELDS, E::NONCE)
            .map_err(Error::Request)?;
        map.sign(&self.merchant.key, sign_type)
            .map_err(Error::Request)?;
        Ok(map.to_xml())
    }

    /// The algorithm requests to `E` are signed with: the endpoint's own when it has one
    /// (HMAC-SHA256 for downloadfundflow), else the client's.
    ///
    /// # Errors
    /// [`Error::Config`] when the endpoint needs HMAC-SHA256 and the client uses the sandbox,
    /// whose key signs MD5 only.
    pub(super) fn sign_type_for<E: Endpoint>(&self) -> Result<SignType, Error> {
        self.resolve_sign_type(E::SIGN_TYPE, E::PATH)
    }

    /// The endpoint's fixed algorithm, or the client's; HMAC-SHA256 is refused in the sandbox.
    pub(crate) fn resolve_sign_type(
        &self,
        fixed: Option<SignType>,
        path: &str,
    ) -> Result<SignType, Error> {
        match fixed {
            None => Ok(self.merchant.sign_type),
            Some(SignType::HmacSha256) if self.inner.sandbox.is_some() => {
                Err(Error::Config(ConfigError::SandboxMd5Only {
                    what: path.to_owned(),
                }))
            }
            Some(fixed) => Ok(fixed),
        }
    }

    /// The merchant's ids (under `fields`' names), sub-merchant fields (the pay family's
    /// only), `nonce_str` and `sign_type` (when HMAC).
    pub(super) fn fill_common(
        &self,
        map: &mut XmlMap,
        sign_type: SignType,
        fields: MerchantFields,
        nonce: bool,
    ) -> Result<(), tenpay_xml::Error> {
        let (inner, m) = (&self.inner, &self.merchant);
        if let Some(name) = fields.appid {
            map.insert(name, &m.appid)?;
        }
        map.insert(fields.mch_id, &m.mch_id)?;
        if fields.sub_merchant {
            if let Some(s) = &m.sub_appid {
                map.insert("sub_appid", s)?;
            }
            if let Some(s) = &m.sub_mch_id {
                map.insert("sub_mch_id", s)?;
            }
        }
        if nonce {
            map.insert("nonce_str", &(inner.nonce)())?;
        }
        if matches!(sign_type, SignType::HmacSha256) {
            map.insert("sign_type", SignType::HmacSha256.as_str())?;
        }
        Ok(())
    }

    /// The route of a typed endpoint.
    pub(crate) fn route_for<E: Endpoint>(&self) -> Result<Route<'static>, Error> {
        Ok(Route {
            path: E::PATH,
            secapi: E::SECAPI,
            retry_safe: E::RETRY_SAFE,
            large_answer: E::LARGE_ANSWER,
            sign_type: self.sign_type_for::<E>()?,
            merchant_fields: E::MERCHANT_FIELDS,
            nonce: E::NONCE,
        })
    }

    /// The pool a route is sent through (the certificate's for `/secapi/`), the signing key,
    /// and the signed body: the merchant's fields, the nonce and `sign_type` added to `map`.
    pub(crate) async fn prepare(
        &self,
        route: &Route<'_>,
        mut map: XmlMap,
    ) -> Result<(&reqwest::Client, ApiKey, String), Error> {
        let http = if route.secapi {
            self.merchant
                .http_cert
                .as_ref()
                .ok_or_else(|| Error::NoIdentity {
                    path: route.path.to_owned(),
                })?
        } else {
            &self.inner.http
        };
        let key = self.signing_key().await?;
        self.fill_common(
            &mut map,
            route.sign_type,
            route.merchant_fields,
            route.nonce,
        )
        .map_err(Error::Request)?;
        map.sign(&key, route.sign_type).map_err(Error::Request)?;
        Ok((http, key, map.to_xml()))
    }

    /// What answers to `E` are checked against: this client's merchant and sub-merchant, and
    /// the sign type requests to `E` are signed with.
    ///
    /// # Errors
    /// [`Error::Config`] when the endpoint needs HMAC-SHA256 and the client uses the sandbox.
    pub fn verifier_for<E: Endpoint>(&self) -> Result<Verifier, Error> {
        let (appid, mch_id) = E::MERCHANT_FIELDS.answer_names();
        Ok(self
            .merchant
            .verifier
            .with_sign_type(self.sign_type_for::<E>()?)
            .merchant_fields(appid, mch_id))
    }
}
