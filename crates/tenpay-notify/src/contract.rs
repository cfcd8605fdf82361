//! Contract notifications (委托代扣): a withholding contract signed or terminated. Verified
//! like a payment notification (the pinned sign type, a signature over every field, the
//! merchant's ids); deductions under a contract arrive as payment notifications.

use tenpay_xml::XmlMap;

use crate::Error;

tenpay_xml::wire_enum!(
    /// What happened to the contract (`change_type`).
    ContractChange {
        /// Signed.
        Add = "ADD",
        /// Terminated.
        Delete = "DELETE",
    }
);

/// A verified contract notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContractNotification {
    change: ContractChange,
    contract_id: String,
    plan_id: String,
    contract_code: String,
    raw: XmlMap,
}

fn required<'a>(raw: &'a XmlMap, name: &str) -> Result<&'a str, Error> {
    raw.get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Field(tenpay_xml::Error::MissingField(name.to_owned())))
}

impl ContractNotification {
    pub(crate) fn from_verified(raw: XmlMap) -> Result<Self, Error> {
        Ok(Self {
            change: ContractChange::from(required(&raw, "change_type")?),
            contract_id: required(&raw, "contract_id")?.to_owned(),
            plan_id: required(&raw, "plan_id")?.to_owned(),
            contract_code: required(&raw, "contract_code")?.to_owned(),
            raw,
        })
    }

    /// Whether the change succeeded (`result_code=SUCCESS`).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.raw.get("result_code") == Some("SUCCESS")
    }

    /// Signed or terminated.
    #[must_use]
    pub fn change(&self) -> &ContractChange {
        &self.change
    }

    /// WeChat Pay's contract id.
    #[must_use]
    pub fn contract_id(&self) -> &str {
        &self.contract_id
    }

    /// The plan.
    #[must_use]
    pub fn plan_id(&self) -> &str {
        &self.plan_id
    }

    /// The merchant's contract code: check it is the one you asked for.
    #[must_use]
    pub fn contract_code(&self) -> &str {
        &self.contract_code
    }

    /// Who signed: check it is the user you expect.
    #[must_use]
    pub fn openid(&self) -> Option<&str> {
        self.raw.get("openid")
    }

    /// The signing's request number.
    #[must_use]
    pub fn request_serial(&self) -> Option<&str> {
        self.raw.get("request_serial")
    }

    /// When (`yyyy-MM-dd HH:mm:ss`).
    #[must_use]
    pub fn operate_time(&self) -> Option<&str> {
        self.raw.get("operate_time")
    }

    /// When a signed contract expires.
    #[must_use]
    pub fn contract_expired_time(&self) -> Option<&str> {
        self.raw.get("contract_expired_time")
    }

    /// How a contract was terminated (1 expired, 2 user, 3 merchant API, 4 merchant
    /// platform, 5 account closed).
    #[must_use]
    pub fn contract_termination_mode(&self) -> Option<&str> {
        self.raw.get("contract_termination_mode")
    }

    /// The merchant.
    #[must_use]
    pub fn mch_id(&self) -> &str {
        self.raw.get("mch_id").unwrap_or("")
    }

    /// Every verified field.
    #[must_use]
    pub fn raw(&self) -> &XmlMap {
        &self.raw
    }
}
