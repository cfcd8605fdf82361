//! The simulator's memory: orders and their refunds, faults, call counts, within [`Limits`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tenpay_sign::SignType;
use tenpay_xml::Fen;

use crate::error::Refusal;
use crate::model::{Fault, FaultKind, Limits, OrderView, RefundView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeState {
    NotPay,
    Success,
    Refund,
    Closed,
    Revoked,
    UserPaying,
    PayError,
}

impl TradeState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NotPay => "NOTPAY",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::Closed => "CLOSED",
            Self::Revoked => "REVOKED",
            Self::UserPaying => "USERPAYING",
            Self::PayError => "PAYERROR",
        }
    }

    pub(crate) fn desc(self) -> &'static str {
        match self {
            Self::NotPay => "订单未支付",
            Self::Success => "支付成功",
            Self::Refund => "转入退款",
            Self::Closed => "已关闭",
            Self::Revoked => "已撤销（刷卡支付）",
            Self::UserPaying => "用户支付中",
            Self::PayError => "支付失败",
        }
    }
}

/// What happens to a payment-code order while the user "enters the password".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MicropayPlan {
    None,
    PaidAfterDelay,
    PayingUntilReversed,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) mch_id: String,
    pub(crate) appid: String,
    pub(crate) sub_mch_id: Option<String>,
    pub(crate) sub_appid: Option<String>,
    pub(crate) out_trade_no: String,
    /// A digest of every field that defines the order (not the fields themselves: a large
    /// `detail` is not kept twice).
    pub(crate) fingerprint: [u8; 16],
    pub(crate) trade_type: String,
    pub(crate) total_fee: Fen,
    pub(crate) fee_type: String,
    pub(crate) body: String,
    pub(crate) attach: Option<String>,
    pub(crate) device_info: Option<String>,
    pub(crate) openid: Option<String>,
    pub(crate) sub_openid: Option<String>,
    pub(crate) notify_url: Option<String>,
    pub(crate) sign_type: SignType,
    pub(crate) state: TradeState,
    pub(crate) prepay_id: Option<String>,
    pub(crate) code_url: Option<String>,
    pub(crate) mweb_url: Option<String>,
    pub(crate) transaction_id: Option<String>,
    pub(crate) time_end: Option<i64>,
    pub(crate) payer_openid: Option<String>,
    pub(crate) coupon_fee: Fen,
    pub(crate) created_at: i64,
    /// `time_expire` (Unix seconds), when the order was placed with one: it cannot be paid
    /// after.
    pub(crate) expires_at: Option<i64>,
    /// Placed with `profit_sharing=Y`: its amount is frozen for splits.
    pub(crate) profit_sharing: bool,
    /// A deduction under this contract (papay).
    pub(crate) contract_id: Option<String>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) micropay: MicropayPlan,
    /// A deposit (`/deposit/micropay`): frozen until consumed or reversed.
    pub(crate) deposit: bool,
    /// What `/deposit/consume` settled of it.
    pub(crate) consume_fee: Option<Fen>,
    /// Its customs declarations (at most a few per order).
    pub(crate) declarations: Vec<Declaration>,
    pub(crate) err_code: Option<String>,
    /// A single-item discount order's goods (`version=1.0` with a `detail`): a coupon
    /// applied to it is reported as a `promotion_detail` of these goods.
    pub(crate) discount_goods: Vec<DiscountGood>,
    /// Placed through API v3: its notifications are v3's (JSON, signed headers, an
    /// encrypted resource).
    pub(crate) v3: bool,
}

/// One of a single-item discount order's goods.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct DiscountGood {
    pub(crate) goods_id: String,
    pub(crate) quantity: u64,
    pub(crate) price: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) out_refund_no: String,
    pub(crate) refund_id: String,
    pub(crate) refund_fee: Fen,
    pub(crate) status: &'static str,
    pub(crate) success_time: Option<i64>,
    pub(crate) notify_url: Option<String>,
}

impl Order {
    /// An order with its defining fields; every other field empty.
    pub(crate) fn blank(
        mch_id: &str,
        appid: &str,
        out_trade_no: &str,
        trade_type: &str,
        total_fee: Fen,
        state: TradeState,
    ) -> Self {
        Self {
            mch_id: mch_id.to_owned(),
            appid: appid.to_owned(),
            sub_mch_id: None,
            sub_appid: None,
            out_trade_no: out_trade_no.to_owned(),
            fingerprint: [0; 16],
            trade_type: trade_type.to_owned(),
            total_fee,
            fee_type: "CNY".to_owned(),
            body: String::new(),
            attach: None,
            device_info: None,
            openid: None,
            sub_openid: None,
            notify_url: None,
            sign_type: SignType::Md5,
            state,
            prepay_id: None,
            code_url: None,
            mweb_url: None,
            transaction_id: None,
            time_end: None,
            payer_openid: None,
            coupon_fee: Fen::ZERO,
            created_at: crate::clock::now_unix(),
            expires_at: None,
            profit_sharing: false,
            contract_id: None,
            refunds: Vec::new(),
            micropay: MicropayPlan::None,
            deposit: false,
            consume_fee: None,
            declarations: Vec::new(),
            err_code: None,
            discount_goods: Vec::new(),
            v3: false,
        }
    }

    /// The refunds' total, or `None` if it overflowed (it cannot: each refund is checked to
    /// fit the order when it is made).
    pub(crate) fn refunded(&self) -> Option<Fen> {
        self.refunds
            .iter()
            .try_fold(Fen::ZERO, |sum, r| sum.checked_add(r.refund_fee))
    }

    /// What the payer paid in cash: the amount less the coupon (which is checked to be
    /// smaller when it is applied).
    pub(crate) fn cash_fee(&self) -> Fen {
        self.total_fee
            .checked_sub(self.coupon_fee)
            .unwrap_or(Fen::ZERO)
    }

    /// Nothing more will happen to it: closed, reversed, failed, or paid with every refund
    /// final.
    pub(crate) fn is_completed(&self) -> bool {
        match self.state {
            TradeState::Closed | TradeState::Revoked | TradeState::PayError => true,
            TradeState::Success | TradeState::Refund => {
                self.refunds.iter().all(|r| r.status != "PROCESSING")
            }
            TradeState::NotPay | TradeState::UserPaying => false,
        }
    }

    pub(crate) fn view(&self) -> OrderView {
        OrderView {
            mch_id: self.mch_id.clone(),
            sub_mch_id: self.sub_mch_id.clone(),
            out_trade_no: self.out_trade_no.clone(),
            trade_state: self.state.as_str().to_owned(),
            trade_type: self.trade_type.clone(),
            total_fee: self.total_fee,
            prepay_id: self.prepay_id.clone(),
            code_url: self.code_url.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            transaction_id: self.transaction_id.clone(),
            notify_url: self.notify_url.clone(),
            sign_type: if self.v3 {
                tenpay_sign_v3::SCHEME.to_owned()
            } else {
                self.sign_type.as_str().to_owned()
            },
            api: if self.v3 { "v3" } else { "v2" }.to_owned(),
            refunds: self
                .refunds
                .iter()
                .map(|r| RefundView {
                    out_refund_no: r.out_refund_no.clone(),
                    refund_id: r.refund_id.clone(),
                    refund_fee: r.refund_fee,
                    refund_status: r.status.to_owned(),
                })
                .collect(),
        }
    }
}

/// Orders are keyed by (mch_id, sub_mch_id or "", out_trade_no).
pub(crate) type OrderKey = (String, String, String);

/// How many of the oldest entries are looked at for a completed one before the oldest of all
/// is dropped.
const EVICTION_SCAN: usize = 64;

#[derive(Debug)]
pub(crate) struct State {
    orders: HashMap<Arc<OrderKey>, Order>,
    /// Order keys, oldest first (each key once, shared with the map).
    placed: VecDeque<Arc<OrderKey>>,
    faults: Vec<Fault>,
    /// Calls per endpoint (every request that reached an endpoint, faults included).
    calls: HashMap<&'static str, u64>,
    limits: Limits,
    /// Money out: the operation accounts, transfers, bank payments, red packets.
    pub(crate) payouts: crate::payouts::PayoutBook,
    /// Profit sharing: receivers, splits, returns.
    pub(crate) sharing: crate::sharing::SharingBook,
    /// Withholding: signings and contracts.
    pub(crate) papay: crate::papay::PapayBook,
    /// `/tools/shorturl`'s links.
    pub(crate) short_links: ShortLinks,
    /// Face codes the face SDK gave (`SimHandle::face_code`). At most
    /// [`MAX_FACE_CODES`]; the oldest goes first.
    pub(crate) face_codes: VecDeque<FaceCode>,
    /// Sub-merchants' development configuration: (mch_id, sub_mch_id) → (JSAPI paths,
    /// bound appids).
    pub(crate) dev_configs: HashMap<(String, String), (Vec<String>, Vec<String>)>,
    /// A bank service provider's sub-merchants added through submchmanage:
    /// (mch_id, sub_mch_id) → profile, in id order.
    pub(crate) bank_subs: std::collections::BTreeMap<(String, String), BankSub>,
}

/// Face codes kept.
pub(crate) const MAX_FACE_CODES: usize = 10_000;

/// A face code: its payer, and the order it paid (it pays one).
#[derive(Debug, Clone)]
pub(crate) struct FaceCode {
    pub(crate) code: String,
    pub(crate) openid: String,
    pub(crate) paid: Option<String>,
}

/// A sub-merchant's profile as submchmanage keeps it: the fields it was added with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BankSub {
    pub(crate) fields: Vec<(String, String)>,
}

/// A customs declaration of a paid order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declaration {
    pub(crate) customs: String,
    pub(crate) mch_customs_no: String,
    pub(crate) sub_order_no: Option<String>,
    pub(crate) sub_order_id: String,
    pub(crate) order_fee: Fen,
    pub(crate) duty: Option<Fen>,
    /// `SUBMITTED` when declared; `SUCCESS` once queried.
    pub(crate) state: &'static str,
    pub(crate) modify_time: i64,
}

/// Short links (`weixin://wxpay/s/…`) for long ones, both ways, the oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct ShortLinks {
    by_long: HashMap<String, String>,
    by_short: HashMap<String, String>,
    made: VecDeque<String>,
}

impl ShortLinks {
    /// The short link for `long`: the same one each time while it is kept.
    pub(crate) fn shorten(&mut self, long: &str, cap: usize) -> String {
        if let Some(s) = self.by_long.get(long) {
            return s.clone();
        }
        let short = format!("weixin://wxpay/s/{}", &crate::ids::nonce()[..12]);
        self.by_long.insert(long.to_owned(), short.clone());
        self.by_short.insert(short.clone(), long.to_owned());
        self.made.push_back(long.to_owned());
        while self.made.len() > cap.max(1) {
            if let Some(old) = self.made.pop_front()
                && let Some(s) = self.by_long.remove(&old)
            {
                self.by_short.remove(&s);
            }
        }
        short
    }

    /// The long link a short one stands for.
    pub(crate) fn resolve(&self, short: &str) -> Option<String> {
        self.by_short.get(short).cloned()
    }
}

impl State {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            orders: HashMap::new(),
            placed: VecDeque::new(),
            faults: Vec::new(),
            calls: HashMap::new(),
            limits,
            payouts: crate::payouts::PayoutBook::default(),
            sharing: crate::sharing::SharingBook::default(),
            papay: crate::papay::PapayBook::default(),
            short_links: ShortLinks::default(),
            face_codes: VecDeque::new(),
            dev_configs: HashMap::new(),
            bank_subs: std::collections::BTreeMap::new(),
        }
    }

    /// How many money-out records (and account movements) are kept.
    pub(crate) fn payout_cap(&self) -> usize {
        self.limits.orders
    }

    pub(crate) fn order(&self, key: &OrderKey) -> Option<&Order> {
        self.orders.get(key)
    }

    pub(crate) fn order_mut(&mut self, key: &OrderKey) -> Option<&mut Order> {
        self.orders.get_mut(key)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    pub(crate) fn orders_mut(&mut self) -> impl Iterator<Item = &mut Order> {
        self.orders.values_mut()
    }

    /// Keeps a new order, dropping the oldest completed one when the limit is reached.
    pub(crate) fn insert_order(&mut self, key: OrderKey, order: Order) {
        if self.orders.len() >= self.limits.orders && !self.orders.contains_key(&key) {
            self.evict_order();
        }
        let key = Arc::new(key);
        if self.orders.insert(Arc::clone(&key), order).is_none() {
            self.placed.push_back(key);
        }
    }

    fn evict_order(&mut self) {
        let completed = self
            .placed
            .iter()
            .take(EVICTION_SCAN)
            .position(|k| self.orders.get(&**k).is_none_or(Order::is_completed))
            .unwrap_or(0);
        if let Some(key) = self.placed.remove(completed) {
            self.orders.remove(&*key);
        }
    }

    pub(crate) fn count_call(&mut self, endpoint: &'static str) {
        *self.calls.entry(endpoint).or_default() += 1;
    }

    pub(crate) fn calls(&self, endpoint: &str) -> u64 {
        self.calls.get(endpoint).copied().unwrap_or(0)
    }

    pub(crate) fn all_calls(&self) -> HashMap<String, u64> {
        self.calls
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    pub(crate) fn add_fault(&mut self, fault: Fault) -> Result<(), Refusal> {
        if self.faults.len() >= self.limits.faults {
            return Err(Refusal::TooManyFaults {
                limit: self.limits.faults,
            });
        }
        self.faults.push(fault);
        Ok(())
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn faults(&self) -> &[Fault] {
        &self.faults
    }
    pub(crate) fn find_order(
        &mut self,
        key: &OrderKey,
        transaction_id: Option<&str>,
    ) -> Option<&mut Order> {
        if let Some(tid) = transaction_id.filter(|t| !t.is_empty()) {
            return self.orders.values_mut().find(|o| {
                o.mch_id == key.0
                    && o.sub_mch_id.as_deref().unwrap_or("") == key.1
                    && o.transaction_id.as_deref() == Some(tid)
            });
        }
        self.orders.get_mut(key)
    }

    /// Takes the first matching fault for `endpoint`, consuming one use of a counted fault.
    pub(crate) fn take_fault(&mut self, endpoint: &str) -> Option<FaultKind> {
        let roll = crate::ids::random_u64() % 1000;
        let i = self.faults.iter().position(|f| {
            (f.endpoint == endpoint || f.endpoint == "*")
                && match (f.count, f.per_mille) {
                    (Some(c), _) => c > 0,
                    (None, Some(p)) => roll < u64::from(p),
                    (None, None) => true,
                }
        })?;
        let kind = self.faults[i].kind.clone();
        if let Some(c) = self.faults[i].count.as_mut() {
            *c -= 1;
            if *c == 0 {
                self.faults.remove(i);
            }
        }
        Some(kind)
    }
}
