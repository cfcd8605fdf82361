//! A running simulator, and what a test does with it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::error::Error;
use crate::model::{DeliveryView, Fault, OrderView, PayOptions};
use crate::protocol::Engine;
use crate::tls::TlsMaterial;

/// A running simulator. Dropping it stops the listener; [`SimHandle::shutdown`] also waits.
pub struct SimHandle {
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    engine: Arc<Engine>,
    control_token: Option<String>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    tls_task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl SimHandle {
    pub(crate) fn new(
        addr: SocketAddr,
        tls_addr: Option<SocketAddr>,
        engine: Arc<Engine>,
        control_token: Option<String>,
        stop: tokio::sync::watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
        tls_task: Option<tokio::task::JoinHandle<()>>,
    ) -> Self {
        Self {
            addr,
            tls_addr,
            engine,
            control_token,
            stop,
            task: Some(task),
            tls_task,
        }
    }

    /// The listening address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a client instead of `https://api.mch.weixin.qq.com`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The TLS listener's base URL (`https://127.0.0.1:PORT`), when started with TLS.
    #[must_use]
    pub fn tls_base_url(&self) -> Option<String> {
        self.tls_addr.map(|a| format!("https://{a}"))
    }

    /// The generated CA and client identities, when started with TLS.
    #[must_use]
    pub fn tls(&self) -> Option<&TlsMaterial> {
        self.engine.tls.as_ref()
    }

    /// The control API's URL.
    #[must_use]
    pub fn control_url(&self) -> String {
        format!("http://{}/_sim", self.addr)
    }

    /// The dashboard's URL, with the control token, when one is required, in the fragment
    /// (`#token=…`): never sent to a server, and the page removes it from the address bar
    /// and its history entry at once.
    #[must_use]
    pub fn dashboard_url(&self) -> String {
        match &self.control_token {
            Some(t) => format!("http://{}/_sim/#token={t}", self.addr),
            None => format!("http://{}/_sim/", self.addr),
        }
    }

    /// The token the control API requires, if any (always on a non-loopback address).
    #[must_use]
    pub fn control_token(&self) -> Option<&str> {
        self.control_token.as_deref()
    }

    /// API v3: WeChat Pay's public key, as the merchant platform hands it out: its id
    /// ([`crate::v3::PUBLIC_KEY_ID`]) and PEM. It signs the answers and notifications of
    /// merchants set to [`crate::v3::V3Signing::PublicKey`], and answers to requests that
    /// name it in `Wechatpay-Serial`.
    #[must_use]
    pub fn v3_public_key(&self) -> (&'static str, String) {
        (
            crate::v3::PUBLIC_KEY_ID,
            self.engine.platform.public_key_pem().unwrap_or_default(),
        )
    }

    /// API v3: the platform certificates (PEM), oldest first; the newest signs.
    /// `GET /v3/certificates` lists the same, encrypted.
    #[must_use]
    pub fn v3_platform_certificates(&self) -> Vec<String> {
        self.engine
            .platform
            .certs()
            .iter()
            .map(|c| c.pem.clone())
            .collect()
    }

    /// API v3: WeChat Pay rotates its platform certificate: a new key and certificate sign
    /// from now on, the old ones stay valid and listed. Returns the new serial.
    ///
    /// # Errors
    /// [`Error::Refused`] with [`crate::Refusal::Unavailable`] if the key could not be made.
    pub fn rotate_platform_certificate(&self) -> Result<String, Error> {
        self.engine
            .platform
            .rotate()
            .ok_or(Error::Refused(crate::Refusal::Unavailable {
                what: "a new platform certificate",
            }))
    }

    /// The simulated user pays the order (the only merchant's, or the only one with that
    /// number); the payment notification goes out.
    ///
    /// # Errors
    /// [`Error::Refused`] with [`crate::Refusal::UnknownOrder`], `Ambiguous`, `WrongState`
    /// (not `NOTPAY`) or `CouponTooLarge`.
    pub fn pay(&self, out_trade_no: &str, options: &PayOptions) -> Result<OrderView, Error> {
        Ok(self.engine.pay(None, out_trade_no, options)?)
    }

    /// As [`SimHandle::pay`], for one merchant's order.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn pay_for(
        &self,
        mch_id: &str,
        out_trade_no: &str,
        options: &PayOptions,
    ) -> Result<OrderView, Error> {
        Ok(self.engine.pay(Some(mch_id), out_trade_no, options)?)
    }

    /// The payment fails (`PAYERROR` with `err_code`); a `result_code=FAIL` notification goes out.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn fail(&self, out_trade_no: &str, err_code: &str) -> Result<OrderView, Error> {
        Ok(self.engine.fail(None, out_trade_no, err_code)?)
    }

    /// Closes an unpaid order.
    ///
    /// # Errors
    /// As [`SimHandle::pay`].
    pub fn close(&self, out_trade_no: &str) -> Result<OrderView, Error> {
        Ok(self.engine.close(None, out_trade_no)?)
    }

    /// A PROCESSING refund succeeds now (instead of after 60 s, scaled); its notification
    /// goes out.
    ///
    /// # Errors
    /// [`crate::Refusal::UnknownRefund`], `Ambiguous`, `RefundNotProcessing`.
    pub fn complete_refund(&self, out_refund_no: &str) -> Result<OrderView, Error> {
        Ok(self.engine.conclude_refund(None, out_refund_no, true)?)
    }

    /// A PROCESSING refund fails now (`CHANGE`: the money could not be returned); its
    /// notification goes out.
    ///
    /// # Errors
    /// As [`SimHandle::complete_refund`].
    pub fn fail_refund(&self, out_refund_no: &str) -> Result<OrderView, Error> {
        Ok(self.engine.conclude_refund(None, out_refund_no, false)?)
    }

    /// One more attempt of a notification, now.
    ///
    /// # Errors
    /// [`crate::Refusal::UnknownDelivery`].
    pub fn redeliver(&self, delivery_id: u64) -> Result<(), Error> {
        Ok(self.engine.redeliver(delivery_id)?)
    }

    /// Every order.
    #[must_use]
    pub fn orders(&self) -> Vec<OrderView> {
        self.engine.orders()
    }

    /// One order.
    ///
    /// # Errors
    /// [`crate::Refusal::UnknownOrder`] or `Ambiguous` (several merchants have one).
    pub fn order(&self, out_trade_no: &str) -> Result<OrderView, Error> {
        Ok(self.engine.order_view(None, out_trade_no)?)
    }

    /// Every transfer to balance kept (money out).
    #[must_use]
    pub fn transfers(&self) -> Vec<crate::TransferView> {
        self.engine.transfer_views()
    }

    /// Every bank payment kept, with the card number and name as the simulator decrypted
    /// them.
    #[must_use]
    pub fn bank_payments(&self) -> Vec<crate::BankPaymentView> {
        self.engine.bank_views()
    }

    /// Every red packet kept.
    #[must_use]
    pub fn redpacks(&self) -> Vec<crate::RedpackView> {
        self.engine.redpack_views()
    }

    /// A merchant's operation account balance, which money out draws from.
    #[must_use]
    pub fn balance(&self, mch_id: &str) -> Option<tenpay_xml::Fen> {
        self.engine.balance(mch_id)
    }

    /// The simulated user opens a red packet (a group packet: the next share, for `openid`
    /// or the seed user).
    ///
    /// # Errors
    /// [`crate::Refusal::UnknownOrder`] (no such packet), `Ambiguous`, `WrongState` (nothing
    /// left to claim).
    pub fn claim_redpack(
        &self,
        mch_billno: &str,
        openid: Option<&str>,
    ) -> Result<crate::RedpackView, Error> {
        Ok(self.engine.claim_redpack(None, mch_billno, openid)?)
    }

    /// A group packet of `num` shares of `total`, as the retired `sendgroupredpack` made
    /// them (WeChat Pay no longer sends new ones; their records are still read with
    /// gethbinfo).
    ///
    /// # Errors
    /// `UnknownOrder` for an unknown merchant; `WrongState` when the balance is short.
    pub fn seed_group_redpack(
        &self,
        mch_id: &str,
        mch_billno: &str,
        openid: &str,
        total: tenpay_xml::Fen,
        num: u32,
    ) -> Result<crate::RedpackView, Error> {
        Ok(self
            .engine
            .seed_group_redpack(mch_id, mch_billno, openid, total, num)?)
    }

    /// The payer `openid` scans a product's QR code (Native mode 1): `url` is the signed
    /// `weixin://wxpay/bizpayurl?…` or its `/tools/shorturl` link. Its signature is checked,
    /// the scan callback goes to the merchant's
    /// [`scan_callback_url`](crate::MerchantAccount::scan_callback_url), and its signed
    /// answer must name the prepay id of a NATIVE order placed for this payer; that order is
    /// returned, unpaid ([`SimHandle::pay`] pays it).
    ///
    /// # Errors
    /// [`Refusal::Scan`](crate::Refusal::Scan) with what went wrong.
    pub async fn scan(&self, url: &str, openid: &str) -> Result<OrderView, Error> {
        Ok(self.engine.scan(url, openid).await?)
    }

    /// The face SDK recognises `openid` at a till and gives this face code: the merchant's
    /// server pays with it as a payment code (`micropay` with `auth_code` = the code, the
    /// official face-pay flow) or through `/pay/facepay`. It pays once.
    #[must_use]
    pub fn face_code(&self, openid: &str) -> String {
        self.engine.face_code(openid)
    }

    /// The user opens a papay signing URL the merchant made (`papay/entrustweb` or
    /// `h5entrustweb`): its signature is checked, and the signing waits for
    /// [`SimHandle::sign_contract`].
    ///
    /// # Errors
    /// `WrongState` for a URL that is not a signed signing URL of a configured merchant.
    pub fn open_signing_url(&self, url: &str) -> Result<(), Error> {
        Ok(self.engine.open_signing_url(url)?)
    }

    /// The user signs the waiting signing `contract_code` of `mch_id` (from a signing URL or
    /// the APP pre-sign call) as `openid`: the contract exists, and its notification goes out.
    ///
    /// # Errors
    /// `UnknownOrder` when no such signing waits.
    pub fn sign_contract(
        &self,
        mch_id: &str,
        contract_code: &str,
        openid: &str,
    ) -> Result<crate::ContractView, Error> {
        Ok(self.engine.sign_contract(mch_id, contract_code, openid)?)
    }

    /// Every contract kept.
    #[must_use]
    pub fn contracts(&self) -> Vec<crate::ContractView> {
        self.engine.contract_views()
    }

    /// Every notification kept, with every attempt so far.
    #[must_use]
    pub fn deliveries(&self) -> Vec<DeliveryView> {
        self.engine.outbox.deliveries()
    }

    /// How many requests reached an endpoint (`unifiedorder`, `refund`, …), faults included.
    #[must_use]
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.engine.lock().calls(endpoint)
    }

    /// Injects a fault.
    ///
    /// # Errors
    /// [`crate::Refusal::TooManyFaults`] when [`crate::Limits::faults`] are already set.
    pub fn inject(&self, fault: Fault) -> Result<(), Error> {
        Ok(self.engine.lock().add_fault(fault)?)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.engine.lock().clear_faults();
    }

    /// Stops listening, lets open connections finish their current request, and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(task) = self.tls_task.take() {
            let _ = task.await;
        }
    }
}
