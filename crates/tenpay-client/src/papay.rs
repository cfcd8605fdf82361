//! Withholding contracts (委托代扣, papay): signing in each channel WeChat Pay offers, the
//! contract's query and termination, deductions under a contract and their query.
//!
//! Signing: the official-account page ([`Client::entrust_web_url`], a signed GET URL), the H5
//! page ([`Client::h5_entrust_url`], HMAC-SHA256), the mini-program jump
//! ([`Client::miniprogram_entrust_data`], the `extraData` to pass), the APP pre-sign call
//! ([`Client::pre_entrust`]) and "pay and sign" in one order ([`Client::contract_order`]).
//! Contract calls carry no `nonce_str` (WeChat Pay's rule); the signing result arrives as a
//! contract notification (`tenpay-notify`), deduction results as payment notifications.

use serde::{Deserialize, Serialize};
use tenpay_sign::SignType;
use tenpay_xml::{ErrCode, Fen, OutTradeNo, XmlMap};

use crate::Route;
use crate::endpoint::{Endpoint, MerchantFields, endpoint, keep_raw};
use crate::outcome::{CodeReading, MovesMoney, read_common};
use crate::{Error, UnifiedOrder};

tenpay_xml::wire_enum!(
    /// A contract's `contract_state`.
    ContractState {
        /// Signed and in force.
        Valid = "0",
        /// Terminated.
        Terminated = "1",
    }
);

tenpay_xml::wire_enum!(
    /// A deduction's `trade_state` (`paporderquery`).
    PapTradeState {
        /// Deducted.
        Success = "SUCCESS",
        /// Refunded.
        Refund = "REFUND",
        /// Not deducted.
        NotPay = "NOTPAY",
        /// Closed.
        Closed = "CLOSED",
        /// Accepted, waiting to be deducted.
        Accept = "ACCEPT",
        /// The deduction failed (no funds, …).
        PayFail = "PAY_FAIL",
    }
);

/// What a signing names: the plan (a template on the merchant platform), the merchant's own
/// contract number, a request number, what the user sees, and where the result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContractSigning {
    /// The plan's id.
    pub plan_id: String,
    /// The merchant's contract number (letters and digits, at most 32).
    pub contract_code: String,
    /// A number unique to this request (no leading zero).
    pub request_serial: u64,
    /// What the user sees as the account (no emoji, at most 32).
    pub contract_display_account: String,
    /// Where the contract notification goes.
    pub notify_url: String,
}

impl ContractSigning {
    /// A signing request.
    #[must_use]
    pub fn new(
        plan_id: impl Into<String>,
        contract_code: impl Into<String>,
        request_serial: u64,
        contract_display_account: impl Into<String>,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            plan_id: plan_id.into(),
            contract_code: contract_code.into(),
            request_serial,
            contract_display_account: contract_display_account.into(),
            notify_url: notify_url.into(),
        }
    }
}

/// `/papay/preentrustweb` (APP): the `pre_entrustweb_id` for the app SDK.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PreEntrust {
    /// What the app SDK opens.
    pub pre_entrustweb_id: String,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/pay/contractorder`: pay and sign in one order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ContractOrder {
    order: UnifiedOrder,
    signing: ContractSigning,
}

impl ContractOrder {
    /// Places `order` and signs `signing` when it is paid (the contract's notification goes to
    /// the signing's `notify_url`, sent as `contract_notify_url`).
    #[must_use]
    pub fn new(order: UnifiedOrder, signing: ContractSigning) -> Self {
        Self { order, signing }
    }
}

/// The answer to [`ContractOrder`]: the order's, and the contract's own result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ContractOrderResponse {
    /// The prepay id.
    pub prepay_id: String,
    /// NATIVE's code URL.
    pub code_url: Option<String>,
    /// MWEB's URL.
    pub mweb_url: Option<String>,
    /// `SUCCESS` when the signing was accepted with the order.
    pub contract_result_code: Option<String>,
    /// Why not.
    pub contract_err_code: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/papay/querycontract`: a contract by its id, or by plan and contract code.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct QueryContract {
    contract_id: Option<String>,
    plan_id: Option<String>,
    contract_code: Option<String>,
    version: &'static str,
}

impl QueryContract {
    /// By WeChat Pay's contract id.
    #[must_use]
    pub fn by_id(contract_id: impl Into<String>) -> Self {
        Self {
            contract_id: Some(contract_id.into()),
            plan_id: None,
            contract_code: None,
            version: "1.0",
        }
    }

    /// By the plan and the merchant's contract code.
    #[must_use]
    pub fn by_code(plan_id: impl Into<String>, contract_code: impl Into<String>) -> Self {
        Self {
            contract_id: None,
            plan_id: Some(plan_id.into()),
            contract_code: Some(contract_code.into()),
            version: "1.0",
        }
    }
}

/// A contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Contract {
    /// WeChat Pay's id.
    pub contract_id: String,
    /// The plan.
    pub plan_id: String,
    /// The merchant's code.
    pub contract_code: String,
    /// The signing's request number.
    pub request_serial: Option<String>,
    /// What the user sees.
    pub contract_display_account: Option<String>,
    /// In force or terminated.
    pub contract_state: ContractState,
    /// When it was signed (as sent: Unix seconds or `yyyy-MM-dd HH:mm:ss`).
    pub contract_signed_time: Option<String>,
    /// When it expires.
    pub contract_expired_time: Option<String>,
    /// When it was terminated.
    pub contract_terminated_time: Option<String>,
    /// How (1 expired, 2 user, 3 merchant API, 4 merchant platform, 5 account closed).
    pub contract_termination_mode: Option<String>,
    /// Who signed.
    pub openid: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/papay/deletecontract`: terminates a contract.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DeleteContract {
    contract_id: Option<String>,
    plan_id: Option<String>,
    contract_code: Option<String>,
    contract_termination_remark: String,
    version: &'static str,
}

impl DeleteContract {
    /// Terminates contract `contract_id`, saying why (at most 256 bytes).
    #[must_use]
    pub fn by_id(contract_id: impl Into<String>, remark: impl Into<String>) -> Self {
        Self {
            contract_id: Some(contract_id.into()),
            plan_id: None,
            contract_code: None,
            contract_termination_remark: remark.into(),
            version: "1.0",
        }
    }
}

/// A terminated contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DeletedContract {
    /// WeChat Pay's id.
    pub contract_id: String,
    /// The plan.
    pub plan_id: Option<String>,
    /// The merchant's code.
    pub contract_code: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/pay/pappayapply`: a deduction under a contract. Accepted is not paid: the result comes
/// as a payment notification, or with [`PapOrderQuery`]. A repeat under the same
/// `out_trade_no` is the same deduction.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PapPayApply {
    body: String,
    out_trade_no: OutTradeNo,
    total_fee: Fen,
    spbill_create_ip: String,
    notify_url: String,
    trade_type: &'static str,
    contract_id: String,
    attach: Option<String>,
}

impl PapPayApply {
    /// Deducts `total_fee` under `contract_id`.
    #[must_use]
    pub fn new(
        body: impl Into<String>,
        out_trade_no: OutTradeNo,
        total_fee: Fen,
        client_ip: impl Into<String>,
        notify_url: impl Into<String>,
        contract_id: impl Into<String>,
    ) -> Self {
        Self {
            body: body.into(),
            out_trade_no,
            total_fee,
            spbill_create_ip: client_ip.into(),
            notify_url: notify_url.into(),
            trade_type: "PAP",
            contract_id: contract_id.into(),
            attach: None,
        }
    }
}

/// A deduction accepted (the envelope only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PapPayAccepted {
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

/// `/pay/paporderquery`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PapOrderQuery {
    out_trade_no: OutTradeNo,
}

impl PapOrderQuery {
    /// The deduction `out_trade_no`.
    #[must_use]
    pub fn new(out_trade_no: OutTradeNo) -> Self {
        Self { out_trade_no }
    }
}

/// A deduction's record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PapOrder {
    /// The state.
    pub trade_state: PapTradeState,
    /// The contract.
    pub contract_id: Option<String>,
    /// The merchant's number.
    pub out_trade_no: Option<String>,
    /// WeChat Pay's number, once deducted.
    pub transaction_id: Option<String>,
    /// The amount.
    pub total_fee: Option<Fen>,
    /// For people.
    pub trade_state_desc: Option<String>,
    /// Every field.
    #[serde(skip)]
    pub raw: XmlMap,
}

keep_raw!(PreEntrust);
keep_raw!(ContractOrderResponse);
keep_raw!(Contract);
keep_raw!(DeletedContract);
keep_raw!(PapPayAccepted);
keep_raw!(PapOrder);

// Contract calls: signed answers, no `nonce_str`.
endpoint!(QueryContract => Contract, Route::new("/papay/querycontract").retry_safe().without_nonce());
endpoint!(DeleteContract => DeletedContract, Route::new("/papay/deletecontract").retry_safe().without_nonce());
endpoint!(PapPayApply => PapPayAccepted, Route::new("/pay/pappayapply").retry_safe().moving_money(),
    trade_no: |r| Some(r.out_trade_no.as_str()));

/// No official error table (`V2-FAMILIES.md` §4.5): configuration codes and a contract that
/// does not exist (`CONTRACT_NOT_EXIST`: nothing can be deducted under it) are final, a used
/// number is taken, everything else is open.
impl MovesMoney for PapPayApply {
    fn number(&self) -> &str {
        self.out_trade_no.as_str()
    }

    fn read_code(code: &ErrCode) -> CodeReading {
        read_common(code, &["CONTRACT_NOT_EXIST"])
    }
}
endpoint!(PapOrderQuery => PapOrder, Route::new("/pay/paporderquery").retry_safe(),
    trade_no: |r| Some(r.out_trade_no.as_str()));

/// The signing fields every channel shares (the merchant's ids are added by the caller).
pub(crate) fn signing_fields(
    m: &mut XmlMap,
    s: &ContractSigning,
    timestamp: i64,
    version: bool,
) -> Result<(), tenpay_xml::Error> {
    contract_fields(m, s, "notify_url")?;
    m.insert("timestamp", &timestamp.to_string())?;
    if version {
        m.insert("version", "1.0")?;
    }
    Ok(())
}

/// The contract's own fields, its notify URL under `notify_field` (`notify_url` on the signing
/// pages, `contract_notify_url` in contractorder).
fn contract_fields(
    m: &mut XmlMap,
    s: &ContractSigning,
    notify_field: &str,
) -> Result<(), tenpay_xml::Error> {
    m.insert("plan_id", &s.plan_id)?;
    m.insert("contract_code", &s.contract_code)?;
    m.insert("request_serial", &s.request_serial.to_string())?;
    m.insert("contract_display_account", &s.contract_display_account)?;
    m.insert(notify_field, &s.notify_url)
}

/// `papay/preentrustweb` (the APP's pre-sign call): MD5, no nonce; built by
/// [`Client::pre_entrust`] with the client's clock.
pub(crate) struct PreEntrustWeb<'a> {
    pub(crate) signing: &'a ContractSigning,
    pub(crate) timestamp: i64,
}

impl Endpoint for PreEntrustWeb<'_> {
    type Response = PreEntrust;
    const ROUTE: Route<'static> = Route::new("/papay/preentrustweb")
        .retry_safe()
        .without_nonce()
        .signed_with(SignType::Md5);

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        let mut m = XmlMap::new();
        signing_fields(&mut m, self.signing, self.timestamp, true)?;
        Ok(m)
    }

    fn decode(
        v: &crate::Verifier,
        key: &tenpay_sign::ApiKey,
        answer: crate::Answer,
    ) -> Result<PreEntrust, Error> {
        crate::endpoint::decode_by_route::<Self>(v, key, answer)
    }
}

/// `pay/contractorder`: the order's fields, the signing's, and the merchant named twice (for
/// the order and for the contract).
impl Endpoint for ContractOrder {
    type Response = ContractOrderResponse;
    const ROUTE: Route<'static> = Route::new("/pay/contractorder")
        .retry_safe()
        .named(MerchantFields::PAY.again_as("contract_appid", "contract_mchid"));

    fn to_map(&self) -> Result<XmlMap, tenpay_xml::Error> {
        let mut m = Endpoint::to_map(&self.order)?;
        contract_fields(&mut m, &self.signing, "contract_notify_url")?;
        Ok(m)
    }

    fn out_trade_no(&self) -> Option<&str> {
        Endpoint::out_trade_no(&self.order)
    }

    fn decode(
        v: &crate::Verifier,
        key: &tenpay_sign::ApiKey,
        answer: crate::Answer,
    ) -> Result<ContractOrderResponse, Error> {
        crate::endpoint::decode_by_route::<Self>(v, key, answer)
    }
}

/// The answer to [`Client::h5_entrust`](crate::Client::h5_entrust).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct H5Entrust {
    /// The WeChat Pay page to send the user to, to sign.
    pub redirect_url: String,
    /// Every field of the answer.
    #[serde(skip)]
    pub raw: XmlMap,
}
