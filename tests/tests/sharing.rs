//! Profit sharing end to end: an order placed with `profit_sharing=Y` is paid in the
//! simulator, its payment notification is verified by tenpay-notify's service, then split
//! among two receivers through the client (over TLS with the certificate, HMAC-SHA256 only),
//! part is returned, and the finish releases the rest; the fund flow shows each movement.
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tenpay_client::{
    AccountType, AddReceiver, Client, DownloadFundFlow, FinishSharing, Identity,
    MultiProfitSharing, NewReceiver, OutTradeNo, ProfitSharing, ReceiverType, RelationType,
    RemoveReceiver, SharingQuery, SharingReceiver, SharingReturn, SharingReturnQuery,
    SharingStatus, Split, UnifiedOrder, UnsplitAmountQuery,
};
use tenpay_notify::{Notification, Notifier, NotifyService, verified};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{MerchantAccount, PayOptions, Simulator};
use tenpay_xml::Fen;

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const STORE: &str = "190001001";
const STAFF: &str = "oStaff0000000000000000000001";

/// tenpay-notify's service, keeping each verified payment's transaction id.
async fn merchant(key: ApiKey, paid: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let service = NotifyService::new(
        Notifier::new(&tenpay_sign::Merchant::new(APPID, MCH, key, SignType::Md5)),
        verified(move |n: Notification| {
            let paid = Arc::clone(&paid);
            async move {
                if let Notification::Pay(p) = n {
                    paid.lock()
                        .unwrap()
                        .push(p.transaction_id().unwrap_or_default().to_owned());
                }
                Ok::<(), String>(())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let svc = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
    addr
}

fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    tenpay_xml::BeijingTime::from_unix(i64::try_from(now).unwrap())
        .unwrap()
        .to_string()[..8]
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_split_among_two_return_part_and_finish() {
    let key = ApiKey::new(KEY).unwrap();
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key.clone()))
        .time_scale(1000)
        .tls(true)
        .start()
        .await
        .unwrap();
    let paid = Arc::new(Mutex::new(Vec::new()));
    let notify = merchant(key.clone(), Arc::clone(&paid)).await;
    let tls = sim.tls().unwrap();
    // An MD5 client: the sharing calls sign with HMAC-SHA256 whatever it is configured with.
    let c = Client::builder(tenpay_client::Merchant::new(APPID, MCH, key, SignType::Md5))
        .base_url(sim.tls_base_url().unwrap())
        .add_root_certificate_pem(tls.ca_pem.clone())
        .identity(Identity::from_pkcs12(
            tls.identity(MCH).unwrap().pkcs12.clone(),
        ))
        .build()
        .unwrap();

    // A payment placed for sharing, paid, and heard of through the notify service.
    let order = UnifiedOrder::native(
        "A shared cup",
        OutTradeNo::new("PS20261201001").unwrap(),
        Fen::new(10_000),
        "127.0.0.1",
        format!("http://{notify}/notify"),
        "CUP",
    )
    .profit_sharing();
    c.unified_order(&order).await.unwrap();
    sim.pay("PS20261201001", &PayOptions::new()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let tid = loop {
        if let Some(t) = paid.lock().unwrap().first().cloned() {
            break t;
        }
        assert!(std::time::Instant::now() < deadline, "no notification");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        c.unsplit_amount(&UnsplitAmountQuery::new(&tid))
            .await
            .unwrap()
            .unsplit_amount,
        Fen::new(10_000)
    );

    // Only added receivers can be paid.
    let share = |kind, account: &str, fen| {
        SharingReceiver::new(kind, account, Fen::new(fen), "share of the sale")
    };
    let early = c
        .multi_profit_sharing(&MultiProfitSharing::new(Split::new(
            &tid,
            "S1",
            &[share(ReceiverType::MerchantId, STORE, 1000)],
        )))
        .await
        .unwrap_err();
    assert_eq!(early.err_code().unwrap().as_str(), "PARAM_ERROR", "{early}");
    c.add_sharing_receiver(&AddReceiver::new(&NewReceiver::merchant(
        STORE,
        "示例商户全称",
        RelationType::Store,
    )))
    .await
    .unwrap();
    c.add_sharing_receiver(&AddReceiver::new(&NewReceiver::openid(
        STAFF,
        RelationType::Staff,
    )))
    .await
    .unwrap();

    // The ratio limit: at most 30 % of the payment.
    let greedy = c
        .multi_profit_sharing(&MultiProfitSharing::new(Split::new(
            &tid,
            "S0",
            &[share(ReceiverType::MerchantId, STORE, 3001)],
        )))
        .await
        .unwrap_err();
    assert_eq!(greedy.err_code().unwrap().as_str(), "PARAM_ERROR");

    // Split among the two.
    let split = MultiProfitSharing::new(Split::new(
        &tid,
        "S1",
        &[
            share(ReceiverType::MerchantId, STORE, 2000),
            share(ReceiverType::PersonalOpenid, STAFF, 500),
        ],
    ));
    let accepted = c
        .multi_profit_sharing(&split)
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(accepted.out_order_no, "S1");
    // The same number again is the same split.
    let again = c
        .multi_profit_sharing(&split)
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(again.order_id, accepted.order_id);
    let q = c
        .sharing_query(&SharingQuery::new(&tid, "S1"))
        .await
        .unwrap();
    assert_eq!(q.status, SharingStatus::Finished);
    assert_eq!(q.receivers.len(), 2);
    assert_eq!(q.receivers[0].amount, Fen::new(2000));
    assert_eq!(q.receivers[1].account, STAFF);
    assert_eq!(
        c.unsplit_amount(&UnsplitAmountQuery::new(&tid))
            .await
            .unwrap()
            .unsplit_amount,
        Fen::new(7500)
    );

    // The store returns part of its share; never more than it received.
    let r = c
        .sharing_return(&SharingReturn::new(
            "S1",
            "R1",
            STORE,
            Fen::new(300),
            "wrong price",
        ))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(r.result.as_deref(), Some("SUCCESS"));
    assert_eq!(r.return_amount, Some(Fen::new(300)));
    let too_much = c
        .sharing_return(&SharingReturn::new(
            "S1",
            "R2",
            STORE,
            Fen::new(1701),
            "all of it",
        ))
        .await
        .unwrap_err();
    // Reported as error_code / error_msg, this family's exception.
    assert_eq!(
        too_much.err_code().unwrap().as_str(),
        "PARAM_ERROR",
        "{too_much}"
    );
    let rq = c
        .sharing_return_query(&SharingReturnQuery::new("S1", "R1"))
        .await
        .unwrap();
    assert_eq!(rq.return_no, r.return_no);

    // Finish: the rest goes back to the merchant; nothing more can be split.
    c.finish_sharing(&FinishSharing::new(&tid, "F1", "done"))
        .await
        .unwrap()
        .done()
        .unwrap();
    let fq = c
        .sharing_query(&SharingQuery::new(&tid, "F1"))
        .await
        .unwrap();
    assert_eq!(fq.amount, Some(Fen::new(7500)));
    assert_eq!(
        c.unsplit_amount(&UnsplitAmountQuery::new(&tid))
            .await
            .unwrap()
            .unsplit_amount,
        Fen::ZERO
    );
    let late = c
        .profit_sharing(&ProfitSharing::new(Split::new(
            &tid,
            "S9",
            &[share(ReceiverType::MerchantId, STORE, 100)],
        )))
        .await
        .unwrap();
    // INVALID_REQUEST has several meanings (one is "before settlement"): open, not final.
    let open = late.open().unwrap();
    assert_eq!(open.cause().err_code().unwrap().as_str(), "INVALID_REQUEST");

    // The fund flow shows the payment, each share out and the return.
    let flow = c
        .download_fund_flow(&DownloadFundFlow::new(&today(), AccountType::Basic).unwrap())
        .await
        .unwrap()
        .bill()
        .unwrap();
    let names: Vec<&str> = flow
        .rows
        .iter()
        .map(|r| r.business_name.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(names, ["交易", "分账", "分账", "分账回退"], "{}", flow.text);
    assert_eq!(flow.rows[3].balance, Some(Fen::new(10_000 - 2500 + 300)));

    // A payment not placed for sharing cannot be split; receivers can be removed.
    c.unified_order(&UnifiedOrder::native(
        "A plain cup",
        OutTradeNo::new("PS20261201002").unwrap(),
        Fen::new(1000),
        "127.0.0.1",
        format!("http://{notify}/notify"),
        "CUP",
    ))
    .await
    .unwrap();
    let plain = sim.pay("PS20261201002", &PayOptions::new()).unwrap();
    let err = c
        .profit_sharing(&ProfitSharing::new(Split::new(
            plain.transaction_id.unwrap(),
            "S10",
            &[share(ReceiverType::MerchantId, STORE, 100)],
        )))
        .await
        .unwrap_err();
    assert_eq!(err.err_code().unwrap().as_str(), "NOT_SHARE_ORDER");
    c.remove_sharing_receiver(&RemoveReceiver::new(ReceiverType::PersonalOpenid, STAFF))
        .await
        .unwrap();
    sim.shutdown().await;
}

/// A split is accepted, but the receivers' shares can end CLOSED (with the reason) or stay
/// PENDING: the simulator's `Settles` fault chooses, and the query reports it typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_can_close_with_its_reason_or_stay_pending() {
    use tenpay_client::ShareResult;
    use tenpay_sim::{Fault, FaultKind};

    let key = ApiKey::new(KEY).unwrap();
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key.clone()))
        .tls(true)
        .start()
        .await
        .unwrap();
    let tls = sim.tls().unwrap();
    let c = Client::builder(tenpay_client::Merchant::new(
        APPID,
        MCH,
        key,
        SignType::HmacSha256,
    ))
    .base_url(sim.tls_base_url().unwrap())
    .add_root_certificate_pem(tls.ca_pem.clone())
    .identity(Identity::from_pkcs12(
        tls.identity(MCH).unwrap().pkcs12.clone(),
    ))
    .build()
    .unwrap();
    let order = UnifiedOrder::native(
        "A shared cup",
        OutTradeNo::new("PS20261203001").unwrap(),
        Fen::new(10_000),
        "127.0.0.1",
        "http://127.0.0.1:9/notify",
        "CUP",
    )
    .profit_sharing();
    c.unified_order(&order).await.unwrap();
    let tid = sim
        .pay("PS20261203001", &PayOptions::new())
        .unwrap()
        .transaction_id
        .unwrap();
    c.add_sharing_receiver(&AddReceiver::new(&NewReceiver::openid(
        STAFF,
        RelationType::Staff,
    )))
    .await
    .unwrap();
    let split = |no: &str| {
        MultiProfitSharing::new(Split::new(
            &tid,
            no,
            &[SharingReceiver::new(
                ReceiverType::PersonalOpenid,
                STAFF,
                Fen::new(100),
                "tip",
            )],
        ))
    };
    for (no, state, status, result) in [
        (
            "SC1",
            "CLOSED",
            SharingStatus::Finished,
            ShareResult::Closed,
        ),
        (
            "SP1",
            "PENDING",
            SharingStatus::Processing,
            ShareResult::Pending,
        ),
    ] {
        sim.inject(Fault::next(
            "multiprofitsharing",
            FaultKind::Settles {
                state: state.into(),
                reason: "ACCOUNT_FROZEN".into(),
            },
            1,
        ))
        .unwrap();
        assert!(
            c.multi_profit_sharing(&split(no))
                .await
                .unwrap()
                .done()
                .is_some()
        );
        let q = c.sharing_query(&SharingQuery::new(&tid, no)).await.unwrap();
        assert_eq!(q.status, status, "{no}");
        assert_eq!(q.receivers[0].result, Some(result), "{no}");
        assert_eq!(
            q.receivers[0].fail_reason.as_deref(),
            Some("ACCOUNT_FROZEN")
        );
    }
    sim.shutdown().await;
}
