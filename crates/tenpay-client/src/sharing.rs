//! Profit sharing (分账): receivers, a single or multiple split of a paid order (placed with
//! [`UnifiedOrder::profit_sharing`](crate::UnifiedOrder::profit_sharing)), the query, the
//! finish that releases the rest to the merchant, returns from a receiver and their query,
//! and the amount still to split.
//!
//! Every endpoint takes HMAC-SHA256 only (the client signs them so whatever it is configured
//! with); the splits, the finish and returns need the certificate. Receivers travel as a JSON
//! list inside a field: typed here ([`SharingReceiver`], [`NewReceiver`]), written compactly and
//! signed verbatim.

use serde::{Deserialize, Serialize};
use tenpay_sign::{ApiKey, SignType};
use tenpay_xml::{Fen, XmlMap};

use crate::endpoint::{Finish, MerchantFields, Route, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney, read_common};
use crate::{Answer, ErrCode, Error, Verifier};

tenpay_xml::wire_enum!(
    /// Who receives a share.
    ReceiverType {
        /// A merchant, by `mch_id`.
        MerchantId = "MERCHANT_ID",
        /// A person, by WeChat id (older accounts).
        PersonalWechatId = "PERSONAL_WECHATID",
        /// A person, by openid under the client's appid.
        PersonalOpenid = "PERSONAL_OPENID",
        /// A person, by openid under the sub-merchant's appid.
        PersonalSubOpenid = "PERSONAL_SUB_OPENID",
    }
);

tenpay_xml::wire_enum!(
    /// How a receiver relates to the merchant.
    RelationType {
        /// A service provider.
        ServiceProvider = "SERVICE_PROVIDER",
        /// A store.
        Store = "STORE",
        /// Staff.
        Staff = "STAFF",
        /// A store owner.
        StoreOwner = "STORE_OWNER",
        /// A partner.
        Partner = "PARTNER",
        /// Headquarters.
        Headquarter = "HEADQUARTER",
        /// A brand.
        Brand = "BRAND",
        /// A distributor.
        Distributor = "DISTRIBUTOR",
        /// A user.
        User = "USER",
        /// A supplier.
        Supplier = "SUPPLIER",
        /// Another relation (`custom_relation` names it).
        Custom = "CUSTOM",
    }
);

tenpay_xml::wire_enum!(
    /// A sharing order's `status`.
    SharingStatus {
        /// Accepted.
        Accepted = "ACCEPTED",
        /// Being split.
        Processing = "PROCESSING",
        /// Done.
        Finished = "FINISHED",
        /// Closed (failed).
        Closed = "CLOSED",
    }
);

tenpay_xml::wire_enum!(
    /// One share's `result` in a sharing query.
    ShareResult {
        /// Still being paid to the receiver.
        Pending = "PENDING",
        /// Paid to the receiver.
        Success = "SUCCESS",
        /// Not paid (see `fail_reason`, e.g. the receiver's account is frozen): the amount
        /// stays with the merchant.
        Closed = "CLOSED",
    }
);

/// A receiver of the merchant's, as added (`profitsharingaddreceiver`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewReceiver {
    #[serde(rename = "type")]
    kind: ReceiverType,
    account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    relation_type: RelationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_relation: Option<String>,
}

impl NewReceiver {
    /// A merchant receiver: its mch_id and its full registered name.
    #[must_use]
    pub fn merchant(
        mch_id: impl Into<String>,
        name: impl Into<String>,
        relation: RelationType,
    ) -> Self {
        Self {
            kind: ReceiverType::MerchantId,
            account: mch_id.into(),
            name: Some(name.into()),
            relation_type: relation,
            custom_relation: None,
        }
    }

    /// A person, by openid under the client's appid.
    #[must_use]
    pub fn openid(openid: impl Into<String>, relation: RelationType) -> Self {
        Self {
            kind: ReceiverType::PersonalOpenid,
            account: openid.into(),
            name: None,
            relation_type: relation,
            custom_relation: None,
        }
    }

    /// The person's name, checked by WeChat Pay when given.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A relation of the merchant's own naming (`CUSTOM`, at most 10 characters).
    #[must_use]
    pub fn custom_relation(mut self, relation: impl Into<String>) -> Self {
        self.relation_type = RelationType::Custom;
        self.custom_relation = Some(relation.into());
        self
    }
}

/// One share of a split: who, how much, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SharingReceiver {
    /// Who.
    #[serde(rename = "type")]
    pub kind: ReceiverType,
    /// Their account (mch_id or openid).
    pub account: String,
    /// How much (fen).
    #[serde(with = "tenpay_xml::fen_json")]
    pub amount: Fen,
    /// Why.
    pub description: String,
}

impl SharingReceiver {
    /// `amount` for `account` of kind `kind`, with a description.
    #[must_use]
    pub fn new(
        kind: ReceiverType,
        account: impl Into<String>,
        amount: Fen,
        description: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            account: account.into(),
            amount,
            description: description.into(),
        }
    }
}

/// A share's result, as the query reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SharingResult {
    /// Who.
    #[serde(rename = "type")]
    pub kind: ReceiverType,
    /// Their account.
    pub account: String,
    /// How much.
    #[serde(with = "tenpay_xml::fen_json")]
    pub amount: Fen,
    /// Why.
    #[serde(default)]
    pub description: String,
    /// `PENDING`, `SUCCESS` or `CLOSED`.
    #[serde(default)]
    pub result: Option<ShareResult>,
    /// Why it closed.
    #[serde(default)]
    pub fail_reason: Option<String>,
    /// When it finished.
    #[serde(default)]
    pub finish_time: Option<String>,
}

fn json<T: Serialize>(v: &T) -> String {
    // Serialising these plain structs cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// `/pay/profitsharingaddreceiver`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct AddReceiver {
    receiver: String,
}

impl AddReceiver {
    /// Adds `receiver` to the merchant's receivers.
    #[must_use]
    pub fn new(receiver: &NewReceiver) -> Self {
        Self {
            receiver: json(receiver),
        }
    }
}

/// `/pay/profitsharingremovereceiver`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RemoveReceiver {
    receiver: String,
}

impl RemoveReceiver {
    /// Removes the receiver `account` of kind `kind`.
    #[must_use]
    pub fn new(kind: ReceiverType, account: impl Into<String>) -> Self {
        #[derive(Serialize)]
        struct Who<'a> {
            #[serde(rename = "type")]
            kind: &'a ReceiverType,
            account: &'a str,
        }
        let account = account.into();
        Self {
            receiver: json(&Who {
                kind: &kind,
                account: &account,
            }),
        }
    }
}

/// The answer to adding or removing a receiver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ReceiverChanged {
    /// The receiver, as WeChat Pay echoes it (JSON).
    pub receiver: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// A split of a paid order among receivers.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Split {
    transaction_id: String,
    out_order_no: String,
    receivers: String,
}

impl Split {
    /// Splits WeChat Pay's `transaction_id` among `receivers` (at most 50), under the
    /// merchant's `out_order_no` (a repeat under it is the same split).
    #[must_use]
    pub fn new(
        transaction_id: impl Into<String>,
        out_order_no: impl Into<String>,
        receivers: &[SharingReceiver],
    ) -> Self {
        Self {
            transaction_id: transaction_id.into(),
            out_order_no: out_order_no.into(),
            receivers: json(&receivers),
        }
    }
}

/// `/secapi/pay/profitsharing`: the one split of an order; the rest is released to the
/// merchant.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ProfitSharing(Split);

impl ProfitSharing {
    /// The one split.
    #[must_use]
    pub fn new(split: Split) -> Self {
        Self(split)
    }
}

/// `/secapi/pay/multiprofitsharing`: one of several splits; the rest stays frozen until
/// [`FinishSharing`].
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct MultiProfitSharing(Split);

impl MultiProfitSharing {
    /// One of several splits.
    #[must_use]
    pub fn new(split: Split) -> Self {
        Self(split)
    }
}

/// A split (or finish) accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SharingAccepted {
    /// The payment.
    pub transaction_id: String,
    /// The merchant's number.
    pub out_order_no: String,
    /// WeChat Pay's number.
    pub order_id: String,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/pay/profitsharingquery` (no appid).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharingQuery {
    transaction_id: String,
    out_order_no: String,
}

impl SharingQuery {
    /// The split (or finish) `out_order_no` of the payment `transaction_id`.
    #[must_use]
    pub fn new(transaction_id: impl Into<String>, out_order_no: impl Into<String>) -> Self {
        Self {
            transaction_id: transaction_id.into(),
            out_order_no: out_order_no.into(),
        }
    }
}

/// A sharing order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SharingOrder {
    /// The payment.
    pub transaction_id: String,
    /// The merchant's number.
    pub out_order_no: String,
    /// WeChat Pay's number.
    pub order_id: String,
    /// The state.
    pub status: SharingStatus,
    /// Why it closed.
    pub close_reason: Option<String>,
    /// Each share's result.
    #[serde(skip)]
    pub receivers: Vec<SharingResult>,
    /// A finish's amount.
    pub amount: Option<Fen>,
    /// A finish's description.
    pub description: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/secapi/pay/profitsharingfinish`: ends the splits of a payment, releasing what is left
/// to the merchant.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FinishSharing {
    transaction_id: String,
    out_order_no: String,
    description: String,
}

impl FinishSharing {
    /// Finishes `transaction_id` under a new `out_order_no`.
    #[must_use]
    pub fn new(
        transaction_id: impl Into<String>,
        out_order_no: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            transaction_id: transaction_id.into(),
            out_order_no: out_order_no.into(),
            description: description.into(),
        }
    }
}

/// `/secapi/pay/profitsharingreturn`: a merchant receiver returns part of its share.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharingReturn {
    out_order_no: String,
    out_return_no: String,
    return_account_type: &'static str,
    return_account: String,
    return_amount: Fen,
    description: String,
}

impl SharingReturn {
    /// `amount` back from the merchant receiver `mch_id`, for the split `out_order_no`,
    /// under the merchant's `out_return_no`.
    #[must_use]
    pub fn new(
        out_order_no: impl Into<String>,
        out_return_no: impl Into<String>,
        mch_id: impl Into<String>,
        amount: Fen,
        description: impl Into<String>,
    ) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            out_return_no: out_return_no.into(),
            return_account_type: "MERCHANT_ID",
            return_account: mch_id.into(),
            return_amount: amount,
            description: description.into(),
        }
    }
}

/// `/pay/profitsharingreturnquery`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SharingReturnQuery {
    out_order_no: String,
    out_return_no: String,
}

impl SharingReturnQuery {
    /// The return `out_return_no` of the split `out_order_no`.
    #[must_use]
    pub fn new(out_order_no: impl Into<String>, out_return_no: impl Into<String>) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            out_return_no: out_return_no.into(),
        }
    }
}

/// A return's record. Its answer reports failures as `error_code` / `error_msg` (this
/// family's exception), read here into [`Error::Business`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SharingReturned {
    /// The split.
    pub out_order_no: Option<String>,
    /// The merchant's number.
    pub out_return_no: String,
    /// WeChat Pay's number.
    pub return_no: Option<String>,
    /// Who returned.
    pub return_account: Option<String>,
    /// How much.
    pub return_amount: Option<Fen>,
    /// `PROCESSING`, `SUCCESS` or `FAILED`.
    pub result: Option<String>,
    /// Why it failed.
    pub fail_reason: Option<String>,
    /// When it finished.
    pub finish_time: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/pay/profitsharingorderamountquery` (no appid): what is left to split.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UnsplitAmountQuery {
    transaction_id: String,
}

impl UnsplitAmountQuery {
    /// The payment `transaction_id`.
    #[must_use]
    pub fn new(transaction_id: impl Into<String>) -> Self {
        Self {
            transaction_id: transaction_id.into(),
        }
    }
}

/// What is left to split of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UnsplitAmount {
    /// The payment.
    pub transaction_id: String,
    /// Frozen, still to split (fen).
    pub unsplit_amount: Fen,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// The profit-sharing family's route at `path`: HMAC-SHA256 only, signed answers, the
/// merchant under `appid` (or no appid) and `mch_id`, safe to repeat.
const fn sharing_route(path: &'static str, appid: Option<&'static str>) -> Route<'static> {
    Route::new(path)
        .retry_safe()
        .signed_with(SignType::HmacSha256)
        .named(MerchantFields::named(appid, "mch_id"))
}

keep_raw!(ReceiverChanged, SharingAccepted, UnsplitAmount);

impl Finish for SharingOrder {
    fn finish(&mut self, raw: XmlMap) -> Result<(), Error> {
        if let Some(list) = raw.get("receivers").filter(|l| !l.is_empty()) {
            self.receivers = serde_json::from_str(list).map_err(|e| Error::NotXml {
                reason: format!("receivers is not the JSON list WeChat Pay sends: {e}"),
                excerpt: list.chars().take(200).collect(),
            })?;
        }
        self.raw = raw;
        Ok(())
    }
}

endpoint!(AddReceiver => ReceiverChanged, sharing_route("/pay/profitsharingaddreceiver", Some("appid")));
endpoint!(RemoveReceiver => ReceiverChanged, sharing_route("/pay/profitsharingremovereceiver", Some("appid")));
endpoint!(ProfitSharing => SharingAccepted, sharing_route("/secapi/pay/profitsharing", Some("appid")).certificate().moving_money());
endpoint!(MultiProfitSharing => SharingAccepted, sharing_route("/secapi/pay/multiprofitsharing", Some("appid")).certificate().moving_money());
endpoint!(SharingQuery => SharingOrder, sharing_route("/pay/profitsharingquery", None));
endpoint!(FinishSharing => SharingAccepted, sharing_route("/secapi/pay/profitsharingfinish", Some("appid")).certificate().moving_money());
endpoint!(UnsplitAmountQuery => UnsplitAmount, sharing_route("/pay/profitsharingorderamountquery", None));

/// Returns answer with `error_code` / `error_msg` under `return_code=FAIL`; verified first
/// when signed.
fn decode_return(v: &Verifier, key: &ApiKey, answer: Answer) -> Result<SharingReturned, Error> {
    let answer = &answer;
    let map = XmlMap::parse(answer.body()).map_err(|e| Error::NotXml {
        reason: e.to_string(),
        excerpt: crate::error::excerpt(answer.body()),
    })?;
    if map.get("sign").is_some() {
        map.verify(key, SignType::HmacSha256)
            .map_err(Error::BadSignature)?;
    }
    if let Some(code) = map.get("error_code").filter(|c| !c.is_empty()) {
        return Err(Error::Business {
            err_code: code.into(),
            err_code_des: map.get("error_msg").unwrap_or("").to_owned(),
        });
    }
    // Otherwise the usual rules (signature, ids, result_code).
    let map = if map.get("sign").is_some() {
        v.verify(key, answer)?
    } else {
        v.check_unsigned(answer)?
    };
    let mut typed: SharingReturned = tenpay_xml::from_map(&map).map_err(Error::Decode)?;
    typed.raw = map;
    Ok(typed)
}

endpoint!(SharingReturn => SharingReturned, sharing_route("/secapi/pay/profitsharingreturn", Some("appid")).certificate().moving_money(), decode: decode_return);

/// A split's first refusals that moved nothing (`V2-FAMILIES.md` §5.4): not a sharing order,
/// not ready yet (repeat later with the same number), the rate limit; `INVALID_REQUEST`
/// ("before settlement" and others) and unknown codes are open.
const SPLIT_FINAL: &[&str] = &["NOT_SHARE_ORDER", "ORDER_NOT_READY", "FREQUENCY_LIMITED"];

macro_rules! moves_money_by {
    ($t:ty, |$s:ident| $number:expr, $final:expr) => {
        impl MovesMoney for $t {
            fn number(&self) -> &str {
                let $s = self;
                $number
            }

            fn read_code(code: &ErrCode) -> CodeReading {
                read_common(code, $final)
            }
        }
    };
}

moves_money_by!(ProfitSharing, |s| &s.0.out_order_no, SPLIT_FINAL);
moves_money_by!(MultiProfitSharing, |s| &s.0.out_order_no, SPLIT_FINAL);
moves_money_by!(FinishSharing, |s| &s.out_order_no, SPLIT_FINAL);
moves_money_by!(SharingReturn, |s| &s.out_return_no, &["FREQUENCY_LIMITED"]);
endpoint!(SharingReturnQuery => SharingReturned, sharing_route("/pay/profitsharingreturnquery", Some("appid")), decode: decode_return);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn receivers_are_compact_json_and_sign_to_the_computed_vectors() {
        let list = [SharingReceiver::new(
            ReceiverType::MerchantId,
            "190001001",
            Fen::new(100),
            "分到商户",
        )];
        let split = ProfitSharing::new(Split::new(
            "4208450740201411110007820472",
            "P20150806125346",
            &list,
        ));
        let mut m = crate::Endpoint::to_map(&split).unwrap();
        assert_eq!(
            m.get("receivers"),
            Some(
                r#"[{"type":"MERCHANT_ID","account":"190001001","amount":100,"description":"分到商户"}]"#
            )
        );
        for (k, v) in [
            ("appid", "wx2421b1c4370ec43b"),
            ("mch_id", "10000100"),
            ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
            ("sign_type", "HMAC-SHA256"),
        ] {
            m.insert(k, v).unwrap();
        }
        let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        m.sign(&key, SignType::HmacSha256).unwrap();
        // V2-FAMILIES.md §5.6.
        assert_eq!(
            m.get("sign"),
            Some("85452FAED9B82331FA05FE7DCF8295F9D3B64D4F8D157CB428FD7E3B0A73553D")
        );
        let add = AddReceiver::new(&NewReceiver::merchant(
            "190001001",
            "示例商户全称",
            RelationType::StoreOwner,
        ));
        let mut m = crate::Endpoint::to_map(&add).unwrap();
        for (k, v) in [
            ("appid", "wx2421b1c4370ec43b"),
            ("mch_id", "10000100"),
            ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
            ("sign_type", "HMAC-SHA256"),
        ] {
            m.insert(k, v).unwrap();
        }
        m.sign(&key, SignType::HmacSha256).unwrap();
        assert_eq!(
            m.get("sign"),
            Some("80A37C3A772D22ECF8F8E425CB1E9045873BE40475AA4A6F94986494AE4ED3A6")
        );
        // The query's list reads back.
        let results: Vec<SharingResult> = serde_json::from_str(
            r#"[{"type":"MERCHANT_ID","account":"190001001","amount":100,"description":"d","result":"SUCCESS","finish_time":"20261201120000"}]"#,
        )
        .unwrap();
        assert_eq!(results[0].amount, Fen::new(100));
        assert_eq!(results[0].result, Some(ShareResult::Success));
    }
}
