//! Withholding (papay), as the simulator keeps it: signings waiting for the user, and
//! contracts.

use std::collections::HashMap;

/// A signing the user has not completed yet.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) mch_id: String,
    pub(crate) plan_id: String,
    pub(crate) contract_code: String,
    pub(crate) request_serial: String,
    pub(crate) display: String,
    pub(crate) notify_url: String,
}

/// A contract.
#[derive(Debug, Clone)]
pub(crate) struct Contract {
    pub(crate) pending: Pending,
    pub(crate) contract_id: String,
    pub(crate) openid: String,
    pub(crate) signed_at: i64,
    pub(crate) terminated_at: Option<i64>,
    pub(crate) termination_mode: Option<&'static str>,
}

/// Every merchant's signings and contracts.
#[derive(Debug, Default)]
pub(crate) struct PapayBook {
    /// By `(mch_id, contract_code)`.
    pub(crate) pending: HashMap<(String, String), Pending>,
    /// By contract id.
    pub(crate) contracts: HashMap<String, Contract>,
    /// Pay and sign: `(mch_id, out_trade_no)` → the contract code its payment signs.
    pub(crate) on_pay: HashMap<(String, String), String>,
}

/// A contract, for tests and the control API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ContractView {
    /// WeChat Pay's id.
    pub contract_id: String,
    /// The merchant.
    pub mch_id: String,
    /// The plan.
    pub plan_id: String,
    /// The merchant's code.
    pub contract_code: String,
    /// Who signed.
    pub openid: String,
    /// Whether it is in force.
    pub valid: bool,
}

impl Contract {
    pub(crate) fn view(&self) -> ContractView {
        ContractView {
            contract_id: self.contract_id.clone(),
            mch_id: self.pending.mch_id.clone(),
            plan_id: self.pending.plan_id.clone(),
            contract_code: self.pending.contract_code.clone(),
            openid: self.openid.clone(),
            valid: self.terminated_at.is_none(),
        }
    }
}

/// A signing waiting for the user, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SigningView {
    pub(crate) mch_id: String,
    pub(crate) plan_id: String,
    pub(crate) contract_code: String,
    pub(crate) contract_display_account: String,
}

impl PapayBook {
    /// Keeps at most `cap` contracts and waiting signings: past it, the oldest terminated
    /// contract goes first, then the oldest signed one; the oldest signing.
    pub(crate) fn trim(&mut self, cap: usize) {
        let cap = cap.max(1);
        while self.contracts.len() > cap {
            let oldest = self
                .contracts
                .values()
                .min_by_key(|c| {
                    (
                        c.terminated_at.is_none(),
                        c.signed_at,
                        c.contract_id.clone(),
                    )
                })
                .map(|c| c.contract_id.clone());
            match oldest {
                Some(id) => drop(self.contracts.remove(&id)),
                None => break,
            }
        }
        while self.pending.len() > cap {
            match self.pending.keys().next().cloned() {
                Some(k) => drop(self.pending.remove(&k)),
                None => break,
            }
        }
        while self.on_pay.len() > cap {
            match self.on_pay.keys().next().cloned() {
                Some(k) => drop(self.on_pay.remove(&k)),
                None => break,
            }
        }
    }

    pub(crate) fn signing_views(&self) -> Vec<SigningView> {
        let mut v: Vec<_> = self
            .pending
            .values()
            .map(|p| SigningView {
                mch_id: p.mch_id.clone(),
                plan_id: p.plan_id.clone(),
                contract_code: p.contract_code.clone(),
                contract_display_account: p.display.clone(),
            })
            .collect();
        v.sort_by(|a, b| a.contract_code.cmp(&b.contract_code));
        v
    }
}
