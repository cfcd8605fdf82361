//! Payments: JSAPI, APP, H5 and Native orders, their queries and closing.

use reqwest::Method;
use serde_json::{Value, json};
use tenpay_xml::{Fen, OutTradeNo};

use super::client::segment;
use super::{Client, Error, Transaction};

/// An order to place (any of the four kinds; the kind is the method called).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Order {
    /// What is bought, shown to the payer (at most 127 bytes).
    pub description: String,
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// The amount, fen (CNY).
    pub total: Fen,
    /// Where the payment notification goes (https, no query).
    pub notify_url: String,
    /// The merchant's data, echoed in the query and notification.
    pub attach: Option<String>,
    /// When it can no longer be paid (RFC 3339).
    pub time_expire: Option<String>,
    /// Whether its amount is frozen for profit sharing.
    pub profit_sharing: bool,
}

impl Order {
    /// An order of `total` fen.
    #[must_use]
    pub fn new(
        description: impl Into<String>,
        out_trade_no: OutTradeNo,
        total: Fen,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            description: description.into(),
            out_trade_no,
            total,
            notify_url: notify_url.into(),
            attach: None,
            time_expire: None,
            profit_sharing: false,
        }
    }

    /// With `attach`.
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// With `time_expire` (RFC 3339, e.g. `2026-12-03T18:00:00+08:00`).
    #[must_use]
    pub fn time_expire(mut self, at: impl Into<String>) -> Self {
        self.time_expire = Some(at.into());
        self
    }

    fn json(&self, client: &Client) -> Value {
        let mut v = json!({
            "description": self.description,
            "out_trade_no": self.out_trade_no.as_str(),
            "notify_url": self.notify_url,
            "amount": { "total": self.total.get(), "currency": "CNY" },
        });
        if let Some(a) = &self.attach {
            v["attach"] = json!(a);
        }
        if let Some(t) = &self.time_expire {
            v["time_expire"] = json!(t);
        }
        if self.profit_sharing {
            v["settle_info"] = json!({ "profit_sharing": true });
        }
        match client.sub() {
            Some(sub) => {
                v["sp_appid"] = json!(client.appid());
                v["sp_mchid"] = json!(client.signer().mchid());
                v["sub_mchid"] = json!(sub.sub_mchid);
                if let Some(a) = &sub.sub_appid {
                    v["sub_appid"] = json!(a);
                }
            }
            None => {
                v["appid"] = json!(client.appid());
                v["mchid"] = json!(client.signer().mchid());
            }
        }
        v
    }
}

/// The payer's scene for an H5 order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SceneInfo {
    /// The payer's IP (v4 or v6).
    pub payer_client_ip: String,
    /// The H5 scene.
    pub h5_info: H5Info,
}

/// An H5 order's scene: `Wap`, `iOS` or `Android`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct H5Info {
    /// `Wap`, `iOS` or `Android`.
    pub kind: String,
}

impl SceneInfo {
    /// A mobile web page's scene for a payer at `ip`.
    #[must_use]
    pub fn wap(ip: impl Into<String>) -> Self {
        Self {
            payer_client_ip: ip.into(),
            h5_info: H5Info { kind: "Wap".into() },
        }
    }
}

/// A prepay id, for the payer's device (see [`Client::jsapi_pay`], [`Client::app_pay`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct Prepay {
    /// `wx…`, valid two hours.
    pub prepay_id: String,
}

impl Client {
    /// `/v3/pay/transactions` or, in partner mode, `/v3/pay/partner/transactions`.
    fn transactions(&self) -> &'static str {
        if self.sub().is_some() {
            "/v3/pay/partner/transactions"
        } else {
            "/v3/pay/transactions"
        }
    }

    /// The query string naming the merchant: `mchid=`, or `sp_mchid=&sub_mchid=`.
    fn merchant_query(&self) -> String {
        match self.sub() {
            Some(sub) => format!(
                "sp_mchid={}&sub_mchid={}",
                self.signer().mchid(),
                segment(&sub.sub_mchid)
            ),
            None => format!("mchid={}", self.signer().mchid()),
        }
    }

    async fn place(&self, kind: &str, body: Value) -> Result<Value, Error> {
        let body = body.to_string();
        self.json(
            Method::POST,
            &format!("{}/{kind}", self.transactions()),
            Some(body.as_bytes()),
        )
        .await
    }

    /// A JSAPI / mini-program order for the payer `openid` (under this client's appid; in
    /// partner mode under the sub-merchant's appid when it has one, else the provider's).
    ///
    /// # Errors
    /// [`Error::Api`] (`PARAM_ERROR`, `ORDERPAID`, `OUT_TRADE_NO_USED`, …), and those of
    /// [`Client::request`].
    pub async fn jsapi(&self, order: &Order, openid: &str) -> Result<Prepay, Error> {
        let mut body = order.json(self);
        body["payer"] = match self.sub() {
            Some(sub) if sub.sub_appid.is_some() => json!({ "sub_openid": openid }),
            Some(_) => json!({ "sp_openid": openid }),
            None => json!({ "openid": openid }),
        };
        let v = self.place("jsapi", body).await?;
        serde_json::from_value(v).map_err(|e| Error::Decode(e.to_string()))
    }

    /// An APP order.
    ///
    /// # Errors
    /// As [`Client::jsapi`].
    pub async fn app(&self, order: &Order) -> Result<Prepay, Error> {
        let v = self.place("app", order.json(self)).await?;
        serde_json::from_value(v).map_err(|e| Error::Decode(e.to_string()))
    }

    /// A Native (QR code) order: its `code_url`, to show as a QR code.
    ///
    /// # Errors
    /// As [`Client::jsapi`].
    pub async fn native(&self, order: &Order) -> Result<String, Error> {
        let v = self.place("native", order.json(self)).await?;
        v["code_url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode("no code_url".into()))
    }

    /// An H5 order: its `h5_url`, to open in the payer's mobile browser.
    ///
    /// # Errors
    /// As [`Client::jsapi`].
    pub async fn h5(&self, order: &Order, scene: &SceneInfo) -> Result<String, Error> {
        let mut body = order.json(self);
        body["scene_info"] = json!({
            "payer_client_ip": scene.payer_client_ip,
            "h5_info": { "type": scene.h5_info.kind },
        });
        let v = self.place("h5", body).await?;
        v["h5_url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode("no h5_url".into()))
    }

    /// The order by the merchant's number.
    ///
    /// # Errors
    /// [`Error::Api`] (`404 ORDER_NOT_EXIST`), and those of [`Client::request`].
    pub async fn query_order(&self, out_trade_no: &OutTradeNo) -> Result<Transaction, Error> {
        let path = format!(
            "{}/out-trade-no/{}?{}",
            self.transactions(),
            segment(out_trade_no.as_str()),
            self.merchant_query()
        );
        self.json(Method::GET, &path, None).await
    }

    /// The order by WeChat Pay's transaction id.
    ///
    /// # Errors
    /// As [`Client::query_order`].
    pub async fn query_transaction(&self, transaction_id: &str) -> Result<Transaction, Error> {
        let path = format!(
            "{}/id/{}?{}",
            self.transactions(),
            segment(transaction_id),
            self.merchant_query()
        );
        self.json(Method::GET, &path, None).await
    }

    /// Closes an unpaid order (204). To pay again after a failure, place a new number and
    /// close the old one.
    ///
    /// # Errors
    /// [`Error::Api`] (`ORDERPAID`, `ORDER_NOT_EXIST`), and those of [`Client::request`].
    pub async fn close_order(&self, out_trade_no: &OutTradeNo) -> Result<(), Error> {
        let path = format!(
            "{}/out-trade-no/{}/close",
            self.transactions(),
            segment(out_trade_no.as_str())
        );
        let body = match self.sub() {
            Some(sub) => json!({ "sp_mchid": self.signer().mchid(), "sub_mchid": sub.sub_mchid }),
            None => json!({ "mchid": self.signer().mchid() }),
        }
        .to_string();
        self.call(Method::POST, &path, Some(body.as_bytes()))
            .await
            .0
            .map(|_| ())
    }
}
