//! Withholding (papay) from the protocol: signings the user completes (from a signing URL
//! the merchant made, or the APP pre-sign call), contracts per plan, their query and
//! termination with the contract notifications, and deductions under a contract that
//! succeed or fail on request (the control API's pay / fail) and are notified as payments.

use tenpay_sign::SignType;
use tenpay_xml::XmlMap;

use super::order::new_order;
use super::{Engine, Req, Verdict, biz, ok, rules};
use crate::clock::{dashed, now_unix};
use crate::error::Refusal;
use crate::ids::{random_u64, seq};
use crate::model::DeliveryKind;
use crate::papay::{Contract, ContractView, Pending};
use crate::state::TradeState;

fn pending_from(map: &XmlMap, mch_id: &str) -> Option<Pending> {
    let get = |k: &str| map.get(k).filter(|v| !v.is_empty()).map(str::to_owned);
    Some(Pending {
        mch_id: mch_id.to_owned(),
        plan_id: get("plan_id")?,
        contract_code: get("contract_code")?,
        request_serial: get("request_serial")?,
        display: get("contract_display_account")?,
        notify_url: get("notify_url").or_else(|| get("contract_notify_url"))?,
    })
}

impl Engine {
    pub(in crate::protocol) fn pre_entrust(&self, req: &Req<'_>) -> Verdict {
        let Some(p) = pending_from(&req.map, &req.merchant.mch_id) else {
            return biz(
                "PARAM_ERROR",
                "plan_id、contract_code、request_serial、contract_display_account、notify_url必填",
            );
        };
        let id = format!(
            "5778aadY9nltAsZzXixCkFIGYnV2V{:08x}",
            random_u64() % (1 << 32)
        );
        let mut state = self.lock();
        state
            .papay
            .pending
            .insert((p.mch_id.clone(), p.contract_code.clone()), p);
        let cap = state.payout_cap();
        state.papay.trim(cap);
        ok([("pre_entrustweb_id", id)])
    }

    /// The user opens a signing URL (`papay/entrustweb` or `h5entrustweb`): its signature is
    /// checked with the merchant's key, and the signing waits for the user.
    pub(crate) fn open_signing_url(&self, url: &str) -> Result<(), Refusal> {
        let bad = || Refusal::WrongState {
            out_trade_no: url.chars().take(80).collect(),
            state: "not a signed signing URL",
            expected: "a papay signing URL signed with the merchant's key",
        };
        let query = url.split_once('?').map(|(_, q)| q).ok_or_else(bad)?;
        let mut map = XmlMap::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').ok_or_else(bad)?;
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .map_err(|_| bad())?;
            map.insert(k, &v).map_err(|_| bad())?;
        }
        let mch_id = map.get("mch_id").ok_or_else(bad)?.to_owned();
        let merchant = self.merchant(&mch_id).ok_or_else(bad)?;
        let sign_type = if url.contains("/h5entrustweb") {
            SignType::HmacSha256
        } else {
            SignType::Md5
        };
        map.verify(&merchant.key, sign_type).map_err(|_| bad())?;
        if map.get("appid") != Some(merchant.appid.as_str()) {
            return Err(bad());
        }
        let p = pending_from(&map, &mch_id).ok_or_else(bad)?;
        let mut state = self.lock();
        state
            .papay
            .pending
            .insert((mch_id, p.contract_code.clone()), p);
        let cap = state.payout_cap();
        state.papay.trim(cap);
        Ok(())
    }

    /// Whether a signing of `contract_code` waits for the user.
    pub(crate) fn signing_waits(&self, mch_id: &str, contract_code: &str) -> bool {
        self.lock()
            .papay
            .pending
            .contains_key(&(mch_id.to_owned(), contract_code.to_owned()))
    }

    /// The user signs a waiting signing: the contract exists, and its ADD notification goes
    /// to the signing's notify_url.
    pub(crate) fn sign_contract(
        &self,
        mch_id: &str,
        contract_code: &str,
        openid: &str,
    ) -> Result<ContractView, Refusal> {
        let mut state = self.lock();
        let Some(p) = state
            .papay
            .pending
            .remove(&(mch_id.to_owned(), contract_code.to_owned()))
        else {
            return Err(Refusal::UnknownOrder {
                out_trade_no: contract_code.to_owned(),
            });
        };
        let now = now_unix();
        let c = Contract {
            pending: p,
            contract_id: format!("2016{:014}", seq() % 100_000_000_000_000),
            openid: openid.to_owned(),
            signed_at: now,
            terminated_at: None,
            termination_mode: None,
        };
        let view = c.view();
        state
            .papay
            .contracts
            .insert(c.contract_id.clone(), c.clone());
        let cap = state.payout_cap();
        state.papay.trim(cap);
        drop(state);
        self.notify_contract(&c, "ADD");
        Ok(view)
    }

    fn notify_contract(&self, c: &Contract, change: &str) {
        let Some(merchant) = self.merchant(&c.pending.mch_id) else {
            return;
        };
        let mut m = XmlMap::new();
        let now = now_unix();
        let expires = dashed(c.signed_at + 5 * 365 * 86_400);
        let operate = dashed(c.terminated_at.unwrap_or(now));
        let serial = c.pending.request_serial.clone();
        let mut fields = vec![
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
            ("result_code", "SUCCESS"),
            ("mch_id", c.pending.mch_id.as_str()),
            ("contract_code", c.pending.contract_code.as_str()),
            ("plan_id", c.pending.plan_id.as_str()),
            ("openid", c.openid.as_str()),
            ("change_type", change),
            ("operate_time", operate.as_str()),
            ("contract_id", c.contract_id.as_str()),
            ("request_serial", serial.as_str()),
        ];
        if change == "ADD" {
            fields.push(("contract_expired_time", expires.as_str()));
        } else {
            fields.push((
                "contract_termination_mode",
                c.termination_mode.unwrap_or("3"),
            ));
        }
        for (k, v) in fields {
            let _ = m.insert(k, v);
        }
        let _ = m.sign(&merchant.key, SignType::Md5);
        self.outbox.send(
            DeliveryKind::Contract,
            &c.pending.mch_id,
            &c.pending.contract_code,
            c.pending.notify_url.clone(),
            m.to_xml(),
            crate::notify::Wire::Xml,
        );
    }

    fn find_contract(&self, req: &Req<'_>) -> Option<Contract> {
        let state = self.lock();
        if let Some(id) = req.get("contract_id") {
            return state
                .papay
                .contracts
                .get(id)
                .filter(|c| c.pending.mch_id == req.merchant.mch_id)
                .cloned();
        }
        let (plan, code) = (req.get("plan_id")?, req.get("contract_code")?);
        state
            .papay
            .contracts
            .values()
            .filter(|c| {
                c.pending.mch_id == req.merchant.mch_id
                    && c.pending.plan_id == plan
                    && c.pending.contract_code == code
            })
            .max_by_key(|c| c.signed_at)
            .cloned()
    }

    /// `pay/contractorder`: a unifiedorder whose payment signs a contract.
    pub(in crate::protocol) fn contract_order(
        self: &std::sync::Arc<Self>,
        req: &Req<'_>,
    ) -> Verdict {
        // The contract's notifications go to contract_notify_url, the payment's to notify_url.
        let Some(p) = pending_from(&req.map, &req.merchant.mch_id).map(|mut p| {
            p.notify_url = req
                .get("contract_notify_url")
                .unwrap_or_default()
                .to_owned();
            p
        }) else {
            return biz(
                "PARAM_ERROR",
                "plan_id、contract_code、request_serial、contract_display_account、contract_notify_url必填",
            );
        };
        if req.get("contract_mchid") != Some(req.merchant.mch_id.as_str())
            || req.get("contract_appid") != Some(req.merchant.appid.as_str())
        {
            return biz(
                "PARAM_ERROR",
                "contract_mchid、contract_appid必须与mch_id、appid一致",
            );
        }
        let verdict = self.unified_order(req);
        let Verdict::Ok(mut fields) = verdict else {
            return verdict;
        };
        let no = req.get("out_trade_no").unwrap_or_default().to_owned();
        let code = p.contract_code.clone();
        fields.extend([
            ("contract_result_code".to_owned(), "SUCCESS".to_owned()),
            ("plan_id".to_owned(), p.plan_id.clone()),
            ("contract_code".to_owned(), code.clone()),
            ("request_serial".to_owned(), p.request_serial.clone()),
            ("out_trade_no".to_owned(), no.clone()),
        ]);
        let mut state = self.lock();
        state
            .papay
            .pending
            .insert((p.mch_id.clone(), code.clone()), p);
        state
            .papay
            .on_pay
            .insert((req.merchant.mch_id.clone(), no), code);
        let cap = state.payout_cap();
        state.papay.trim(cap);
        Verdict::Ok(fields)
    }

    pub(in crate::protocol) fn query_contract(&self, req: &Req<'_>) -> Verdict {
        let Some(c) = self.find_contract(req) else {
            return biz("CONTRACT_NOT_EXIST", "签约协议不存在");
        };
        let mut f = vec![
            ("contract_id", c.contract_id.clone()),
            ("plan_id", c.pending.plan_id.clone()),
            ("request_serial", c.pending.request_serial.clone()),
            ("contract_code", c.pending.contract_code.clone()),
            ("contract_display_account", c.pending.display.clone()),
            (
                "contract_state",
                if c.terminated_at.is_some() { "1" } else { "0" }.to_owned(),
            ),
            ("contract_signed_time", dashed(c.signed_at)),
            (
                "contract_expired_time",
                dashed(c.signed_at + 5 * 365 * 86_400),
            ),
            ("openid", c.openid.clone()),
        ];
        if let Some(t) = c.terminated_at {
            f.push(("contract_terminated_time", dashed(t)));
            f.push((
                "contract_termination_mode",
                c.termination_mode.unwrap_or("3").to_owned(),
            ));
        }
        ok(f)
    }

    pub(in crate::protocol) fn delete_contract(&self, req: &Req<'_>) -> Verdict {
        let Some(c) = self.find_contract(req) else {
            return biz("CONTRACT_NOT_EXIST", "签约协议不存在");
        };
        if c.terminated_at.is_some() {
            return biz("CONTRACT_ALREADY_TERMINATED", "该签约协议已解约");
        }
        let mut state = self.lock();
        let Some(live) = state.papay.contracts.get_mut(&c.contract_id) else {
            return biz("CONTRACT_NOT_EXIST", "签约协议不存在");
        };
        live.terminated_at = Some(now_unix());
        live.termination_mode = Some("3");
        let done = live.clone();
        drop(state);
        self.notify_contract(&done, "DELETE");
        ok([
            ("contract_id", done.contract_id.clone()),
            ("plan_id", done.pending.plan_id.clone()),
            ("contract_code", done.pending.contract_code),
        ])
    }

    pub(in crate::protocol) fn pap_pay_apply(&self, req: &Req<'_>) -> Verdict {
        let (out_trade_no, total_fee) = match rules::order_fields(req, 5) {
            Ok(v) => v,
            Err(v) => return v,
        };
        if req.get("trade_type") != Some("PAP") {
            return biz("PARAM_ERROR", "trade_type必须为PAP");
        }
        let contract_id = req.get("contract_id").unwrap_or_default().to_owned();
        let valid = self
            .lock()
            .papay
            .contracts
            .get(&contract_id)
            .is_some_and(|c| c.pending.mch_id == req.merchant.mch_id && c.terminated_at.is_none());
        if !valid {
            return biz("CONTRACT_NOT_EXIST", "签约协议不存在或已解约");
        }
        let key = req.order_key(out_trade_no);
        let mut state = self.lock();
        if state.order(&key).is_some() {
            // "扣款请求已受理，请勿重复发起": the same deduction.
            return ok(Vec::<(String, String)>::new());
        }
        let mut order = new_order(req, out_trade_no, total_fee, "PAP", TradeState::NotPay);
        order.notify_url = req.get("notify_url").map(str::to_owned);
        order.contract_id = Some(contract_id.clone());
        if let Some(c) = state.papay.contracts.get(&contract_id) {
            order.openid = Some(c.openid.clone());
        }
        state.insert_order(key, order);
        ok(Vec::<(String, String)>::new())
    }

    pub(in crate::protocol) fn pap_order_query(&self, req: &Req<'_>) -> Verdict {
        let (key, tid) = match req.order_ref() {
            Ok(r) => r,
            Err(v) => return v,
        };
        let mut state = self.lock();
        let Some(o) = state
            .find_order(&key, tid)
            .filter(|o| o.contract_id.is_some())
        else {
            return biz("ORDERNOTEXIST", "此交易订单号不存在");
        };
        let trade_state = match o.state {
            TradeState::NotPay => "ACCEPT",
            TradeState::PayError => "PAY_FAIL",
            other => other.as_str(),
        };
        let mut f = vec![
            ("out_trade_no", o.out_trade_no.clone()),
            ("trade_state", trade_state.to_owned()),
            ("trade_type", "PAP".to_owned()),
            ("total_fee", o.total_fee.to_string()),
            ("contract_id", o.contract_id.clone().unwrap_or_default()),
            ("trade_state_desc", o.state.desc().to_owned()),
        ];
        if let Some(t) = &o.transaction_id {
            f.push(("transaction_id", t.clone()));
        }
        ok(f)
    }

    /// The signings waiting for the user.
    pub(crate) fn signing_views(&self) -> Vec<crate::papay::SigningView> {
        self.lock().papay.signing_views()
    }

    /// The contracts kept.
    pub(crate) fn contract_views(&self) -> Vec<ContractView> {
        let mut v: Vec<_> = self
            .lock()
            .papay
            .contracts
            .values()
            .map(Contract::view)
            .collect();
        v.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
        v
    }
}
