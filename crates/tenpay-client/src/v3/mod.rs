//! WeChat Pay API v3 beside V2: JSON requests signed with the merchant's API private key
//! ([`tenpay_sign_v3::Signer`]), every answer verified against the WeChat Pay key its
//! `Wechatpay-Serial` names (platform certificates, downloaded and rotated, or the WeChat
//! Pay public key), errors typed from the JSON error body, and the V2 outcome rule for the
//! calls that move money: a refund whose answer was lost is repeated with the same
//! `out_refund_no`, and is never reported as "not refunded" once an attempt may have
//! reached WeChat Pay ([`Error::InDoubt`]).
//!
//! ```no_run
//! use tenpay_client::v3::{Client, Order};
//! use tenpay_sign_v3::{ApiV3Key, PrivateKey, Signer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = PrivateKey::from_pem(&std::fs::read_to_string("apiclient_key.pem")?)?;
//! let signer = Signer::new("1230000109", "5F1C72E2A8931B72A2E13AF8DEE92471EB397115", key)?;
//! let client = Client::builder("wxd678efh567hg6787", signer, ApiV3Key::new(&std::env::var("APIV3_KEY")?)?)
//!     .build()?;
//! client.download_certificates().await?; // certificate mode; public-key mode: .public_key(…)
//! let order = Order::new("Image形象店-深圳腾大-QQ公仔", "1217752501201407033233368018".parse()?,
//!     tenpay_xml::Fen::new(100), "https://pay.example.com/wechat/v3/notify");
//! let prepay = client.jsapi(&order, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").await?;
//! let params = client.jsapi_pay(&prepay)?; // to wx.requestPayment
//! # let _ = params; Ok(()) }
//! ```

mod bill;
mod client;
mod error;
mod order;
mod refund;

pub use bill::{BillLink, DEFAULT_MAX_BILL_BYTES};
pub use client::{Answer, Client, ClientBuilder, MAX_ANSWER_BYTES};
pub use error::{ApiError, Error};
pub use order::{H5Info, Order, Prepay, SceneInfo};
pub use refund::RefundRequest;
/// The JSON vocabulary the answers share with the notifications.
pub use tenpay_xml::v3::{
    Payer, Refund, RefundAmount, RefundNotice, RefundStatus, Transaction, TransactionAmount,
};

/// WeChat Pay's v3 host.
pub const PRODUCTION_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host (another access point).
pub const BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";
