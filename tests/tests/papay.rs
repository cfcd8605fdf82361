//! A subscription end to end (papay): the user signs through the URL the client made, the
//! contract notification reaches tenpay-notify's service, three monthly deductions (one
//! failing for lack of funds) arrive as payment notifications through the same service,
//! and the merchant terminates the contract.
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tenpay_client::{
    Client, ContractSigning, ContractState, DeleteContract, OutTradeNo, PapOrderQuery, PapPayApply,
    PapTradeState, QueryContract,
};
use tenpay_notify::{ContractChange, Notification, Notifier, NotifyService, verified};
use tenpay_sign::{ApiKey, SignType};
use tenpay_sim::{MerchantAccount, PayOptions, Simulator};
use tenpay_xml::Fen;

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const USER: &str = "oSubscriber000000000000000001";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Contract(ContractChange, String),
    Paid(String),
    Failed(String),
}

async fn merchant(key: ApiKey, seen: Arc<Mutex<Vec<Seen>>>) -> SocketAddr {
    let service = NotifyService::new(
        Notifier::new(&tenpay_sign::Merchant::new(APPID, MCH, key, SignType::Md5)),
        verified(move |n: Notification| {
            let seen = Arc::clone(&seen);
            async move {
                let s = match n {
                    Notification::Contract(c) => {
                        Seen::Contract(c.change().clone(), c.contract_code().to_owned())
                    }
                    Notification::Pay(p) if p.is_success() => {
                        Seen::Paid(p.out_trade_no().to_string())
                    }
                    Notification::Pay(p) => Seen::Failed(p.out_trade_no().to_string()),
                    _ => return Err("unexpected".to_owned()),
                };
                seen.lock().unwrap().push(s);
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

async fn until(seen: &Arc<Mutex<Vec<Seen>>>, want: &Seen) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().contains(want) {
        assert!(
            Instant::now() < deadline,
            "never saw {want:?}: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The simulator, what the notify service has seen, a client, and the notify URL.
async fn setup() -> (tenpay_sim::SimHandle, Arc<Mutex<Vec<Seen>>>, Client, String) {
    let key = ApiKey::new(KEY).unwrap();
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key.clone()))
        .time_scale(1000)
        .start()
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let notify = merchant(key.clone(), Arc::clone(&seen)).await;
    let c = Client::builder(tenpay_client::Merchant::new(APPID, MCH, key, SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let url = format!("http://{notify}/notify");
    (sim, seen, c, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_three_monthly_deductions_one_failing_then_terminate() {
    let (sim, seen, c, url) = setup().await;

    // Sign: the user opens the page the client made, and agrees.
    let signing = ContractSigning::new("12535", "SUB20261201", 1_001, "Gold plan", &url);
    let page = c.entrust_web_url(&signing).unwrap();
    assert!(page.contains("/papay/entrustweb?"));
    // A page with a changed field does not verify.
    assert!(sim.open_signing_url(&page.replace("Gold", "Free")).is_err());
    sim.open_signing_url(&page).unwrap();
    let contract = sim.sign_contract(MCH, "SUB20261201", USER).unwrap();
    until(
        &seen,
        &Seen::Contract(ContractChange::Add, "SUB20261201".into()),
    )
    .await;
    let q = c
        .query_contract(&QueryContract::by_code("12535", "SUB20261201"))
        .await
        .unwrap();
    assert_eq!(q.contract_id, contract.contract_id);
    assert_eq!(q.contract_state, ContractState::Valid);
    assert_eq!(q.openid.as_deref(), Some(USER));

    // Three monthly deductions: accepted, then decided; the second fails for lack of funds.
    for month in 1..=3 {
        let no = format!("SUB2026M{month}");
        let apply = PapPayApply::new(
            "Gold plan, monthly",
            OutTradeNo::new(no.clone()).unwrap(),
            Fen::new(1_500),
            "127.0.0.1",
            &url,
            &q.contract_id,
        );
        c.pap_pay_apply(&apply).await.unwrap().done().unwrap();
        // A repeat is the same deduction.
        c.pap_pay_apply(&apply).await.unwrap().done().unwrap();
        let pending = c
            .pap_order_query(&PapOrderQuery::new(OutTradeNo::new(no.clone()).unwrap()))
            .await
            .unwrap();
        assert_eq!(pending.trade_state, PapTradeState::Accept);
        if month == 2 {
            sim.fail(&no, "NOTENOUGH").unwrap();
            until(&seen, &Seen::Failed(no.clone())).await;
        } else {
            sim.pay(&no, &PayOptions::new()).unwrap();
            until(&seen, &Seen::Paid(no.clone())).await;
        }
        let done = c
            .pap_order_query(&PapOrderQuery::new(OutTradeNo::new(no.clone()).unwrap()))
            .await
            .unwrap();
        let expected = if month == 2 {
            PapTradeState::PayFail
        } else {
            PapTradeState::Success
        };
        assert_eq!(done.trade_state, expected, "month {month}");
        assert_eq!(done.contract_id.as_deref(), Some(q.contract_id.as_str()));
    }

    // Terminate: the contract notification says so, and no deduction is taken after.
    let deleted = c
        .delete_contract(&DeleteContract::by_id(&q.contract_id, "the user cancelled"))
        .await
        .unwrap();
    assert_eq!(deleted.contract_id, q.contract_id);
    until(
        &seen,
        &Seen::Contract(ContractChange::Delete, "SUB20261201".into()),
    )
    .await;
    let after = c
        .query_contract(&QueryContract::by_id(&q.contract_id))
        .await
        .unwrap();
    assert_eq!(after.contract_state, ContractState::Terminated);
    let refused = c
        .pap_pay_apply(&PapPayApply::new(
            "Gold plan, monthly",
            OutTradeNo::new("SUB2026M4").unwrap(),
            Fen::new(1_500),
            "127.0.0.1",
            &url,
            &q.contract_id,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.err_code().unwrap().as_str(), "CONTRACT_NOT_EXIST");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().filter(|s| matches!(s, Seen::Paid(_))).count(),
        2,
        "{seen:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_signing_channels_pay_and_sign_pre_sign_h5_and_mini_program() {
    let (sim, seen, c, url) = setup().await;

    // Pay and sign: the payment of the order signs the contract.
    let order = tenpay_client::UnifiedOrder::native(
        "First month",
        OutTradeNo::new("PAYSIGN1").unwrap(),
        Fen::new(1_500),
        "127.0.0.1",
        &url,
        "GOLD",
    );
    let signing = ContractSigning::new("12535", "PAYSIGNC1", 2_001, "Gold plan", &url);
    let answer = c
        .contract_order(&tenpay_client::ContractOrder::new(order, signing))
        .await
        .unwrap();
    assert_eq!(answer.contract_result_code.as_deref(), Some("SUCCESS"));
    assert!(answer.code_url.is_some());
    sim.pay("PAYSIGN1", &PayOptions::new().openid(USER))
        .unwrap();
    until(&seen, &Seen::Paid("PAYSIGN1".into())).await;
    until(
        &seen,
        &Seen::Contract(ContractChange::Add, "PAYSIGNC1".into()),
    )
    .await;
    let q = c
        .query_contract(&QueryContract::by_code("12535", "PAYSIGNC1"))
        .await
        .unwrap();
    assert_eq!(q.openid.as_deref(), Some(USER));

    // APP: the pre-sign call (no nonce), then the user signs in the app.
    let app = ContractSigning::new("12535", "APPC1", 2_002, "Gold plan", &url);
    let pre = c.pre_entrust(&app).await.unwrap();
    assert!(!pre.pre_entrustweb_id.is_empty());
    sim.sign_contract(MCH, "APPC1", USER).unwrap();
    until(&seen, &Seen::Contract(ContractChange::Add, "APPC1".into())).await;

    // H5: an HMAC-SHA256 URL the simulator verifies with the merchant's key.
    let h5 = ContractSigning::new("12535", "H5C1", 2_003, "Gold plan", &url);
    let page = c.h5_entrust_url(&h5, "203.0.113.7").unwrap();
    assert!(page.contains("/papay/h5entrustweb?") && page.contains("clientip=203.0.113.7"));
    sim.open_signing_url(&page).unwrap();
    sim.sign_contract(MCH, "H5C1", USER).unwrap();
    until(&seen, &Seen::Contract(ContractChange::Add, "H5C1".into())).await;

    // Mini-program: the extraData is MD5-signed over the raw values, without version.
    let extra = c
        .miniprogram_entrust_data(&ContractSigning::new(
            "12535",
            "MPC1",
            2_004,
            "Gold plan",
            &url,
        ))
        .unwrap();
    assert!(extra.get("version").is_none());
    assert!(
        extra
            .verify(&ApiKey::new(KEY).unwrap(), SignType::Md5)
            .is_ok()
    );
    assert_eq!(sim.contracts().len(), 3);
    sim.shutdown().await;
}

/// The signing pages are served as a browser opens them: a GET of the URL the client made
/// (its host swapped for the simulator's, as a peer SDK's fixed-host URL would be) verifies
/// and waits for the user; a changed URL gets WeChat Pay's error page and nothing waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_pages_open_over_http_as_a_browser_opens_them() {
    let (sim, seen, c, url) = setup().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let page = c
        .entrust_web_url(&ContractSigning::new(
            "12535",
            "WEB1",
            3_001,
            "Gold plan",
            &url,
        ))
        .unwrap();
    let query = page.split_once('?').unwrap().1;
    let at_sim = format!("{}/papay/entrustweb?{query}", sim.base_url());
    let forged = http
        .get(at_sim.replace("Gold", "Free"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(
        sim.sign_contract(MCH, "WEB1", USER).is_err(),
        "nothing waits"
    );
    let opened = http.get(&at_sim).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    assert!(opened.text().await.unwrap().contains("WEB1"));
    sim.sign_contract(MCH, "WEB1", USER).unwrap();
    until(&seen, &Seen::Contract(ContractChange::Add, "WEB1".into())).await;
    // The H5 page: HMAC-SHA256, requested by the merchant's server, which sends the user to
    // the answer's redirect_url; the browser follows it to the page that waits.
    let web2 = ContractSigning::new("12535", "WEB2", 3_002, "Gold plan", &url);
    let h5 = c.h5_entrust_url(&web2, "203.0.113.7").unwrap();
    let h5_at_sim = format!(
        "{}/papay/h5entrustweb?{}",
        sim.base_url(),
        h5.split_once('?').unwrap().1
    );
    let text = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let answer = text(h5_at_sim.clone()).await;
    assert!(answer.contains("<redirect_url>"), "{answer}");
    let entrust = c.h5_entrust(&web2, "203.0.113.7").await.unwrap();
    assert!(
        entrust.redirect_url.starts_with(&sim.base_url()),
        "{}",
        entrust.redirect_url
    );
    let page = http.get(&entrust.redirect_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("WEB2"));
    sim.sign_contract(MCH, "WEB2", USER).unwrap();
    until(&seen, &Seen::Contract(ContractChange::Add, "WEB2".into())).await;
    // Signed: the page no longer waits.
    let gone = http.get(&entrust.redirect_url).send().await.unwrap();
    assert_eq!(gone.status(), 400);
    // A changed H5 URL is refused in the answer, and nothing waits.
    let forged = text(h5_at_sim.replace("Gold", "Free")).await;
    assert!(
        forged.contains("<return_code>FAIL</return_code>"),
        "{forged}"
    );
    // Through the client: a merchant signing with another key is refused, typed.
    let other_key = Client::builder(tenpay_client::Merchant::new(
        APPID,
        MCH,
        ApiKey::new("00000000000000000000000000000000").unwrap(),
        SignType::Md5,
    ))
    .base_url(sim.base_url())
    .build()
    .unwrap();
    let refused = other_key
        .h5_entrust(
            &ContractSigning::new("12535", "WEB3", 3_003, "Gold plan", &url),
            "203.0.113.7",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, tenpay_client::Error::Protocol { .. }),
        "{refused:?}"
    );
    assert!(
        sim.sign_contract(MCH, "WEB3", USER).is_err(),
        "nothing waits"
    );
    sim.shutdown().await;
}
