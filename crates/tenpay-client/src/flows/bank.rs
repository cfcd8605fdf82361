//! Bank payments: WeChat Pay's RSA key fetched once and kept, the card number and name
//! encrypted with it, and fetched again when WeChat Pay cannot decrypt.

use crate::payout::{EncryptedPayBank, GetPublicKey, cannot_decrypt};
use crate::*;

impl Client {
    /// WeChat Pay's RSA key for bank payments (`getpublickey`), fetched once and kept: only
    /// from the production risk host (`fraud.mch.weixin.qq.com`) when the base URL is
    /// production, otherwise only from [`ClientBuilder::bank_key_url`](crate::ClientBuilder::bank_key_url).
    /// Its fingerprint is logged; a pinned one must match.
    ///
    /// # Errors
    /// No certificate; no host to fetch from ([`ConfigError::BankKeyHost`]); the call's
    /// errors; [`ConfigError::PublicKey`] for a key that is not one or does not match the pin.
    pub async fn public_key(&self) -> Result<PublicKey, Error> {
        self.require_identity(GetPublicKey::ROUTE.path())?;
        let mut cached = self.account.public_key.lock().await;
        if let Some(key) = cached.as_ref() {
            return Ok(key.clone());
        }
        let key = self.fetch_public_key().await?;
        *cached = Some(key.clone());
        Ok(key)
    }

    /// Fetches the key again when the cached one is `stale` (WeChat Pay could not decrypt
    /// with it); another caller's fresher key is taken as it is.
    async fn refresh_public_key(&self, stale: &PublicKey) -> Result<PublicKey, Error> {
        let mut cached = self.account.public_key.lock().await;
        if let Some(key) = cached.as_ref().filter(|k| *k != stale) {
            return Ok(key.clone());
        }
        tracing::warn!(
            fingerprint = %stale.fingerprint(),
            "tenpay: WeChat Pay could not decrypt with its RSA key; fetching it again"
        );
        let key = self.fetch_public_key().await?;
        *cached = Some(key.clone());
        Ok(key)
    }

    async fn fetch_public_key(&self) -> Result<PublicKey, Error> {
        let m = self
            .traced::<GetPublicKey, _>(None, self.send_typed(&GetPublicKey))
            .await
            .result?;
        let key = PublicKey::from_pem(m.get("pub_key").unwrap_or(""))?;
        let fingerprint = key.fingerprint();
        let host = self.inner.bank_key.host(self.base())?;
        tracing::info!(%fingerprint, host, "tenpay: fetched WeChat Pay's RSA key for bank payments");
        if let Some(pin) = self
            .inner
            .bank_key
            .pin
            .as_deref()
            .filter(|p| *p != fingerprint)
        {
            return Err(Error::Config(ConfigError::PublicKey(format!(
                "the fetched key's SHA-256 fingerprint {fingerprint} is not the pinned {pin}"
            ))));
        }
        Ok(key)
    }

    pub(crate) fn encrypt_bank(
        &self,
        key: &PublicKey,
        r: &PayBank,
    ) -> Result<EncryptedPayBank, Error> {
        Ok(EncryptedPayBank {
            partner_trade_no: r.partner_trade_no.clone(),
            enc_bank_no: key.encrypt(&r.bank_no)?,
            enc_true_name: key.encrypt(&r.true_name)?,
            bank_code: r.bank_code.clone(),
            amount: r.amount,
            desc: r.desc.clone(),
        })
    }

    /// Pays to a bank card: fetches WeChat Pay's key (once), encrypts the card number and
    /// the name, and sends. An open outcome is [`Outcome::Unknown`], never an error; an
    /// accepted payment's result comes later (query it, or use [`Client::settle_pay_bank`]).
    ///
    /// # Errors
    /// Only when nothing was paid for certain: no certificate, no key, a bad argument, no
    /// connection, or a final refusal (`NOTENOUGH`, …).
    pub async fn pay_bank(&self, request: &PayBank) -> Result<Outcome<BankPayment>, Refused> {
        let key = self.public_key().await.map_err(Refused::not_sent)?;
        let encrypted = self
            .encrypt_bank(&key, request)
            .map_err(Refused::not_sent)?;
        match self.execute_money(&encrypted).await {
            Err(r) if cannot_decrypt(&r) => {
                let encrypted = self.reencrypt(&key, request).await?;
                self.execute_money(&encrypted).await
            }
            other => other,
        }
    }

    /// After WeChat Pay refused a payment for good because it could not decrypt it (nothing
    /// was paid): the request encrypted under a freshly fetched key, once.
    pub(crate) async fn reencrypt(
        &self,
        stale: &PublicKey,
        request: &PayBank,
    ) -> Result<EncryptedPayBank, Refused> {
        let key = self
            .refresh_public_key(stale)
            .await
            .map_err(Refused::not_sent)?;
        self.encrypt_bank(&key, request).map_err(Refused::not_sent)
    }
}
