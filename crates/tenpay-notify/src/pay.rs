use std::collections::BTreeMap;

use tenpay_xml::{BeijingTime, Coupon, Currency, ErrCode, Fen, OutTradeNo, TradeType, XmlMap};

use crate::Error;

/// A verified payment notification: its signature checked with the merchant's pinned
/// algorithm over every received field, and its `appid` / `mch_id` the merchant's own.
///
/// Use [`out_trade_no`](Self::out_trade_no) (or [`transaction_id`](Self::transaction_id)) to
/// find the order, then [`settle`](Self::settle) with the order's own amount: that is the only
/// way to obtain a [`SettledPayment`].
///
/// Text fields are read from the verified fields without copying; amounts, times and enums are
/// decoded once, when the notification is made.
///
/// # Which amount
/// - `total_fee` is the order amount the payer was charged for, coupons included: it must
///   equal the amount the merchant sent to unifiedorder, and it is what `settle` compares.
/// - `cash_fee` is what the payer paid in cash (total minus coupons).
/// - `settlement_total_fee` is what the merchant is settled (total minus non-recharge coupons);
///   use it for bookkeeping, not for the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayNotification {
    raw: XmlMap,
    out_trade_no: OutTradeNo,
    total_fee: Fen,
    settlement_total_fee: Option<Fen>,
    cash_fee: Option<Fen>,
    coupon_fee: Option<Fen>,
    fee_type: Option<Currency>,
    cash_fee_type: Option<Currency>,
    trade_type: Option<TradeType>,
    time_end: Option<BeijingTime>,
    coupons: Vec<Coupon>,
}

/// A payment whose amount the merchant confirmed: mark the order paid with this.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettledPayment {
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The confirmed amount.
    pub total_fee: Fen,
    /// The verified notification it came from.
    pub notification: PayNotification,
}

/// Names the field in a value error.
fn named(name: &str, e: tenpay_xml::Error) -> Error {
    Error::Field(match e {
        tenpay_xml::Error::InvalidValue { reason, .. } => tenpay_xml::Error::InvalidValue {
            field: name.to_owned(),
            reason,
        },
        other => other,
    })
}

fn bad_count(v: &str) -> Error {
    Error::Field(tenpay_xml::Error::InvalidValue {
        field: "coupon_count".into(),
        reason: format!(
            "{:?} is not a count up to 64",
            v.chars().take(20).collect::<String>()
        ),
    })
}

/// The most coupons a payment notification may carry.
const MAX_COUPONS: usize = 64;

/// `coupon_id_1` → (0, 1), `coupon_fee_1` → (1, 1), `coupon_type_1` → (2, 1).
fn coupon_index(name: &str) -> Option<(usize, usize)> {
    let (slot, rest) = [("coupon_id_", 0), ("coupon_fee_", 1), ("coupon_type_", 2)]
        .iter()
        .find_map(|(p, slot)| name.strip_prefix(p).map(|rest| (*slot, rest)))?;
    if rest.is_empty()
        || rest.len() > 4
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.len() > 1 && rest.starts_with('0'))
    {
        return None;
    }
    Some((slot, rest.parse().ok()?))
}

fn fen(name: &str, value: &str) -> Result<Fen, Error> {
    value.parse().map_err(|e| named(name, e))
}

impl PayNotification {
    pub(crate) fn from_verified(raw: XmlMap) -> Result<Self, Error> {
        let out_trade_no = match raw.get("out_trade_no").filter(|v| !v.is_empty()) {
            Some(v) => v.parse().map_err(|e: tenpay_xml::IdError| {
                Error::Field(tenpay_xml::Error::InvalidValue {
                    field: "out_trade_no".to_owned(),
                    reason: e.to_string(),
                })
            })?,
            None => {
                return Err(Error::Field(tenpay_xml::Error::MissingField(
                    "out_trade_no".to_owned(),
                )));
            }
        };
        let mut n = Self {
            out_trade_no,
            total_fee: Fen::default(),
            settlement_total_fee: None,
            cash_fee: None,
            coupon_fee: None,
            fee_type: None,
            cash_fee_type: None,
            trade_type: None,
            time_end: None,
            coupons: Vec::new(),
            raw: XmlMap::new(),
        };
        // One pass over the fields: the amounts, times and enums are decoded here.
        let (mut result_code, mut total_fee) = (false, None);
        let mut coupon_count = None;
        // Coupon fields by index: [id, fee, type].
        let mut slots: Vec<[Option<&str>; 3]> = Vec::new();
        for (k, v) in &raw {
            if v.is_empty() {
                continue;
            }
            match k {
                "result_code" => result_code = true,
                "total_fee" => total_fee = Some(fen(k, v)?),
                "settlement_total_fee" => n.settlement_total_fee = Some(fen(k, v)?),
                "cash_fee" => n.cash_fee = Some(fen(k, v)?),
                "coupon_fee" => n.coupon_fee = Some(fen(k, v)?),
                "fee_type" => n.fee_type = Some(Currency::from(v)),
                "cash_fee_type" => n.cash_fee_type = Some(Currency::from(v)),
                "trade_type" => n.trade_type = Some(TradeType::from(v)),
                "time_end" => n.time_end = Some(v.parse().map_err(|e| named(k, e))?),
                "coupon_count" => {
                    coupon_count = Some(
                        v.parse::<usize>()
                            .ok()
                            .filter(|c| *c <= MAX_COUPONS)
                            .ok_or_else(|| bad_count(v))?,
                    );
                }
                k if k.starts_with("coupon_")
                    && k.as_bytes().last().is_some_and(u8::is_ascii_digit) =>
                {
                    if let Some((slot, i)) = coupon_index(k) {
                        if i >= MAX_COUPONS {
                            return Err(bad_count(k));
                        }
                        if slots.len() <= i {
                            slots.resize(i + 1, [None; 3]);
                        }
                        slots[i][slot] = Some(v);
                    }
                }
                _ => {}
            }
        }
        for (present, name) in [
            (result_code, "result_code"),
            (total_fee.is_some(), "total_fee"),
        ] {
            if !present {
                return Err(Error::Field(tenpay_xml::Error::MissingField(
                    name.to_owned(),
                )));
            }
        }
        n.total_fee = total_fee.unwrap_or_default();
        let count = coupon_count.unwrap_or(slots.len());
        if slots.len() > count {
            return Err(Error::Field(tenpay_xml::Error::InvalidValue {
                field: "coupon_count".into(),
                reason: format!(
                    "a coupon field has index {}, but coupon_count is {count}",
                    slots.len() - 1
                ),
            }));
        }
        for i in 0..count {
            let [id, fee, kind] = slots.get(i).copied().unwrap_or([None; 3]);
            let missing =
                |stem: &str| Error::Field(tenpay_xml::Error::MissingField(format!("{stem}_{i}")));
            let coupon_id = id.ok_or_else(|| missing("coupon_id"))?;
            let coupon_fee = fen("coupon_fee", fee.ok_or_else(|| missing("coupon_fee"))?)?;
            n.coupons
                .push(Coupon::new(coupon_id, coupon_fee, kind.map(Into::into)));
        }
        n.raw = raw;
        Ok(n)
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.raw.get(name).filter(|v| !v.is_empty())
    }

    /// Whether the notification reports a successful payment (`result_code=SUCCESS`).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.text("result_code") == Some("SUCCESS")
    }

    /// The merchant's order number: look the order up with it.
    #[must_use]
    pub fn out_trade_no(&self) -> &OutTradeNo {
        &self.out_trade_no
    }

    /// WeChat Pay's transaction id.
    #[must_use]
    pub fn transaction_id(&self) -> Option<&str> {
        self.text("transaction_id")
    }

    /// The promotions applied to the payment (`promotion_detail`: single-item discounts and
    /// coupons), read when asked for; none without the field.
    ///
    /// # Errors
    /// [`Error::Field`] when the field is not the documented JSON.
    pub fn promotions(&self) -> Result<Vec<tenpay_xml::promotion::Promotion>, Error> {
        tenpay_xml::promotion::promotions(&self.raw).map_err(Error::Field)
    }

    /// The order amount, coupons included: compare it (via [`Self::settle`]).
    #[must_use]
    pub fn total_fee(&self) -> Fen {
        self.total_fee
    }

    /// The settled amount (total minus non-recharge coupons).
    #[must_use]
    pub fn settlement_total_fee(&self) -> Option<Fen> {
        self.settlement_total_fee
    }

    /// What the payer paid in cash.
    #[must_use]
    pub fn cash_fee(&self) -> Option<Fen> {
        self.cash_fee
    }

    /// The total of the coupons used.
    #[must_use]
    pub fn coupon_fee(&self) -> Option<Fen> {
        self.coupon_fee
    }

    /// The order currency (CNY when absent).
    #[must_use]
    pub fn fee_type(&self) -> Option<&Currency> {
        self.fee_type.as_ref()
    }

    /// The cash currency.
    #[must_use]
    pub fn cash_fee_type(&self) -> Option<&Currency> {
        self.cash_fee_type.as_ref()
    }

    /// The trade type.
    #[must_use]
    pub fn trade_type(&self) -> Option<&TradeType> {
        self.trade_type.as_ref()
    }

    /// When the payment completed (Beijing time).
    #[must_use]
    pub fn time_end(&self) -> Option<BeijingTime> {
        self.time_end
    }

    /// The coupons used (`coupon_*_$n`).
    #[must_use]
    pub fn coupons(&self) -> &[Coupon] {
        &self.coupons
    }

    /// The merchant's appid (checked).
    #[must_use]
    pub fn appid(&self) -> &str {
        self.text("appid").unwrap_or_default()
    }

    /// The merchant id (checked).
    #[must_use]
    pub fn mch_id(&self) -> &str {
        self.text("mch_id").unwrap_or_default()
    }

    /// Service-provider mode: the sub-merchant's appid.
    #[must_use]
    pub fn sub_appid(&self) -> Option<&str> {
        self.text("sub_appid")
    }

    /// Service-provider mode: the sub-merchant id (checked when configured).
    #[must_use]
    pub fn sub_mch_id(&self) -> Option<&str> {
        self.text("sub_mch_id")
    }

    /// Device number given at unifiedorder.
    #[must_use]
    pub fn device_info(&self) -> Option<&str> {
        self.text("device_info")
    }

    /// The server's nonce.
    #[must_use]
    pub fn nonce_str(&self) -> Option<&str> {
        self.text("nonce_str")
    }

    /// Error code when the payment failed.
    #[must_use]
    pub fn err_code(&self) -> Option<ErrCode> {
        self.text("err_code").map(ErrCode::from)
    }

    /// Error description when the payment failed.
    #[must_use]
    pub fn err_code_des(&self) -> Option<&str> {
        self.text("err_code_des")
    }

    /// The payer's openid under `appid`.
    #[must_use]
    pub fn openid(&self) -> Option<&str> {
        self.text("openid")
    }

    /// Whether the payer follows the official account (`Y`/`N`).
    #[must_use]
    pub fn is_subscribe(&self) -> Option<&str> {
        self.text("is_subscribe")
    }

    /// Service-provider mode: the payer's openid under `sub_appid`.
    #[must_use]
    pub fn sub_openid(&self) -> Option<&str> {
        self.text("sub_openid")
    }

    /// Service-provider mode: whether the payer follows the sub-merchant's account.
    #[must_use]
    pub fn sub_is_subscribe(&self) -> Option<&str> {
        self.text("sub_is_subscribe")
    }

    /// The paying bank (e.g. `CFT`, `CMC`).
    #[must_use]
    pub fn bank_type(&self) -> Option<&str> {
        self.text("bank_type")
    }

    /// The merchant's `attach`, echoed verbatim.
    #[must_use]
    pub fn attach(&self) -> Option<&str> {
        self.text("attach")
    }

    /// Single-product discount details (JSON text).
    #[must_use]
    pub fn promotion_detail(&self) -> Option<&str> {
        self.text("promotion_detail")
    }

    /// Every field received, as signed (unknown ones included).
    #[must_use]
    pub fn raw(&self) -> &XmlMap {
        &self.raw
    }

    /// Confirms the payment against the merchant's own amount for the order.
    ///
    /// # Errors
    /// [`Error::PaymentFailed`] for a failed payment, [`Error::AmountMismatch`] (carrying both
    /// amounts) when `total_fee` differs from `expected`.
    pub fn settle(self, expected: Fen) -> Result<SettledPayment, Error> {
        if !self.is_success() {
            return Err(Error::PaymentFailed {
                err_code: self.err_code(),
            });
        }
        if self.total_fee != expected {
            return Err(Error::AmountMismatch {
                expected,
                received: self.total_fee,
            });
        }
        Ok(SettledPayment {
            out_trade_no: self.out_trade_no.clone(),
            transaction_id: self.transaction_id().map(str::to_owned),
            total_fee: self.total_fee,
            notification: self,
        })
    }

    /// Every received field not described above.
    #[must_use]
    pub fn unknown_fields(&self) -> BTreeMap<&str, &str> {
        const KNOWN: &[&str] = &[
            "return_code",
            "return_msg",
            "appid",
            "mch_id",
            "sub_appid",
            "sub_mch_id",
            "device_info",
            "nonce_str",
            "sign",
            "sign_type",
            "result_code",
            "err_code",
            "err_code_des",
            "openid",
            "is_subscribe",
            "sub_openid",
            "sub_is_subscribe",
            "trade_type",
            "bank_type",
            "total_fee",
            "settlement_total_fee",
            "fee_type",
            "cash_fee",
            "cash_fee_type",
            "coupon_fee",
            "coupon_count",
            "transaction_id",
            "out_trade_no",
            "attach",
            "time_end",
            "promotion_detail",
        ];
        self.raw
            .iter()
            .filter(|(k, _)| {
                !KNOWN.contains(k)
                    && !["coupon_type_", "coupon_id_", "coupon_fee_"]
                        .iter()
                        .any(|p| k.starts_with(p))
            })
            .collect()
    }
}
