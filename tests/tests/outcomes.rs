//! Outcomes that never lie: every call that moves money, under sequences of faults queued in
//! a real simulator process (over TLS, with the certificate), judged against what the
//! simulator booked. The invariants:
//!
//! - `Refused` (nothing moved, for certain) ⇒ the simulator has no success for the number;
//! - `Done` ⇒ it has one;
//! - never more than one success per number, and after a clean repeat of the same request
//!   (the settle path) exactly one.
//!
//! A table of named sequences (a booked attempt, then a final refusal, a drop, a hang, a
//! refused connection, …) runs for every endpoint, and a seeded random walk of 200 sequences
//! of length 1–4 per endpoint.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use tenpay_client::{
    AddReceiver, Client, ContractSigning, FinishSharing, Identity, MchBillno, Micropay,
    MiniProgramRedpack, MultiProfitSharing, NewReceiver, OutRefundNo, OutTradeNo, Outcome,
    PapOrderQuery, PapPayApply, PartnerTradeNo, PayBank, ProfitSharing, RawCall, ReceiverType,
    Redpack, Refund, Refused, RefusedBecause, RelationType, Reverse, SendRedpack, SharingQuery,
    SharingReceiver, SharingReturn, SharingReturnQuery, Split, Transfer, UnifiedOrder,
};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{Fault, FaultKind, MerchantAccount, PayOptions, SimHandle, Simulator};
use tenpay_xml::Fen;

mod common;
use common::business;

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const STORE: &str = "190001001";
const NOTIFY: &str = "http://127.0.0.1:9/notify";
/// A payment code the simulator pays at once.
const PAY_AT_ONCE: &str = "134567890123456700";
/// The client's timeout, and the simulator's hang (longer). The timeout is generous: a
/// spurious one on a loaded machine would turn an expected refusal into an open outcome.
const TIMEOUT: Duration = Duration::from_millis(1200);
const HANG_MS: u64 = 1500;

/// The endpoints that move money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Transfer,
    Redpack,
    Bank,
    Refund,
    Micropay,
    Reverse,
    Split,
    Return,
    Finish,
    Deduction,
    MiniRedpack,
    MultiSplit,
    /// A transfer made as a `RawCall` marked `moves_money`.
    RawTransfer,
}

impl Family {
    /// The simulator's name for the endpoint (its last path segment).
    fn endpoint(self) -> &'static str {
        match self {
            Self::Transfer => "transfers",
            Self::Redpack => "sendredpack",
            Self::Bank => "pay_bank",
            Self::Refund => "refund",
            Self::Micropay => "micropay",
            Self::Reverse => "reverse",
            Self::Split => "profitsharing",
            Self::Return => "profitsharingreturn",
            Self::Finish => "profitsharingfinish",
            Self::Deduction => "pappayapply",
            Self::MiniRedpack => "sendminiprogramhb",
            Self::MultiSplit => "multiprofitsharing",
            Self::RawTransfer => "transfers",
        }
    }

    /// A code the family documents as final on a first attempt.
    fn final_code(self) -> &'static str {
        match self {
            Self::Transfer
            | Self::Redpack
            | Self::MiniRedpack
            | Self::Bank
            | Self::Refund
            | Self::RawTransfer => "NOTENOUGH",
            Self::Micropay => "AUTHCODEEXPIRE",
            Self::Reverse => "REVERSE_EXPIRE",
            Self::Split | Self::MultiSplit | Self::Finish => "ORDER_NOT_READY",
            Self::Return => "FREQUENCY_LIMITED",
            Self::Deduction => "CONTRACT_NOT_EXIST",
        }
    }

    /// Whether the client repeats the identical request after an open failure (micropay is
    /// never repeated blindly: its flow queries instead).
    fn retried(self) -> bool {
        self != Self::Micropay
    }

    const ALL: [Self; 13] = [
        Self::Transfer,
        Self::Redpack,
        Self::Bank,
        Self::Refund,
        Self::Micropay,
        Self::Reverse,
        Self::Split,
        Self::Return,
        Self::Finish,
        Self::Deduction,
        Self::MiniRedpack,
        Self::MultiSplit,
        Self::RawTransfer,
    ];
}

/// What a call ended in, with the payload dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Done,
    NumberTaken,
    Unknown,
    Refused(RefusedBecause),
}

fn seen<T>(r: &Result<Outcome<T>, Refused>) -> Seen {
    match r {
        Ok(Outcome::Done(_)) => Seen::Done,
        Ok(Outcome::NumberTaken(_)) => Seen::NumberTaken,
        Ok(_) => Seen::Unknown,
        Err(r) => Seen::Refused(r.because()),
    }
}

/// One simulator, its clients, and what each family needs set up once.
struct Env {
    sim: SimHandle,
    /// Retries three times (four attempts), times out before the simulator's hang.
    client: Client,
    /// The same, with every repeat sent to a backup address that refuses connections.
    failover: Client,
    /// A paid profit-sharing payment and a split of it to the store (for returns).
    shared: Option<(String, String)>,
    contract_id: String,
    serial: std::cell::Cell<u64>,
}

fn builder(sim: &SimHandle) -> tenpay_client::ClientBuilder {
    let tls = sim.tls().unwrap();
    Client::builder(tenpay_client::Merchant::new(
        APPID,
        MCH,
        ApiKey::new(KEY).unwrap(),
        SignType::Md5,
    ))
    .base_url(sim.tls_base_url().unwrap())
    .bank_key_url(sim.tls_base_url().unwrap())
    .add_root_certificate_pem(tls.ca_pem.clone())
    .identity(Identity::from_pkcs12(
        tls.identity(MCH).unwrap().pkcs12.clone(),
    ))
    .retries(3, Duration::from_millis(1))
    .timeout(TIMEOUT)
    .micropay_polling(Duration::from_millis(5), Duration::from_millis(50))
}

impl Env {
    async fn new(family: Family) -> Self {
        let sim = Simulator::builder()
            .merchant(
                MerchantAccount::new(APPID, MCH, ApiKey::new(KEY).unwrap())
                    .balance(Fen::new(1_000_000_000)),
            )
            .time_scale(1000)
            .tls(true)
            .start()
            .await
            .unwrap();
        let client = builder(&sim).build().unwrap();
        let failover = builder(&sim)
            .backup_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let mut env = Self {
            sim,
            client,
            failover,
            shared: None,
            contract_id: String::new(),
            serial: std::cell::Cell::new(0),
        };
        match family {
            Family::Split | Family::MultiSplit | Family::Return | Family::Finish => {
                env.client
                    .add_sharing_receiver(&AddReceiver::new(&NewReceiver::merchant(
                        STORE,
                        "示例商户全称",
                        RelationType::Store,
                    )))
                    .await
                    .unwrap();
                let tid = env.paid_order(true).await;
                let split = ProfitSharing::new(Split::new(&tid, "SPLIT0", &[share(2000)]));
                env.client
                    .profit_sharing(&split)
                    .await
                    .unwrap()
                    .done()
                    .unwrap();
                env.shared = Some((tid, "SPLIT0".into()));
            }
            Family::Deduction => {
                let signing =
                    ContractSigning::new("12535", "OUTCOMES1", 1_001, "Gold plan", NOTIFY);
                let page = env.client.entrust_web_url(&signing).unwrap();
                env.sim.open_signing_url(&page).unwrap();
                env.contract_id = env
                    .sim
                    .sign_contract(MCH, "OUTCOMES1", "oSubscriber000000000000000001")
                    .unwrap()
                    .contract_id;
            }
            Family::Bank => {
                // The simulator makes its RSA key on first use, which can take longer than
                // the short timeout here: fetch it before the cases (each client keeps it).
                for c in [&env.client, &env.failover] {
                    let mut tries = 0;
                    while c.public_key().await.is_err() {
                        tries += 1;
                        assert!(tries < 20, "no RSA key from the simulator");
                    }
                }
            }
            _ => {}
        }
        env
    }

    fn next(&self, prefix: &str) -> String {
        let n = self.serial.get() + 1;
        self.serial.set(n);
        format!("{prefix}{n:08}")
    }

    /// A paid order of 10 000 fen (placed for sharing when asked); its transaction id.
    async fn paid_order(&self, sharing: bool) -> String {
        let no = self.next("O");
        let mut order = UnifiedOrder::native(
            "A cup",
            OutTradeNo::new(&no).unwrap(),
            Fen::new(10_000),
            "127.0.0.1",
            NOTIFY,
            "CUP",
        );
        if sharing {
            order = order.profit_sharing();
        }
        self.client.unified_order(&order).await.unwrap();
        let paid = self.sim.pay(&no, &PayOptions::new()).unwrap();
        paid.transaction_id.unwrap()
    }
}

fn share(fen: u64) -> SharingReceiver {
    SharingReceiver::new(ReceiverType::MerchantId, STORE, Fen::new(fen), "share")
}

/// One case of a family: the request, made ready (an order paid for a refund, a payment
/// charged for a reversal), callable again.
enum Case {
    Transfer(Transfer),
    Redpack(SendRedpack),
    Bank(PayBank),
    Refund {
        order: String,
        refund: Refund,
    },
    Micropay(Micropay),
    Reverse(Reverse),
    Split {
        tid: String,
        split: ProfitSharing,
    },
    Return {
        order: String,
        ret: SharingReturn,
    },
    Finish {
        tid: String,
        finish: FinishSharing,
    },
    Deduction(PapPayApply),
    MiniRedpack(MiniProgramRedpack),
    MultiSplit {
        tid: String,
        split: MultiProfitSharing,
    },
    RawTransfer(RawCall),
}

impl Case {
    async fn new(env: &Env, family: Family) -> (Self, String) {
        let no = env.next(match family {
            Family::Transfer => "T",
            Family::Redpack => "B",
            Family::Bank => "K",
            Family::Refund => "R",
            Family::Micropay => "M",
            Family::Reverse => "V",
            Family::Split => "S",
            Family::Return => "N",
            Family::Finish => "F",
            Family::Deduction => "D",
            Family::MiniRedpack => "H",
            Family::MultiSplit => "U",
            Family::RawTransfer => "W",
        });
        // A user of its own per case: the per-user daily limits never bind.
        let openid = format!("oOutcomes{no:0>19}");
        let case = match family {
            Family::Transfer => Self::Transfer(Transfer::new(
                PartnerTradeNo::new(&no).unwrap(),
                &openid,
                Fen::new(100),
                "deposit back",
                "127.0.0.1",
            )),
            Family::Redpack => Self::Redpack(SendRedpack::new(packet(&no, &openid), "127.0.0.1")),
            Family::MiniRedpack => Self::MiniRedpack(MiniProgramRedpack::new(packet(&no, &openid))),
            Family::MultiSplit => {
                let tid = env.paid_order(true).await;
                let split = MultiProfitSharing::new(Split::new(&tid, &no, &[share(100)]));
                Self::MultiSplit { tid, split }
            }
            Family::RawTransfer => Self::RawTransfer(
                RawCall::new("/mmpaymkttransfers/promotion/transfers")
                    .unwrap()
                    .field("partner_trade_no", &no)
                    .field("openid", &openid)
                    .field("check_name", "NO_CHECK")
                    .field("amount", "100")
                    .field("desc", "deposit back")
                    .field("spbill_create_ip", "127.0.0.1")
                    .merchant_fields("mch_appid", "mchid")
                    .unsigned_answer()
                    .retry_safe(true)
                    .moves_money("partner_trade_no", &["NOTENOUGH", "FREQ_LIMIT"]),
            ),
            Family::Bank => Self::Bank(PayBank::new(
                PartnerTradeNo::new(&no).unwrap(),
                "6222020200000000",
                "张三",
                tenpay_client::BankCode::Icbc,
                Fen::new(10_000),
            )),
            Family::Refund => {
                let order = env.next("O");
                env.client
                    .unified_order(&UnifiedOrder::native(
                        "A cup",
                        OutTradeNo::new(&order).unwrap(),
                        Fen::new(200),
                        "127.0.0.1",
                        NOTIFY,
                        "CUP",
                    ))
                    .await
                    .unwrap();
                env.sim.pay(&order, &PayOptions::new()).unwrap();
                let refund = Refund::by_out_trade_no(
                    OutTradeNo::new(&order).unwrap(),
                    OutRefundNo::new(&no).unwrap(),
                    Fen::new(200),
                    Fen::new(60),
                );
                Self::Refund { order, refund }
            }
            Family::Micropay => Self::Micropay(micropay(&no)),
            Family::Reverse => {
                env.client
                    .micropay(&micropay(&no))
                    .await
                    .unwrap()
                    .done()
                    .unwrap();
                Self::Reverse(Reverse::new(OutTradeNo::new(&no).unwrap()))
            }
            Family::Split => {
                let tid = env.paid_order(true).await;
                let split = ProfitSharing::new(Split::new(&tid, &no, &[share(100)]));
                Self::Split { tid, split }
            }
            Family::Return => {
                let (_, order) = env.shared.clone().unwrap();
                let ret = SharingReturn::new(&order, &no, STORE, Fen::new(1), "a return");
                Self::Return { order, ret }
            }
            Family::Finish => {
                let tid = env.paid_order(true).await;
                let finish = FinishSharing::new(&tid, &no, "done");
                Self::Finish { tid, finish }
            }
            Family::Deduction => Self::Deduction(PapPayApply::new(
                "Gold plan, monthly",
                OutTradeNo::new(&no).unwrap(),
                Fen::new(1_500),
                "127.0.0.1",
                NOTIFY,
                &env.contract_id,
            )),
        };
        (case, no)
    }

    /// Makes the call through `c`.
    async fn call(&self, c: &Client) -> Seen {
        match self {
            Self::Transfer(t) => seen(&c.transfer(t).await),
            Self::Redpack(r) => seen(&c.send_redpack(r).await),
            Self::Bank(b) => seen(&c.pay_bank(b).await),
            Self::Refund { refund, .. } => seen(&c.refund(refund).await),
            Self::Micropay(m) => seen(&c.micropay(m).await),
            Self::Reverse(r) => seen(&c.reverse(r).await),
            Self::Split { split, .. } => seen(&c.profit_sharing(split).await),
            Self::Return { ret, .. } => seen(&c.sharing_return(ret).await),
            Self::Finish { finish, .. } => seen(&c.finish_sharing(finish).await),
            Self::Deduction(d) => seen(&c.pap_pay_apply(d).await),
            Self::MiniRedpack(r) => seen(&c.send_miniprogram_redpack(r).await),
            Self::MultiSplit { split, .. } => seen(&c.multi_profit_sharing(split).await),
            Self::RawTransfer(call) => seen(&c.call_money(call).await),
        }
    }

    /// How many successes the simulator has for the case's number (faults cleared first: the
    /// queries must not meet one).
    async fn successes(&self, env: &Env, no: &str) -> usize {
        env.sim.clear_faults();
        let sim = &env.sim;
        match self {
            Self::Transfer(_) | Self::RawTransfer(_) => sim
                .transfers()
                .iter()
                .filter(|t| t.partner_trade_no == no)
                .count(),
            Self::Redpack(_) | Self::MiniRedpack(_) => sim
                .redpacks()
                .iter()
                .filter(|r| r.mch_billno == format!("{MCH}{no}"))
                .count(),
            Self::Bank(_) => sim
                .bank_payments()
                .iter()
                .filter(|b| b.partner_trade_no == no)
                .count(),
            Self::Refund { order, .. } => sim
                .order(order)
                .unwrap()
                .refunds
                .iter()
                .filter(|r| r.out_refund_no == no)
                .count(),
            Self::Micropay(_) => usize::from(
                sim.order(no)
                    .is_ok_and(|o| o.trade_state == "SUCCESS" || o.trade_state == "REVOKED"),
            ),
            Self::Reverse(_) => usize::from(sim.order(no).unwrap().trade_state == "REVOKED"),
            Self::Split { tid, .. } | Self::MultiSplit { tid, .. } | Self::Finish { tid, .. } => {
                usize::from(
                    env.client
                        .sharing_query(&SharingQuery::new(tid, no))
                        .await
                        .is_ok(),
                )
            }
            Self::Return { order, .. } => usize::from(
                env.client
                    .sharing_return_query(&SharingReturnQuery::new(order, no))
                    .await
                    .is_ok_and(|r| r.result.as_deref() == Some("SUCCESS")),
            ),
            Self::Deduction(_) => usize::from(
                env.client
                    .pap_order_query(&PapOrderQuery::new(OutTradeNo::new(no).unwrap()))
                    .await
                    .is_ok(),
            ),
        }
    }
}

fn packet(no: &str, openid: &str) -> Redpack {
    Redpack::new(
        MchBillno::new(format!("{MCH}{no}")).unwrap(),
        openid,
        Fen::new(100),
        "shop",
        "thanks",
        "launch",
        "remark",
    )
}

fn micropay(no: &str) -> Micropay {
    Micropay::new(
        "刷卡",
        OutTradeNo::new(no).unwrap(),
        Fen::new(1),
        "127.0.0.1",
        PAY_AT_ONCE,
    )
}

/// A sequence of faults for the next attempts, and whether every repeat meets a refused
/// connection instead of the simulator.
#[derive(Debug, Clone)]
struct Sequence {
    faults: Vec<FaultKind>,
    then_refused: bool,
}

/// Runs one sequence for one family; checks the invariants; returns what the call saw.
async fn run(env: &Env, family: Family, seq: &Sequence) -> Seen {
    let (case, no) = Case::new(env, family).await;
    for f in &seq.faults {
        env.sim
            .inject(Fault::next(family.endpoint(), f.clone(), 1))
            .unwrap();
    }
    let client = if seq.then_refused {
        &env.failover
    } else {
        &env.client
    };
    let outcome = case.call(client).await;
    let after = case.successes(env, &no).await;
    let what = format!("{family:?} {no} {seq:?}: {outcome:?}, {after} success(es)");
    assert!(after <= 1, "paid twice: {what}");
    match outcome {
        Seen::Refused(_) => assert_eq!(after, 0, "refused, but the simulator paid: {what}"),
        Seen::Done => assert_eq!(after, 1, "done, but the simulator has nothing: {what}"),
        Seen::Unknown | Seen::NumberTaken => {}
    }
    // The settle path: the same request again, cleanly, ends in exactly one success. (A hung
    // attempt may still be booked meanwhile: the simulator takes it as the same request.)
    let again = case.call(&env.client).await;
    let settled = case.successes(env, &no).await;
    assert_eq!(again, Seen::Done, "the clean repeat: {what}");
    assert_eq!(settled, 1, "after the clean repeat: {what}");
    outcome
}

/// The named sequences: each with the outcome it must give (for a family that repeats
/// requests, and for micropay, which does not).
fn table(family: Family) -> Vec<(&'static str, Sequence, Seen, Seen)> {
    use FaultKind::*;
    let final_code = business(family.final_code());
    let seq = |faults: Vec<FaultKind>| Sequence {
        faults,
        then_refused: false,
    };
    let refused_after = |f: FaultKind| Sequence {
        faults: vec![f],
        then_refused: true,
    };
    let final_ = Seen::Refused(RefusedBecause::Final);
    let open = Seen::Unknown;
    vec![
        (
            "booked, then a final code",
            seq(vec![SystemErrorAfterProcessing, final_code.clone()]),
            open,
            open,
        ),
        (
            "booked, then FREQ_LIMIT",
            seq(vec![SystemErrorAfterProcessing, business("FREQ_LIMIT")]),
            open,
            open,
        ),
        (
            "booked, then PARAM_ERROR",
            seq(vec![SystemErrorAfterProcessing, business("PARAM_ERROR")]),
            open,
            open,
        ),
        (
            "dropped, then a final code",
            seq(vec![Drop, final_code.clone()]),
            open,
            open,
        ),
        (
            "truncated, HTTP 500, a final code",
            seq(vec![Truncated, Http500, final_code.clone()]),
            open,
            open,
        ),
        (
            "booked, then refused connections",
            refused_after(SystemErrorAfterProcessing),
            open,
            open,
        ),
        (
            "hung, then refused connections",
            refused_after(Delay { ms: HANG_MS }),
            open,
            open,
        ),
        (
            "SYSTEMERROR on every attempt",
            seq(vec![SystemError; 4]),
            open,
            open,
        ),
        (
            "the number taken (FATAL_ERROR)",
            seq(vec![business("FATAL_ERROR")]),
            Seen::NumberTaken,
            Seen::NumberTaken,
        ),
        (
            "control: a final code",
            seq(vec![final_code]),
            final_,
            final_,
        ),
        (
            "control: a configuration code",
            seq(vec![business("PARAM_ERROR")]),
            final_,
            final_,
        ),
        (
            "control: a dropped answer",
            seq(vec![Drop]),
            Seen::Done,
            open,
        ),
        ("control: HTTP 500", seq(vec![Http500]), Seen::Done, open),
        (
            "control: SYSTEMERROR once",
            seq(vec![SystemError]),
            Seen::Done,
            open,
        ),
        (
            "control: refused connections only",
            Sequence {
                faults: vec![],
                then_refused: true,
            },
            Seen::Done,
            Seen::Done,
        ),
    ]
}

async fn named_sequences(family: Family) {
    let env = Env::new(family).await;
    for (name, seq, retried, once) in table(family) {
        let want = if family.retried() { retried } else { once };
        let got = run(&env, family, &seq).await;
        assert_eq!(got, want, "{family:?}, {name}: {seq:?}");
        env.sim.clear_faults();
    }
    env.sim.shutdown().await;
}

/// 200 random sequences of length 1–4 from the simulator's fault kinds and the family's
/// codes; a quarter of them meet refused connections after the first attempt.
async fn random_sequences(family: Family, seed: u64) {
    use FaultKind::*;
    let env = Env::new(family).await;
    let mut rng = tenpay_e2e::Rng::new(seed);
    let mut pool = common::open_faults();
    pool.extend([
        Delay { ms: HANG_MS },
        business(family.final_code()),
        business("PARAM_ERROR"),
        business("FREQ_LIMIT"),
        business("FATAL_ERROR"),
        business("268458547"),
    ]);
    let mut tally = [0u32; 4];
    for _ in 0..200 {
        let len = 1 + rng.below(4);
        let faults: Vec<FaultKind> = (0..len)
            .map(|_| {
                // Hangs are slow: one draw in eight of what would be one.
                let f = pool[rng.below(pool.len())].clone();
                if matches!(f, Delay { .. }) && rng.below(8) != 0 {
                    SystemErrorAfterProcessing
                } else {
                    f
                }
            })
            .collect();
        let seq = Sequence {
            faults,
            then_refused: rng.below(4) == 0,
        };
        let got = run(&env, family, &seq).await;
        tally[match got {
            Seen::Done => 0,
            Seen::Unknown => 1,
            Seen::NumberTaken => 2,
            Seen::Refused(_) => 3,
        }] += 1;
        env.sim.clear_faults();
    }
    // Every kind of outcome was met (the walk is not trivially one-sided); micropay is never
    // repeated, so a fault on its one attempt never ends in Done.
    let kinds = if family.retried() { 0..4 } else { 1..4 };
    assert!(tally[kinds].iter().all(|n| *n > 0), "{family:?}: {tally:?}");
    env.sim.shutdown().await;
}

macro_rules! families {
    ($($name:ident: $family:expr, $seed:literal;)*) => {
        mod named {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    named_sequences($family).await;
                }
            )*
        }
        mod random {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    random_sequences($family, $seed).await;
                }
            )*
        }
        #[test]
        fn every_family_is_tested() {
            let tested = [$($family),*];
            assert!(Family::ALL.iter().all(|f| tested.contains(f)));
        }
    };
}

families! {
    transfer: Family::Transfer, 0x7e11_0001;
    redpack: Family::Redpack, 0x7e11_0002;
    bank: Family::Bank, 0x7e11_0003;
    refund: Family::Refund, 0x7e11_0004;
    micropay: Family::Micropay, 0x7e11_0005;
    reverse: Family::Reverse, 0x7e11_0006;
    split: Family::Split, 0x7e11_0007;
    sharing_return: Family::Return, 0x7e11_0008;
    finish: Family::Finish, 0x7e11_0009;
    deduction: Family::Deduction, 0x7e11_000a;
    miniprogram_redpack: Family::MiniRedpack, 0x7e11_000b;
    multi_split: Family::MultiSplit, 0x7e11_000c;
    raw_transfer: Family::RawTransfer, 0x7e11_000d;
}
