//! `merchant-server reconcile YYYYMMDD`: one day against WeChat Pay's bill (here the
//! simulator's), the report as JSON, exit 1 when something needs a person; no listener.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

use tenpay_client::{Client, Fen, OutTradeNo, UnifiedOrder};
use tenpay_merchant_server::simulator::{DEMO_APPID, DEMO_KEY, DEMO_MCH_ID};
use tenpay_sign::{ApiKey, SignType};

fn run(args: &[&str], vars: &[(&str, String)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_merchant-server"))
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reconcile_one_day_from_the_command_line() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(tenpay_merchant_server::simulator::start_simulator(1000))
        .unwrap();
    // A payment WeChat Pay knows and these (empty) books don't.
    rt.block_on(async {
        let client = Client::builder(tenpay_client::Merchant::new(
            DEMO_APPID,
            DEMO_MCH_ID,
            ApiKey::new(DEMO_KEY).unwrap(),
            SignType::HmacSha256,
        ))
        .base_url(sim.base_url())
        .build()
        .unwrap();
        client
            .unified_order(&UnifiedOrder::native(
                "tea",
                OutTradeNo::new("CMD-1").unwrap(),
                Fen::new(321),
                "127.0.0.1",
                "http://127.0.0.1:9/n",
                "P1",
            ))
            .await
            .unwrap();
    });
    sim.pay("CMD-1", &tenpay_sim::PayOptions::new()).unwrap();
    let db = std::env::temp_dir().join(format!("tenpay-reconcile-cmd-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let vars = vec![
        ("TENPAY_APPID", DEMO_APPID.to_owned()),
        ("TENPAY_MCH_ID", DEMO_MCH_ID.to_owned()),
        ("TENPAY_API_KEY", DEMO_KEY.to_owned()),
        ("TENPAY_SIGN_TYPE", "HMAC-SHA256".to_owned()),
        ("TENPAY_BASE_URL", sim.base_url()),
        (
            "TENPAY_ADMIN_TOKEN",
            "admin-token-0123456789abcdef0123456789".to_owned(),
        ),
        (
            "APP_SESSION_SECRET",
            "session-secret-0123456789abcdef01234".to_owned(),
        ),
        ("DATABASE_URL", format!("sqlite://{}", db.display())),
        ("LOG", "warn".to_owned()),
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let today = tenpay_xml::BeijingTime::from_unix(i64::try_from(now).unwrap())
        .unwrap()
        .to_string()[..8]
        .to_owned();
    let (code, stdout, stderr) = run(&["reconcile", &today], &vars);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["rows"], 1);
    assert_eq!(report["unknown_payments"][0]["order_no"], "CMD-1");
    assert_eq!(report["unknown_payments"][0]["bill_fen"], 321);
    // A day without a bill: nothing needs a person.
    let (code, stdout, _) = run(&["reconcile", "20200101"], &vars);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("\"no_bill\": \"No Bill Exist\""),
        "{stdout}"
    );
    let (code, _, stderr) = run(&["reconcile", "yesterday"], &vars);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a YYYYMMDD date"), "{stderr}");
    drop(sim);
}
