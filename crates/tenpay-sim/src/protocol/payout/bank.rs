//! `getpublickey`, `pay_bank` and `query_bank`: the simulator's own RSA key pair (made once
//! per process), the card number and name decrypted with it, the fee, and the payment that
//! succeeds a (scaled) minute later.

use std::sync::OnceLock;

use base64::Engine as _;
use rsa::pkcs1::EncodeRsaPublicKey as _;
use tenpay_xml::Fen;

use super::transfer::alnum;
use super::{fen, fingerprint};
use crate::clock::{dashed, date, now_unix};
use crate::ids::{hex_upper, seq};
use crate::payouts::{BankPayment, Kind};
use crate::protocol::{Engine, Req, Verdict, biz, ok};

/// Per payment and per merchant per day (fen), WeChat Pay's table.
const MAX_FEN: u64 = 2_000_000;
const MERCHANT_DAY_FEN: u64 = 10_000_000;
/// How long (protocol seconds, scaled) a bank payment stays PROCESSING.
const SETTLE_SECS: u64 = 60;

fn key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
            .unwrap_or_else(|e| panic!("the simulator cannot make an RSA key: {e}"))
    })
}

/// The public key as WeChat Pay serves it: PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`).
pub(crate) fn public_key_pem() -> String {
    key()
        .to_public_key()
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap_or_default()
}

fn decrypt(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let plain = key().decrypt(rsa::Oaep::new::<sha1::Sha1>(), &bytes).ok()?;
    String::from_utf8(plain).ok()
}

/// 0.1 % of the amount, at least 1 yuan, at most 25 yuan.
fn fee(amount: Fen) -> Fen {
    Fen::new((amount.get() / 1000).clamp(100, 2500))
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex_upper(&Md5::digest(s.as_bytes())).to_lowercase()
}

impl Engine {
    pub(in crate::protocol) fn get_public_key(&self, req: &Req<'_>) -> Verdict {
        let _ = req;
        ok([("pub_key", public_key_pem())])
    }

    pub(in crate::protocol) fn pay_bank(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("partner_trade_no").unwrap_or_default();
        if !alnum(no, 32) || no.len() < 8 {
            return biz(
                "PARAM_ERROR",
                "partner_trade_no参数错误：8到32位字母或者数字",
            );
        }
        let Some(amount) = fen(req, "amount") else {
            return biz("PARAM_ERROR", "amount字段必填,必须大于0或者小于等于2亿");
        };
        let (Some(bank_no), Some(true_name)) = (
            decrypt(req.get("enc_bank_no").unwrap_or_default()),
            decrypt(req.get("enc_true_name").unwrap_or_default()),
        ) else {
            return biz(
                "PARAM_ERROR",
                "enc_bank_no或enc_true_name解密失败，请使用getpublickey获取的公钥以RSA-OAEP加密",
            );
        };
        let bank_code = req.get("bank_code").unwrap_or_default().to_owned();
        if bank_code.is_empty() || !bank_code.bytes().all(|b| b.is_ascii_digit()) {
            return biz("PARAM_ERROR", "bank_code参数错误");
        }
        // The ciphertexts are randomised: the request is the same if the clear fields are.
        let fp = fingerprint(
            req,
            &["bank_code", "amount", "desc"],
            &[&bank_no, &true_name],
        );
        let mch_id = req.merchant.mch_id.clone();
        let key = (mch_id.clone(), no.to_owned());
        let mut state = self.lock();
        let cap = state.payout_cap();
        if let Some(b) = state.payouts.banks.get(&key) {
            return if b.fingerprint == fp {
                ok(answer(no, b))
            } else {
                biz("FATAL_ERROR", "两次请求参数不一致")
            };
        }
        if amount.get() > MAX_FEN {
            return biz("AMOUNT_LIMIT", "单笔付款金额超出限制，最高2万元");
        }
        let now = now_unix();
        let day = date(now);
        if state
            .payouts
            .paid_today(Kind::Bank, &mch_id, &day)
            .saturating_add(amount.get())
            > MERCHANT_DAY_FEN
        {
            return biz("AMOUNT_LIMIT", "已达到今日付款总额上限");
        }
        let fee = fee(amount);
        let payment_no = format!("20{}{}{:08}", mch_id, day, seq() % 100_000_000);
        let Some(total) = amount.checked_add(fee) else {
            return biz("PARAM_ERROR", "amount参数错误");
        };
        if !state.payouts.debit(
            &mch_id,
            req.merchant.balance,
            total,
            ("付款到银行卡", &payment_no, now),
            cap,
        ) {
            return biz("NOTENOUGH", "余额不足");
        }
        let b = BankPayment {
            fingerprint: fp,
            bank_no,
            true_name,
            bank_code,
            amount,
            fee,
            payment_no,
            status: "PROCESSING",
            created_at: now,
            paid_at: None,
            settles_at_ms: self.clock.elapsed_ms()
                + u64::try_from(self.clock.scaled(SETTLE_SECS).as_millis()).unwrap_or(0),
            settles_to: match &req.settles {
                Some((s, reason)) if s == "FAILED" => ("FAILED", Some(reason.clone())),
                Some((s, reason)) if s == "BANK_FAIL" => ("BANK_FAIL", Some(reason.clone())),
                _ => ("SUCCESS", None),
            },
        };
        let fields = answer(no, &b);
        state.payouts.banks.insert(key.clone(), b);
        state.payouts.placed(Kind::Bank, key, cap);
        ok(fields)
    }

    pub(in crate::protocol) fn query_bank(&self, req: &Req<'_>) -> Verdict {
        let no = req.get("partner_trade_no").unwrap_or_default();
        let now_ms = self.clock.elapsed_ms();
        let mut state = self.lock();
        let cap = state.payout_cap();
        let Some(b) = state
            .payouts
            .banks
            .get_mut(&(req.merchant.mch_id.clone(), no.to_owned()))
        else {
            return biz("NOT_FOUND", "指定单号数据不存在");
        };
        let mut refund = None;
        if b.status == "PROCESSING" && now_ms >= b.settles_at_ms {
            b.status = b.settles_to.0;
            if b.status == "SUCCESS" {
                b.paid_at = Some(now_unix());
            } else {
                // Failed, or returned by the bank: the amount and the fee come back.
                refund = b
                    .amount
                    .checked_add(b.fee)
                    .map(|t| (t, b.payment_no.clone()));
            }
        }
        let reason = b.settles_to.1.clone().filter(|_| b.status != "SUCCESS");
        let mut fields = vec![
            ("partner_trade_no", no.to_owned()),
            ("payment_no", b.payment_no.clone()),
            ("bank_no_md5", md5_hex(&b.bank_no)),
            ("true_name_md5", md5_hex(&b.true_name)),
            ("amount", b.amount.to_string()),
            ("status", b.status.to_owned()),
            ("cmms_amt", b.fee.to_string()),
            ("create_time", dashed(b.created_at)),
        ];
        if let Some(t) = b.paid_at {
            fields.push(("pay_succ_time", dashed(t)));
        }
        if let Some(r) = reason {
            fields.push(("reason", r));
        }
        if let Some((total, payment_no)) = refund {
            state.payouts.credit(
                &req.merchant.mch_id,
                req.merchant.balance,
                total,
                ("付款到银行卡退款", &payment_no, now_unix()),
                cap,
            );
        }
        ok(fields)
    }
}

fn answer(no: &str, b: &BankPayment) -> Vec<(&'static str, String)> {
    vec![
        ("partner_trade_no", no.to_owned()),
        ("payment_no", b.payment_no.clone()),
        ("amount", b.amount.to_string()),
        ("cmms_amt", b.fee.to_string()),
    ]
}
