//! The sandbox: its path layouts and its signing key, fetched with the real key and cached.

use std::time::Duration;

use super::*;
use crate::answer::parse_envelope;

/// Which sandbox path layout to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sandbox {
    /// `/xdc/apiv2sandbox/...`, key from `/xdc/apiv2getsignkey/sign/getsignkey` (since 2022).
    Current,
    /// `/sandboxnew/...`, key from `/sandboxnew/pay/getsignkey`.
    Legacy,
}

impl Sandbox {
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Self::Current => "/xdc/apiv2sandbox",
            Self::Legacy => "/sandboxnew",
        }
    }

    pub(super) fn key_path(self) -> &'static str {
        match self {
            Self::Current => "/xdc/apiv2getsignkey/sign/getsignkey",
            Self::Legacy => "/sandboxnew/pay/getsignkey",
        }
    }
}

/// How long a fetched sandbox key is reused (it expires after about three days).
const SANDBOX_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

impl Client {
    /// The key requests are signed with: the API key, or in the sandbox the sandbox key
    /// (fetched once and cached).
    pub(super) async fn signing_key(&self) -> Result<ApiKey, Error> {
        let Some(sandbox) = self.inner.sandbox else {
            return Ok(self.merchant().key().clone());
        };
        let mut cached = self.account.sandbox_key.lock().await;
        if let Some((key, at)) = cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < SANDBOX_KEY_TTL)
        {
            let _ = at;
            return Ok(key.clone());
        }
        let key = self.fetch_sandbox_key(sandbox).await?;
        *cached = Some((key.clone(), Instant::now()));
        Ok(key)
    }

    /// `getsignkey`: signed with the real key and MD5, no appid.
    pub(super) async fn fetch_sandbox_key(&self, sandbox: Sandbox) -> Result<ApiKey, Error> {
        let inner = &self.inner;
        let mut map = XmlMap::new();
        let mut put = |k: &str, v: &str| map.insert(k, v).map_err(Error::Request);
        put("mch_id", self.merchant().mch_id())?;
        put("nonce_str", &(inner.nonce)())?;
        map.sign(self.merchant().key(), SignType::Md5)
            .map_err(Error::Request)?;
        let url = format!("{}{}", inner.base, sandbox.key_path());
        let answer = self
            .post(&inner.http, &url, map.to_xml(), MAX_ANSWER_BYTES)
            .await?;
        let m = parse_envelope(&answer)?;
        let key = m
            .get("sandbox_signkey")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::NotXml {
                reason: "getsignkey answer has no sandbox_signkey".into(),
                excerpt: String::new(),
            })?;
        tracing::debug!("tenpay: fetched the sandbox sign key");
        ApiKey::new(key).map_err(|e| Error::Config(ConfigError::SandboxKey(e)))
    }
}
