//! Money out: red packets, transfers to balance, bank payments, and the RSA key they use.
//! The family names the merchant with its own fields, signs with MD5 only, and answers
//! unsigned (WeChat Pay's documented behaviour).

mod bank;
mod redpack;
mod transfer;

use md5::{Digest, Md5};
use tenpay_xml::{Fen, XmlMap};

use super::{Endpoint, Reply, Req, Verdict};
use crate::ids::nonce;

/// A digest of the fields that define a payout (`names`, with `extra` values such as the
/// decrypted card number in place of its randomised ciphertext).
pub(crate) fn fingerprint(req: &Req<'_>, names: &[&str], extra: &[&str]) -> [u8; 16] {
    let mut h = Md5::new();
    for n in names {
        h.update(n.as_bytes());
        h.update(b"=");
        h.update(req.get(n).unwrap_or("").as_bytes());
        h.update(b"&");
    }
    for e in extra {
        h.update(e.as_bytes());
        h.update(b"&");
    }
    h.finalize().into()
}

/// Writes a money-out verdict: no signature, the merchant under the endpoint's own names.
pub(crate) fn write(req: &Req<'_>, endpoint: Endpoint, verdict: Verdict) -> Reply {
    let (result_code, err, fields) = match verdict {
        Verdict::Protocol(msg) => return Reply::Xml(super::protocol_fail(&msg)),
        Verdict::Reply(r) => return r,
        Verdict::Business(code, des) => ("FAIL", Some((code, des)), Vec::new()),
        Verdict::Ok(fields) => ("SUCCESS", None, fields),
    };
    let (appid_field, mch_field) = endpoint.merchant_fields();
    let mut m = XmlMap::new();
    let mut put = |k: &str, v: &str| {
        let _ = m.insert(k, v);
    };
    put("return_code", "SUCCESS");
    put("return_msg", if err.is_some() { "参数错误" } else { "OK" });
    if let Some(f) = appid_field {
        put(f, &req.merchant.appid);
    }
    put(mch_field, &req.merchant.mch_id);
    put("nonce_str", &nonce());
    put("result_code", result_code);
    if let Some((code, des)) = &err {
        put("err_code", code);
        put("err_code_des", des);
    }
    for (k, v) in &fields {
        put(k, v);
    }
    Reply::Xml(m.to_xml())
}

/// A whole number of fen from a field, or `None`.
pub(crate) fn fen(req: &Req<'_>, name: &str) -> Option<Fen> {
    super::rules::amount(req.get(name))
}

impl super::Engine {
    /// The transfers kept.
    pub(crate) fn transfer_views(&self) -> Vec<crate::TransferView> {
        let state = self.lock();
        let mut v: Vec<_> = state
            .payouts
            .transfers
            .iter()
            .map(|(k, t)| t.view(k))
            .collect();
        v.sort_by(|a, b| a.partner_trade_no.cmp(&b.partner_trade_no));
        v
    }

    /// The bank payments kept (each PROCESSING one settled when its time has come).
    pub(crate) fn bank_views(&self) -> Vec<crate::BankPaymentView> {
        let now_ms = self.clock.elapsed_ms();
        let mut state = self.lock();
        let mut v = Vec::new();
        for (k, b) in &mut state.payouts.banks {
            if b.status == "PROCESSING" && now_ms >= b.settles_at_ms {
                b.status = "SUCCESS";
                b.paid_at = Some(crate::clock::now_unix());
            }
            v.push(b.view(k));
        }
        v.sort_by(|a, b| a.partner_trade_no.cmp(&b.partner_trade_no));
        v
    }

    /// The red packets kept (expired ones refunded first).
    pub(crate) fn redpack_views(&self) -> Vec<crate::RedpackView> {
        let now_ms = self.clock.elapsed_ms();
        let mut state = self.lock();
        let cap = state.payout_cap();
        let keys: Vec<_> = state.payouts.redpacks.keys().cloned().collect();
        for k in &keys {
            let opening = self.merchant(&k.0).map_or(Fen::ZERO, |m| m.balance);
            redpack::expire(&mut state.payouts, k, opening, now_ms, cap);
        }
        let mut v: Vec<_> = state
            .payouts
            .redpacks
            .iter()
            .map(|(k, r)| r.view(k))
            .collect();
        v.sort_by(|a, b| a.mch_billno.cmp(&b.mch_billno));
        v
    }

    /// A merchant's operation account balance.
    pub(crate) fn balance(&self, mch_id: &str) -> Option<Fen> {
        let opening = self.merchant(mch_id)?.balance;
        Some(self.lock().payouts.balance(mch_id, opening))
    }
}
