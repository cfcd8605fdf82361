//! Money out against the simulator over TLS: transfers, red packets, bank cards (RSA-OAEP,
//! decrypted on the simulator's side), and the unknown-outcome path ending in exactly one
//! payment under every fault the simulator injects. Answer shapes from public SDKs in
//! `testdata/payout/`.

use std::time::Duration;

use tenpay_client::{
    BankCode, BankQuery, BankStatus, Client, Error, MchBillno, MiniProgramRedpack, Outcome,
    PartnerTradeNo, PayBank, PublicKey, Redpack, RedpackQuery, RedpackStatus, SendRedpack, Settled,
    Transfer, TransferQuery, TransferStatus,
};
use tenpay_sign::SignType;
use tenpay_sim::{Fault, FaultKind, MerchantAccount, Simulator};
use tenpay_xml::Fen;

use super::{APPID, MCH, client, key, merchant, sim, tls_builder};

const OPENID: &str = "oUpF8uMEb4qRXf22hE3X68TekukE";

fn ptn(s: &str) -> PartnerTradeNo {
    PartnerTradeNo::new(s).unwrap()
}

fn transfer(no: &str, fen: u64) -> Transfer {
    Transfer::new(
        ptn(no),
        OPENID,
        Fen::new(fen),
        "refund of deposit",
        "127.0.0.1",
    )
}

fn packet(no: &str, fen: u64) -> Redpack {
    Redpack::new(
        MchBillno::new(no).unwrap(),
        OPENID,
        Fen::new(fen),
        "shop",
        "thanks",
        "launch",
        "remark",
    )
}

fn balance(sim: &tenpay_sim::SimHandle) -> u64 {
    sim.balance(MCH).unwrap().get()
}

#[tokio::test]
async fn a_transfer_pays_once_and_a_repeat_is_the_same_transfer() {
    let sim = sim().await;
    let c = client(&sim, SignType::HmacSha256);
    let before = balance(&sim);
    let Outcome::Done(t) = c.transfer(&transfer("T1000001", 1500)).await.unwrap() else {
        panic!("not done")
    };
    assert_eq!(t.partner_trade_no, "T1000001");
    // The same number and fields again: the first payment, not a second one.
    let again = c
        .transfer(&transfer("T1000001", 1500))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(again.payment_no, t.payment_no);
    assert_eq!(before - balance(&sim), 1500);
    // The same number with another amount: the number is taken (and here paid), never
    // "nothing paid".
    let Outcome::NumberTaken(taken) = c.transfer(&transfer("T1000001", 1600)).await.unwrap() else {
        panic!("FATAL_ERROR must be NumberTaken")
    };
    assert_eq!(
        taken.cause().err_code().unwrap().as_str(),
        "FATAL_ERROR",
        "{taken}"
    );
    assert_eq!(taken.number(), "T1000001");
    let info = c
        .transfer_query(&TransferQuery::new(ptn("T1000001")))
        .await
        .unwrap();
    assert_eq!(info.status, TransferStatus::Success);
    assert_eq!(info.payment_amount, Some(Fen::new(1500)));
    assert_eq!(info.openid.as_deref(), Some(OPENID));
    // Unknown numbers are NOT_FOUND.
    let err = c
        .transfer_query(&TransferQuery::new(ptn("T9999999")))
        .await
        .unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "NOT_FOUND");
    assert_eq!(sim.transfers().len(), 1);
    // Final refusals are errors, and pay nothing: below the minimum, over the balance.
    let err = c.transfer(&transfer("T1000002", 50)).await.unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "AMOUNT_LIMIT");
    assert_eq!(before - balance(&sim), 1500);
    // Ten a day per user (this user has had one): the eleventh is SENDNUM_LIMIT.
    for i in 0..9 {
        let r = c
            .transfer(&transfer(&format!("T11{i:05}"), 100))
            .await
            .unwrap();
        assert!(matches!(r, Outcome::Done(_)));
    }
    let err = c.transfer(&transfer("T1200000", 100)).await.unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "SENDNUM_LIMIT");
    // The operation account's fund flow shows each transfer going out.
    let today = tenpay_xml::BeijingTime::from_unix(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap(),
    )
    .unwrap()
    .to_string()[..8]
        .to_owned();
    let flow = c
        .download_fund_flow(
            &tenpay_client::DownloadFundFlow::new(&today, tenpay_client::AccountType::Operation)
                .unwrap(),
        )
        .await
        .unwrap()
        .bill()
        .unwrap();
    assert_eq!(flow.rows.len(), 10, "{}", flow.text);
    assert_eq!(flow.rows[0].business_name.as_deref(), Some("企业付款"));
    assert_eq!(
        flow.rows[0].direction,
        Some(tenpay_client::Direction::Expense)
    );
    assert_eq!(flow.rows[0].amount, Some(Fen::new(1500)));
    assert_eq!(
        flow.rows[9].balance,
        Some(Fen::new(balance(&sim))),
        "the last balance is the account's"
    );
}

#[tokio::test]
async fn money_out_is_refused_without_a_certificate_and_with_a_short_balance() {
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()).balance(Fen::new(1000)))
        .tls(true)
        .start()
        .await
        .unwrap();
    let bare = tls_builder(&sim, SignType::Md5).build().unwrap();
    assert!(matches!(
        bare.transfer(&transfer("T2000001", 500)).await,
        Err(r) if matches!(r.cause(), Error::NoIdentity { .. }) && r.attempts().is_empty()
    ));
    assert!(matches!(
        bare.send_redpack(&SendRedpack::new(packet("B2000001", 500), "127.0.0.1"))
            .await,
        Err(r) if matches!(r.cause(), Error::NoIdentity { .. }) && r.attempts().is_empty()
    ));
    assert!(matches!(
        bare.pay_bank(&PayBank::new(
            ptn("P2000001"),
            "6222",
            "张三",
            BankCode::Icbc,
            Fen::new(500)
        ))
        .await,
        Err(r) if matches!(r.cause(), Error::NoIdentity { .. }) && r.attempts().is_empty()
    ));
    assert_eq!(sim.calls("transfers"), 0, "nothing was sent");
    let c = client(&sim, SignType::Md5);
    let err = c.transfer(&transfer("T2000002", 5000)).await.unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "NOTENOUGH");
    assert_eq!(sim.balance(MCH), Some(Fen::new(1000)));
}

/// Every fault the simulator can inject on the transfer, more times than the client retries:
/// the settle helper ends with exactly one payment each time.
#[tokio::test]
async fn the_unknown_outcome_ends_in_exactly_one_payment_under_every_fault() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let faults = [
        FaultKind::SystemError,
        FaultKind::SystemErrorAfterProcessing,
        FaultKind::Drop,
        FaultKind::Http500,
        FaultKind::Html,
        FaultKind::Truncated,
        FaultKind::BadSignature,
        FaultKind::BusinessError {
            err_code: "268458547".into(),
        },
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let no = format!("U{i:07}");
        let before = balance(&sim);
        // Three faults: the first send and both of the client's retries.
        sim.inject(Fault::next("transfers", fault.clone(), 3))
            .unwrap();
        let settled = c
            .settle_transfer(&transfer(&no, 700), Duration::from_secs(10))
            .await
            .unwrap();
        let Settled::Done(info) = settled else {
            panic!("{fault:?}: not settled: {settled:?}")
        };
        assert_eq!(info.status, TransferStatus::Success, "{fault:?}");
        let paid: Vec<_> = sim
            .transfers()
            .into_iter()
            .filter(|t| t.partner_trade_no == no)
            .collect();
        assert_eq!(paid.len(), 1, "{fault:?}");
        assert_eq!(before - balance(&sim), 700, "{fault:?}: paid once");
        sim.clear_faults();
    }
    // Without the helper, an open outcome is a typed "unknown", never an error.
    sim.inject(Fault::next(
        "transfers",
        FaultKind::SystemErrorAfterProcessing,
        3,
    ))
    .unwrap();
    let before = balance(&sim);
    match c.transfer(&transfer("U9000001", 900)).await.unwrap() {
        Outcome::Unknown(u) => {
            assert_eq!(u.number(), "U9000001");
            assert_eq!(u.cause().err_code().unwrap().as_str(), "SYSTEMERROR");
        }
        other => panic!("reported done: {other:?}"),
    }
    // It had happened, once: the query says so.
    let info = c
        .transfer_query(&TransferQuery::new(ptn("U9000001")))
        .await
        .unwrap();
    assert_eq!(info.status, TransferStatus::Success);
    assert_eq!(before - balance(&sim), 900);
}

#[tokio::test]
async fn red_packets_are_sent_claimed_and_read_with_their_receivers() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let before = balance(&sim);
    let sent = c
        .send_redpack(&SendRedpack::new(packet("B3000001", 888), "127.0.0.1"))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(sent.mch_billno, "B3000001");
    assert_eq!(sent.total_amount, Some(Fen::new(888)));
    assert_eq!(before - balance(&sim), 888);
    let q = RedpackQuery::new(MchBillno::new("B3000001").unwrap());
    let info = c.redpack_query(&q).await.unwrap();
    assert_eq!(info.status, RedpackStatus::Sent);
    assert!(info.receivers.is_empty());
    sim.claim_redpack("B3000001", None).unwrap();
    let info = c.redpack_query(&q).await.unwrap();
    assert_eq!(info.status, RedpackStatus::Received);
    assert_eq!(info.receivers.len(), 1);
    assert_eq!(info.receivers[0].openid, OPENID);
    assert_eq!(info.receivers[0].amount, Fen::new(888));
    // A mini-program packet carries the package for wx.sendBizRedPacket.
    let mini = c
        .send_miniprogram_redpack(&MiniProgramRedpack::new(packet("B3000002", 100)))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert!(mini.package.unwrap().contains("sendid="));
    // Outside 1–200 yuan a scene is needed.
    let err = c
        .send_redpack(&SendRedpack::new(packet("B3000003", 50), "127.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "MONEY_LIMIT");
    let ok = c
        .send_redpack(&SendRedpack::new(
            packet("B3000003", 50).scene_id("PRODUCT_1"),
            "127.0.0.1",
        ))
        .await
        .unwrap();
    assert!(matches!(ok, Outcome::Done(_)));
    // A group packet (the retired sendgroupredpack's kind) is split among its receivers.
    sim.seed_group_redpack(MCH, "G3000001", OPENID, Fen::new(900), 3)
        .unwrap();
    sim.claim_redpack("G3000001", Some("o2")).unwrap();
    sim.claim_redpack("G3000001", Some("o3")).unwrap();
    let group = c
        .redpack_query(&RedpackQuery::new(MchBillno::new("G3000001").unwrap()))
        .await
        .unwrap();
    assert_eq!(group.hb_type.as_deref(), Some("GROUP"));
    assert_eq!(group.receivers.len(), 2);
    assert_eq!(group.status, RedpackStatus::Sent, "one share left");
    // The retired endpoint answers so.
    let raw = c
        .call(
            &tenpay_client::RawCall::new("/mmpaymkttransfers/sendgroupredpack")
                .unwrap()
                .merchant_fields("wxappid", "mch_id")
                .sign_type(SignType::Md5)
                .unsigned_answer()
                .field("mch_billno", "G3000002"),
        )
        .await
        .unwrap_err();
    assert_eq!(raw.err_code().unwrap().as_str(), "API_METHOD_CLOSED");
}

#[tokio::test]
async fn an_unclaimed_packet_is_refunded_after_a_day() {
    // 100,000 × faster: a day is 0.86 s.
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()))
        .time_scale(100_000)
        .tls(true)
        .start()
        .await
        .unwrap();
    let c = client(&sim, SignType::Md5);
    let before = balance(&sim);
    c.send_redpack(&SendRedpack::new(packet("B4000001", 500), "127.0.0.1"))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(before - balance(&sim), 500);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let info = c
        .redpack_query(&RedpackQuery::new(MchBillno::new("B4000001").unwrap()))
        .await
        .unwrap();
    assert_eq!(info.status, RedpackStatus::Refunded);
    assert_eq!(info.refund_amount, Some(Fen::new(500)));
    assert_eq!(balance(&sim), before, "the money is back");
    assert!(sim.claim_redpack("B4000001", None).is_err());
}

#[tokio::test]
async fn a_bank_payment_is_encrypted_under_the_served_key_and_settles() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let before = balance(&sim);
    let pay = PayBank::new(
        ptn("P5000001"),
        "6222020200112233445",
        "张三",
        BankCode::Icbc,
        Fen::new(10_000),
    )
    .desc("salary");
    let Outcome::Done(accepted) = c.pay_bank(&pay).await.unwrap() else {
        panic!("not accepted")
    };
    assert_eq!(accepted.partner_trade_no, "P5000001");
    assert_eq!(
        accepted.cmms_amt,
        Some(Fen::new(100)),
        "0.1 %, at least 1 yuan"
    );
    // The simulator decrypted what the client encrypted under the key it served.
    let kept = sim.bank_payments();
    assert_eq!(kept[0].bank_no, "6222020200112233445");
    assert_eq!(kept[0].true_name, "张三");
    assert_eq!(kept[0].bank_code, "1002");
    assert_eq!(before - balance(&sim), 10_100);
    // Settling the same payment again is the same payment (the same ciphertexts are not
    // needed: the simulator compares the clear fields), and waits for the bank.
    let settled = c
        .settle_pay_bank(&pay, Duration::from_secs(5))
        .await
        .unwrap();
    let Settled::Done(info) = settled else {
        panic!("not settled: {settled:?}")
    };
    assert_eq!(info.status, BankStatus::Success);
    assert_eq!(sim.bank_payments().len(), 1);
    assert_eq!(before - balance(&sim), 10_100);
    let q = c
        .bank_query(&BankQuery::new(ptn("P5000001")))
        .await
        .unwrap();
    assert_eq!(q.amount, Some(Fen::new(10_000)));
    // The key was fetched once and kept.
    assert_eq!(sim.calls("getpublickey"), 1);
    // The key is PKCS#1 as WeChat Pay serves it; the client reads SPKI too.
    let key = c.public_key().await.unwrap();
    assert!(format!("{key:?}").contains("2048 bits"));
    assert!(
        PublicKey::from_pem("-----BEGIN RSA PUBLIC KEY-----\nnope\n-----END RSA PUBLIC KEY-----")
            .is_err()
    );
}

/// Answers shaped as public SDKs' fixtures show them.
#[test]
fn fixture_answers_decode() {
    let c = Client::builder(merchant(SignType::Md5)).build().unwrap();
    let read = |name: &str| {
        let text = std::fs::read_to_string(format!(
            "{}/testdata/payout/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let at = text.find("<xml>").unwrap();
        text[at..].to_owned()
    };
    let t = c
        .read_answer::<Transfer>(read("transfers.xml").as_bytes())
        .unwrap();
    assert_eq!(t.payment_no, "1000018301201505190181489473");
    let i = c
        .read_answer::<TransferQuery>(read("gettransferinfo.xml").as_bytes())
        .unwrap();
    assert_eq!(i.payment_amount, Some(Fen::new(650)));
    let r = c
        .read_answer::<SendRedpack>(read("sendredpack.xml").as_bytes())
        .unwrap();
    assert_eq!(
        r.send_listid.as_deref(),
        Some("100000000020150520314766074200")
    );
    let h = c
        .read_answer::<RedpackQuery>(read("gethbinfo.xml").as_bytes())
        .unwrap();
    assert_eq!(h.status, RedpackStatus::Received);
    assert_eq!(
        h.receivers[0].rcv_time.as_deref(),
        Some("2016-08-08 21:49:46")
    );
    let b = c
        .read_answer::<BankQuery>(read("query_bank.xml").as_bytes())
        .unwrap();
    assert_eq!(b.status, BankStatus::Processing);
    // Another merchant's answer is foreign, even unsigned.
    let other = read("transfers.xml").replace("10000100", "10000999");
    assert!(matches!(
        c.read_answer::<Transfer>(other.as_bytes()),
        Err(Error::ForeignAnswer { field: "mchid", .. })
    ));
}

fn stale_bank_key() -> PublicKey {
    let text = std::fs::read_to_string(format!(
        "{}/testdata/payout/stale_bank_key.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    PublicKey::from_pem(&text[text.find("-----BEGIN").unwrap()..]).unwrap()
}

fn bank(no: &str) -> PayBank {
    PayBank::new(
        ptn(no),
        "6222020200000000",
        "张三",
        BankCode::Icbc,
        Fen::new(10_000),
    )
}

/// The bank key comes only from the production risk host or a configured one; its
/// fingerprint can be pinned; a key WeChat Pay cannot decrypt with is fetched again, once.
#[tokio::test]
async fn the_bank_key_host_pin_and_refresh() {
    let sim = sim().await;
    let identity = || {
        tenpay_client::Identity::from_pkcs12(
            sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone(),
        )
    };
    // A base that is not production, and no key URL: nothing is fetched, nothing sent.
    let no_host = Client::builder(merchant(SignType::Md5))
        .base_url(sim.tls_base_url().unwrap())
        .add_root_certificate_pem(sim.tls().unwrap().ca_pem.clone())
        .identity(identity())
        .build()
        .unwrap();
    let r = no_host.pay_bank(&bank("K7000001")).await.unwrap_err();
    assert!(
        matches!(
            r.cause(),
            Error::Config(tenpay_client::ConfigError::BankKeyHost { .. })
        ),
        "{r}"
    );
    assert_eq!(r.because(), tenpay_client::RefusedBecause::NotSent);
    assert_eq!(sim.calls("getpublickey") + sim.calls("pay_bank"), 0);

    // The right key's fingerprint pins it; another pin refuses the fetched key unsent.
    let c = client(&sim, SignType::Md5);
    let fingerprint = c.public_key().await.unwrap().fingerprint();
    assert_eq!(fingerprint.len(), 64);
    assert_ne!(fingerprint, stale_bank_key().fingerprint());
    let pinned = |pin: &str| {
        tls_builder(&sim, SignType::Md5)
            .identity(identity())
            .pin_bank_key(pin)
            .build()
            .unwrap()
    };
    let Outcome::Done(_) = pinned(&fingerprint.to_uppercase())
        .pay_bank(&bank("K7000002"))
        .await
        .unwrap()
    else {
        panic!("the pinned key was refused")
    };
    let r = pinned(&stale_bank_key().fingerprint())
        .pay_bank(&bank("K7000003"))
        .await
        .unwrap_err();
    assert!(r.to_string().contains("nothing was sent"), "{r}");
    assert!(
        sim.bank_payments()
            .iter()
            .all(|b| b.partner_trade_no != "K7000003")
    );

    // A kept key WeChat Pay can no longer decrypt with: refused (nothing paid), fetched
    // again, encrypted again, paid once.
    let stale = tls_builder(&sim, SignType::Md5)
        .identity(identity())
        .bank_key(stale_bank_key())
        .build()
        .unwrap();
    let fetches = sim.calls("getpublickey");
    let Outcome::Done(_) = stale.pay_bank(&bank("K7000004")).await.unwrap() else {
        panic!("not paid after the refresh")
    };
    assert_eq!(sim.calls("getpublickey"), fetches + 1);
    assert_eq!(stale.public_key().await.unwrap().fingerprint(), fingerprint);
    let paid = sim
        .bank_payments()
        .into_iter()
        .filter(|b| b.partner_trade_no == "K7000004")
        .count();
    assert_eq!(paid, 1);
}

/// The review's sequence: booked and answered SYSTEMERROR, then the repeat refused
/// FREQ_LIMIT. `settle_*` keeps the outcome open and queries: paid exactly once, never an
/// error. The same number with another amount (FATAL_ERROR) is queried too.
#[tokio::test]
async fn settle_never_returns_a_repeat_refusal() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    for (endpoint, i) in [("transfers", 0), ("sendredpack", 1), ("pay_bank", 2)] {
        sim.inject(Fault::next(
            endpoint,
            FaultKind::SystemErrorAfterProcessing,
            1,
        ))
        .unwrap();
        sim.inject(Fault::next(
            endpoint,
            FaultKind::BusinessError {
                err_code: "FREQ_LIMIT".into(),
            },
            1,
        ))
        .unwrap();
        let within = Duration::from_secs(10);
        let done = match i {
            0 => matches!(
                c.settle_transfer(&transfer("Q8000001", 1500), within).await,
                Ok(Settled::Done(_))
            ),
            1 => matches!(
                c.settle_redpack(
                    &SendRedpack::new(packet("Q8000002", 100), "127.0.0.1"),
                    within
                )
                .await,
                Ok(Settled::Done(_))
            ),
            _ => matches!(
                c.settle_pay_bank(&bank("Q8000003"), within).await,
                Ok(Settled::Done(_) | Settled::Pending(_))
            ),
        };
        assert!(done, "{endpoint}: not settled");
        sim.clear_faults();
    }
    assert_eq!(sim.transfers().len(), 1);
    assert_eq!(sim.redpacks().len(), 1);
    assert_eq!(sim.bank_payments().len(), 1);
    // The same transfer number with another amount: taken; settle queries and finds the
    // payment that stands (1500), never "nothing paid".
    let Settled::Done(info) = c
        .settle_transfer(&transfer("Q8000001", 1600), Duration::from_secs(5))
        .await
        .unwrap()
    else {
        panic!("not queried")
    };
    assert_eq!(info.payment_amount, Some(Fen::new(1500)));
    assert_eq!(sim.transfers().len(), 1);
}

/// A bank payment accepted and then failed at the bank (the simulator's `Settles` fault):
/// settling it ends `Failed` with the bank's reason, and the money is back.
#[tokio::test]
async fn a_bank_payment_that_fails_at_the_bank_settles_failed_with_the_money_back() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let before = balance(&sim);
    for (no, state) in [("P5000101", "FAILED"), ("P5000102", "BANK_FAIL")] {
        sim.inject(Fault::next(
            "pay_bank",
            FaultKind::Settles {
                state: state.into(),
                reason: "收款账户不存在".into(),
            },
            1,
        ))
        .unwrap();
        let pay = PayBank::new(
            ptn(no),
            "6222020200112233445",
            "张三",
            BankCode::Icbc,
            Fen::new(10_000),
        );
        let settled = c
            .settle_pay_bank(&pay, Duration::from_secs(5))
            .await
            .unwrap();
        let Settled::Failed(info) = settled else {
            panic!("{no}: not failed: {settled:?}")
        };
        assert_eq!(info.status.as_str(), state);
        assert_eq!(info.reason.as_deref(), Some("收款账户不存在"));
    }
    assert_eq!(balance(&sim), before, "amount and fee came back");
}
