//! Transfers to a user's WeChat balance (企业付款到零钱): `promotion/transfers` and
//! `gettransferinfo`.

use serde::{Deserialize, Serialize};
use tenpay_xml::{Fen, PartnerTradeNo, XmlMap};

use super::classify::{self, Family};
use super::settle::{Confirm, QueryVerdict, payout_route};
use crate::endpoint::{MerchantFields, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney};
use tenpay_xml::ErrCode;

tenpay_xml::wire_enum!(
    /// `check_name`: whether WeChat Pay checks the payee's real name.
    CheckName {
        /// No check.
        NoCheck = "NO_CHECK",
        /// The name must match (`re_user_name`).
        ForceCheck = "FORCE_CHECK",
    }
);

tenpay_xml::wire_enum!(
    /// A transfer's `status` (`gettransferinfo`).
    TransferStatus {
        /// Paid.
        Success = "SUCCESS",
        /// Failed for good: paying again needs a new number.
        Failed = "FAILED",
        /// Still being paid.
        Processing = "PROCESSING",
    }
);

/// `/mmpaymkttransfers/promotion/transfers`: pay `amount` to a user's balance (certificate,
/// MD5; the merchant named `mch_appid` / `mchid`). Repeating it with the same
/// `partner_trade_no` and the same fields is the same transfer.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Transfer {
    partner_trade_no: PartnerTradeNo,
    openid: String,
    check_name: CheckName,
    re_user_name: Option<String>,
    amount: Fen,
    desc: String,
    spbill_create_ip: String,
    device_info: Option<String>,
}

impl Transfer {
    /// Pays `amount` to `openid` (under the client's appid), without a name check;
    /// `client_ip` is the calling machine's address.
    #[must_use]
    pub fn new(
        partner_trade_no: PartnerTradeNo,
        openid: impl Into<String>,
        amount: Fen,
        desc: impl Into<String>,
        client_ip: impl Into<String>,
    ) -> Self {
        Self {
            partner_trade_no,
            openid: openid.into(),
            check_name: CheckName::NoCheck,
            re_user_name: None,
            amount,
            desc: desc.into(),
            spbill_create_ip: client_ip.into(),
            device_info: None,
        }
    }

    /// Pays only if the payee's real name is `name` (`FORCE_CHECK`).
    #[must_use]
    pub fn check_name(mut self, name: impl Into<String>) -> Self {
        self.check_name = CheckName::ForceCheck;
        self.re_user_name = Some(name.into());
        self
    }

    /// The number.
    #[must_use]
    pub fn partner_trade_no(&self) -> &PartnerTradeNo {
        &self.partner_trade_no
    }
}

/// A transfer WeChat Pay says is paid (an unsigned answer: a claim).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Transferred {
    /// The number.
    pub partner_trade_no: String,
    /// WeChat Pay's payment number.
    pub payment_no: String,
    /// When it was paid (`yyyy-MM-dd HH:mm:ss`, as sent).
    pub payment_time: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/mmpaymkttransfers/gettransferinfo`: a transfer's state by its number (certificate, MD5;
/// the merchant named `appid` / `mch_id`). `NOT_FOUND` means WeChat Pay has no record.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TransferQuery {
    partner_trade_no: PartnerTradeNo,
}

impl TransferQuery {
    /// The transfer `partner_trade_no`.
    #[must_use]
    pub fn new(partner_trade_no: PartnerTradeNo) -> Self {
        Self { partner_trade_no }
    }
}

/// A transfer's record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TransferInfo {
    /// The number.
    pub partner_trade_no: String,
    /// WeChat Pay's payment number.
    pub detail_id: Option<String>,
    /// The state.
    pub status: TransferStatus,
    /// Why it failed.
    pub reason: Option<String>,
    /// The payee.
    pub openid: Option<String>,
    /// The payee's name, when checked.
    pub transfer_name: Option<String>,
    /// The amount.
    pub payment_amount: Option<Fen>,
    /// When it was asked for.
    pub transfer_time: Option<String>,
    /// When it was paid.
    pub payment_time: Option<String>,
    /// The description.
    pub desc: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

endpoint!(Transfer => Transferred, payout_route("/mmpaymkttransfers/promotion/transfers", MerchantFields::named(Some("mch_appid"), "mchid")).moving_money());
endpoint!(TransferQuery => TransferInfo, payout_route("/mmpaymkttransfers/gettransferinfo", MerchantFields::named(Some("appid"), "mch_id")));
keep_raw!(Transferred, TransferInfo);

impl MovesMoney for Transfer {
    fn number(&self) -> &str {
        self.partner_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        classify::read(Family::Transfer, code)
    }
}

impl Confirm for Transfer {
    type Query = TransferQuery;

    fn query(&self) -> TransferQuery {
        TransferQuery::new(self.partner_trade_no.clone())
    }

    fn verdict(info: &TransferInfo) -> QueryVerdict {
        match info.status {
            TransferStatus::Success => QueryVerdict::Done,
            TransferStatus::Failed => QueryVerdict::Failed,
            _ => QueryVerdict::Pending,
        }
    }
}
