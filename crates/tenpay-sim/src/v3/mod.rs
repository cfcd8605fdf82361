//! WeChat Pay API v3 beside V2: the same orders and refunds, the same dashboard and faults,
//! reached through v3's paths with v3's wire: a signed `Authorization` checked against the
//! merchant's API certificate, JSON bodies, answers and notifications signed with a platform
//! certificate or the WeChat Pay public key, notification resources sealed under the APIv3
//! key.
//!
//! Written from the protocol reference (`V3-PROTOCOL.md`), not from the client's types.
//! Where the reference marks a fact unconfirmed (the error codes of a repeated or paid
//! `out_trade_no`), the simulator answers what the sources agree on and says so here:
//! a paid order is `403 ORDERPAID`, a closed one `400 ORDER_CLOSED`, the same number with
//! other parameters `403 OUT_TRADE_NO_USED`.

mod platform;
mod routes;

use std::sync::Arc;

use serde_json::{Value, json};
use tenpay_sign_v3::{ApiV3Key, KeyId, PublicKey, Resource};

pub(crate) use platform::Platform;
pub use platform::{PUBLIC_KEY_ID, V3Signing};
pub(crate) use routes::{answer, fault_name};

use crate::clock::rfc3339;
use crate::ids::nonce;
use crate::notify::Wire;
use crate::protocol::Engine;
use crate::state::{Order, Refund, TradeState};

/// The official SDKs' public test merchant private key (wechatpay-java's
/// `merchant_private_key.pem`): what a test signs v3 requests with when its simulated
/// merchant is made with [`MerchantAccount::test_api_v3`](crate::MerchantAccount::test_api_v3).
pub const TEST_MERCHANT_KEY_PEM: &str = include_str!("keys/test_merchant_key.pem");
/// That key's certificate.
pub const TEST_MERCHANT_CERT_PEM: &str = include_str!("keys/test_merchant_cert.pem");
/// That certificate's serial.
pub const TEST_MERCHANT_SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";
/// The test APIv3 key (wechatpay-java's `TestConfig.API_V3_KEY`).
pub const TEST_APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

/// Bills waiting behind their one-time `download_url` (the newest 16).
#[derive(Debug, Default)]
pub(crate) struct Bills(std::sync::Mutex<std::collections::VecDeque<(String, String, Vec<u8>)>>);

impl Bills {
    pub(crate) fn put(&self, mch_id: &str, file: Vec<u8>) -> String {
        let token = crate::ids::token();
        let mut q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.len() >= 16 {
            q.pop_front();
        }
        q.push_back((token.clone(), mch_id.to_owned(), file));
        token
    }

    pub(crate) fn take(&self, mch_id: &str, token: &str) -> Option<Vec<u8>> {
        let mut q = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let i = q.iter().position(|(t, m, _)| t == token && m == mch_id)?;
        q.remove(i).map(|(_, _, f)| f)
    }
}

/// A merchant's v3 settings, as WeChat Pay holds them.
#[derive(Debug, Clone)]
pub(crate) struct V3Account {
    pub(crate) apiv3_key: ApiV3Key,
    pub(crate) serial: KeyId,
    pub(crate) public_key: PublicKey,
    pub(crate) signing: V3Signing,
}

pub(crate) fn test_account() -> Option<V3Account> {
    let cert = tenpay_sign_v3::PlatformCertificate::from_pem(TEST_MERCHANT_CERT_PEM).ok()?;
    Some(V3Account {
        apiv3_key: ApiV3Key::new(TEST_APIV3_KEY).ok()?,
        serial: cert.serial().clone(),
        public_key: cert.public_key().clone(),
        signing: V3Signing::default(),
    })
}

impl Engine {
    /// The wire of a v3 notification: signed at each attempt with the merchant's signing key.
    pub(crate) fn v3_wire(&self, signing: V3Signing) -> Wire {
        let platform = Arc::clone(&self.platform);
        Wire::Json(Arc::new(move |body: &[u8]| platform.sign(signing, body)))
    }
}

/// A v3 transaction as the order queries answer it and the payment notification carries it.
pub(crate) fn transaction_json(order: &Order) -> Value {
    let paid = matches!(order.state, TradeState::Success | TradeState::Refund)
        && order.transaction_id.is_some();
    let mut t = json!({
        "out_trade_no": order.out_trade_no,
        "trade_type": order.trade_type,
        "trade_state": order.state.as_str(),
        "trade_state_desc": state_desc(order.state),
        "attach": order.attach.clone().unwrap_or_default(),
        "amount": {
            "total": order.total_fee.get(),
            "currency": order.fee_type,
            "payer_currency": order.fee_type,
        },
    });
    // A service provider's sub-merchant's order names both, and its payer under each appid.
    match &order.sub_mch_id {
        Some(sub) => {
            t["sp_appid"] = json!(order.appid);
            t["sp_mchid"] = json!(order.mch_id);
            t["sub_mchid"] = json!(sub);
            if let Some(a) = &order.sub_appid {
                t["sub_appid"] = json!(a);
            }
        }
        None => {
            t["appid"] = json!(order.appid);
            t["mchid"] = json!(order.mch_id);
        }
    }
    if paid {
        t["transaction_id"] = json!(order.transaction_id);
        t["bank_type"] = json!("OTHERS");
        t["success_time"] = json!(rfc3339(order.time_end.unwrap_or(order.created_at)));
        let openid = order.payer_openid.clone().unwrap_or_default();
        t["payer"] = match (&order.sub_mch_id, &order.sub_openid) {
            (Some(_), Some(sub_openid)) => json!({ "sub_openid": sub_openid }),
            (Some(_), None) => json!({ "sp_openid": openid }),
            (None, _) => json!({ "openid": openid }),
        };
        t["amount"]["payer_total"] = json!(order.cash_fee().get());
    }
    t
}

fn state_desc(state: TradeState) -> &'static str {
    match state {
        TradeState::Success => "支付成功",
        TradeState::Refund => "转入退款",
        TradeState::NotPay => "未支付",
        TradeState::Closed => "已关闭",
        TradeState::Revoked => "已撤销",
        TradeState::UserPaying => "用户支付中",
        TradeState::PayError => "支付失败",
    }
}

/// A v3 refund as the refund call and query answer it.
pub(crate) fn refund_json(order: &Order, refund: &Refund) -> Value {
    let mut r = json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": order.transaction_id.clone().unwrap_or_default(),
        "out_trade_no": order.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": rfc3339(order.time_end.unwrap_or(order.created_at)),
        "status": v3_refund_status(refund.status),
        "funds_account": "AVAILABLE",
        "amount": refund_amount(order, refund),
    });
    if let Some(t) = refund.success_time {
        r["success_time"] = json!(rfc3339(t));
    }
    r
}

fn refund_amount(order: &Order, refund: &Refund) -> Value {
    json!({
        "total": order.total_fee.get(),
        "refund": refund.refund_fee.get(),
        "payer_total": order.cash_fee().get(),
        "payer_refund": refund.refund_fee.min(order.cash_fee()).get(),
        "settlement_refund": refund.refund_fee.get(),
        "settlement_total": order.total_fee.get(),
        "discount_refund": 0,
        "currency": order.fee_type,
    })
}

/// V2's refund statuses in v3's words.
fn v3_refund_status(v2: &str) -> &'static str {
    match v2 {
        "SUCCESS" => "SUCCESS",
        "REFUNDCLOSE" => "CLOSED",
        "CHANGE" => "ABNORMAL",
        _ => "PROCESSING",
    }
}

fn envelope(
    event_type: &str,
    summary: &str,
    original_type: &str,
    plaintext: &Value,
    key: &ApiV3Key,
) -> String {
    let sealed = Resource::seal(
        key,
        &nonce()[..12],
        original_type,
        Some(original_type),
        plaintext.to_string().as_bytes(),
    );
    let resource = sealed
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "create_time": rfc3339(crate::clock::now_unix()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
    })
    .to_string()
}

/// A `TRANSACTION.SUCCESS` notification's body for a paid order.
pub(crate) fn transaction_notification(order: &Order, account: &V3Account) -> String {
    envelope(
        "TRANSACTION.SUCCESS",
        "支付成功",
        "transaction",
        &transaction_json(order),
        &account.apiv3_key,
    )
}

/// A `REFUND.*` notification's body for a refund that reached its end.
pub(crate) fn refund_notification(order: &Order, refund: &Refund, account: &V3Account) -> String {
    let status = v3_refund_status(refund.status);
    let mut plain = json!({
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id.clone().unwrap_or_default(),
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": status,
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": order.total_fee.get(),
            "refund": refund.refund_fee.get(),
            "payer_total": order.cash_fee().get(),
            "payer_refund": refund.refund_fee.min(order.cash_fee()).get(),
        },
    });
    if let Some(t) = refund.success_time {
        plain["success_time"] = json!(rfc3339(t));
    }
    match &order.sub_mch_id {
        Some(sub) => {
            plain["sp_mchid"] = json!(order.mch_id);
            plain["sub_mchid"] = json!(sub);
        }
        None => plain["mchid"] = json!(order.mch_id),
    }
    let (event, summary) = match status {
        "SUCCESS" => ("REFUND.SUCCESS", "退款成功"),
        "CLOSED" => ("REFUND.CLOSED", "退款关闭"),
        _ => ("REFUND.ABNORMAL", "退款异常"),
    };
    envelope(event, summary, "refund", &plain, &account.apiv3_key)
}
