//! The commands for the people who run payments, against the simulator (started in-process,
//! plain and TLS): profiles, doctor (the right key, a wrong one, an AppSecret-shaped one,
//! another merchant's certificate, an expired one), orders, refunds, payment codes, raw
//! calls, bills (download and parse, both layouts, gzip, a 1M-row bill on standard input) and
//! completions.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tenpay_sign::ApiKey;
use tenpay_sim::{MerchantAccount, PayOptions, SimHandle, Simulator};

const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const OTHER_MCH: &str = "10000200";
const OTHER_KEY: &str = "Zx9wVq3Lm5Np7Rt2Yb4Hc6Jd8Kf1Gs0A";

struct Env {
    _rt: tokio::runtime::Runtime,
    sim: SimHandle,
    dir: PathBuf,
}

impl Env {
    fn new(name: &str) -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sim = rt.block_on(async {
            Simulator::builder()
                .merchant(MerchantAccount::new(APPID, MCH, ApiKey::new(KEY).unwrap()))
                .merchant(MerchantAccount::new(
                    "wx0000000000000002",
                    OTHER_MCH,
                    ApiKey::new(OTHER_KEY).unwrap(),
                ))
                .time_scale(1000)
                .tls(true)
                .start()
                .await
                .unwrap()
        });
        let dir = std::env::temp_dir().join(format!("tenpay-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tls = sim.tls().unwrap();
        write(&dir.join("ca.pem"), tls.ca_pem.as_bytes(), 0o644);
        for id in &tls.identities {
            write(&dir.join(format!("{}.p12", id.mch_id)), &id.pkcs12, 0o600);
        }
        write(&dir.join("key"), KEY.as_bytes(), 0o600);
        Self { _rt: rt, sim, dir }
    }

    /// The command with a clean environment: HOME in the test folder (no user config),
    /// the merchant from TENPAY_* variables, over TLS with the merchant's certificate.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tenpay"));
        c.args(args)
            .env_clear()
            .env("HOME", &self.dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TENPAY_APPID", APPID)
            .env("TENPAY_MCH_ID", MCH)
            .env("TENPAY_API_KEY_FILE", self.dir.join("key"))
            .env("TENPAY_BASE_URL", self.sim.tls_base_url().unwrap())
            .env("TENPAY_CA_PEM", self.dir.join("ca.pem"))
            .env("TENPAY_CERT_P12", self.dir.join(format!("{MCH}.p12")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn place(&self, no: &str, fee: &str) {
        let o = self.run(&[
            "call",
            "/pay/unifiedorder",
            "body=tea",
            &format!("out_trade_no={no}"),
            &format!("total_fee={fee}"),
            "spbill_create_ip=127.0.0.1",
            "notify_url=http://127.0.0.1:9/n",
            "trade_type=NATIVE",
            "product_id=P1",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
}

fn write(path: &Path, data: &[u8], mode: u32) {
    std::fs::write(path, data).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", out(o), err(o)))
}

#[test]
fn profiles_from_a_file_overridden_by_the_environment() {
    let env = Env::new("profiles");
    let config = env.dir.join("config.toml");
    let shared_key = env.dir.join("shared.key");
    write(&shared_key, KEY.as_bytes(), 0o644);
    std::fs::write(
        &config,
        format!(
            "default = \"shop\"\n[profiles.shop]\nappid = \"{APPID}\"\nmch_id = \"{MCH}\"\nkey_file = \"{}\"\nsign_type = \"HMAC-SHA256\"\n[profiles.mini]\nappid = \"wx0000000000000009\"\nmch_id = \"{MCH}\"\nkey_file = \"{}\"\n",
            env.dir.join("key").display(),
            shared_key.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let list = env.run(&["profile", "list", "--config", cfg]);
    assert_eq!(list.status.code(), Some(0), "{}", err(&list));
    assert!(
        out(&list).contains("shop (default)") && out(&list).contains("mini\n"),
        "{}",
        out(&list)
    );
    // The profile alone (the environment's merchant removed).
    let show = env
        .cmd(&["profile", "show", "--config", cfg])
        .env_remove("TENPAY_APPID")
        .env_remove("TENPAY_MCH_ID")
        .env_remove("TENPAY_API_KEY_FILE")
        .output()
        .unwrap();
    let text = out(&show);
    assert!(
        text.contains("profile      shop") && text.contains("HMAC-SHA256"),
        "{text}"
    );
    assert!(
        text.contains("32 characters, from file") && !text.contains(KEY),
        "{text}"
    );
    // Another profile by name; its key file is readable by others: warned about.
    let mini = env
        .cmd(&["profile", "show", "--config", cfg, "--profile", "mini"])
        .env_remove("TENPAY_APPID")
        .env_remove("TENPAY_API_KEY_FILE")
        .output()
        .unwrap();
    assert!(out(&mini).contains("wx0000000000000009"), "{}", out(&mini));
    assert!(err(&mini).contains("readable by others"), "{}", err(&mini));
    // The environment overrides the file; a flag overrides the environment.
    let over = env.run(&["profile", "show", "--config", cfg, "--mch-id", "10009999"]);
    assert!(out(&over).contains(&format!("appid        {APPID}")));
    assert!(
        out(&over).contains("mch_id       10009999"),
        "{}",
        out(&over)
    );
    let missing = env.run(&["profile", "show", "--config", cfg, "--profile", "nope"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(err(&missing).contains("no profile \"nope\""));
}

#[test]
fn doctor_names_what_is_wrong() {
    let env = Env::new("doctor");
    let ok = env.run(&["doctor"]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", out(&ok), err(&ok));
    assert!(
        out(&ok).contains("ORDERNOTEXIST") && out(&ok).contains("CN=10000100"),
        "{}",
        out(&ok)
    );
    // Another merchant's key (mixed case, 32 characters).
    let other = env.dir.join("other.key");
    write(&other, OTHER_KEY.as_bytes(), 0o600);
    let o = env
        .cmd(&["doctor"])
        .env("TENPAY_API_KEY_FILE", &other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("FAIL  key") && out(&o).contains("another merchant's key"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("AppSecret"), "{}", out(&o));
    // An AppSecret-shaped key (32 lowercase hex digits), and a key of the wrong length.
    let secret = env.dir.join("secret.key");
    write(&secret, b"0123456789abcdef0123456789abcdef", 0o600);
    let o = env
        .cmd(&["doctor"])
        .env("TENPAY_API_KEY_FILE", &secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("looks like an AppSecret"), "{}", out(&o));
    let short = env.dir.join("short.key");
    write(&short, b"too-short", 0o600);
    let o = env
        .cmd(&["doctor", "--json"])
        .env("TENPAY_API_KEY_FILE", &short)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    let key = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "key")
        .unwrap();
    assert!(
        key["detail"].as_str().unwrap().contains("9 characters"),
        "{key}"
    );
    // Another merchant's certificate.
    let o = env
        .cmd(&["doctor"])
        .env("TENPAY_CERT_P12", env.dir.join(format!("{OTHER_MCH}.p12")))
        .env("TENPAY_CERT_P12_PASSWORD", OTHER_MCH)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("another merchant's certificate"),
        "{}",
        out(&o)
    );
    // An expired one (PEM).
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, MCH);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    write(&env.dir.join("old.cert.pem"), cert.pem().as_bytes(), 0o644);
    write(
        &env.dir.join("old.key.pem"),
        key.serialize_pem().as_bytes(),
        0o600,
    );
    let o = env
        .cmd(&["doctor"])
        .env_remove("TENPAY_CERT_P12")
        .env("TENPAY_CERT_PEM", env.dir.join("old.cert.pem"))
        .env("TENPAY_KEY_PEM", env.dir.join("old.key.pem"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("expired on"), "{}", out(&o));
}

#[test]
fn orders_refunds_payment_codes_and_raw_calls() {
    let env = Env::new("ops");
    env.place("OPS-1", "888");
    let q = env.run(&["order", "query", "--out-trade-no", "OPS-1", "--json"]);
    assert_eq!(q.status.code(), Some(0), "{}", err(&q));
    assert_eq!(json(&q)["trade_state"], "NOTPAY");
    env.sim.pay("OPS-1", &PayOptions::new()).unwrap();
    let q = env.run(&["order", "query", "--out-trade-no", "OPS-1"]);
    assert!(
        out(&q).contains("trade_state") && out(&q).contains("SUCCESS"),
        "{}",
        out(&q)
    );
    // A refund over the TLS listener with the merchant's PKCS#12, traced.
    let r = env.run(&[
        "refund",
        "create",
        "--out-trade-no",
        "OPS-1",
        "--out-refund-no",
        "OPS-1-R1",
        "--total-fee",
        "888",
        "--refund-fee",
        "300",
        "--trace",
        "--json",
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", err(&r));
    assert_eq!(json(&r)["refund_fee"], "300");
    assert!(
        err(&r).contains("> POST /secapi/pay/refund") && err(&r).contains("< <xml>"),
        "{}",
        err(&r)
    );
    assert!(!err(&r).contains(KEY));
    let rq = env.run(&["refund", "query", "--out-refund-no", "OPS-1-R1", "--json"]);
    assert_eq!(json(&rq)["out_refund_no_0"], "OPS-1-R1");
    // Without the certificate: a clear error naming the settings.
    let no_cert = env
        .cmd(&[
            "refund",
            "create",
            "--out-trade-no",
            "OPS-1",
            "--out-refund-no",
            "OPS-1-R2",
            "--total-fee",
            "888",
            "--refund-fee",
            "1",
        ])
        .env_remove("TENPAY_CERT_P12")
        .output()
        .unwrap();
    assert_eq!(no_cert.status.code(), Some(3));
    assert!(err(&no_cert).contains("--cert-p12"), "{}", err(&no_cert));
    // A business refusal exits 1 with WeChat Pay's code.
    let closed = env.run(&["order", "close", "--out-trade-no", "OPS-1"]);
    assert_eq!(closed.status.code(), Some(1));
    assert!(err(&closed).contains("ORDERPAID"), "{}", err(&closed));
    // Payment codes: paid at once (…00), and reversed when the payer never confirms (…85).
    let paid = env.run(&[
        "micropay",
        "--auth-code",
        "134567890123456700",
        "--out-trade-no",
        "OPS-MP1",
        "--total-fee",
        "100",
        "--body",
        "tea",
        "--json",
    ]);
    assert_eq!(paid.status.code(), Some(0), "{}", err(&paid));
    assert_eq!(json(&paid)["outcome"], "paid");
    let reversed = env.run(&[
        "micropay",
        "--auth-code",
        "134567890123456785",
        "--out-trade-no",
        "OPS-MP2",
        "--total-fee",
        "100",
        "--body",
        "tea",
        "--wait",
        "1",
    ]);
    assert_eq!(
        reversed.status.code(),
        Some(1),
        "{}{}",
        out(&reversed),
        err(&reversed)
    );
    assert!(out(&reversed).contains("reversed"), "{}", out(&reversed));
    assert_eq!(env.sim.order("OPS-MP2").unwrap().trade_state, "REVOKED");
    // A raw call to any V2 path.
    let c = env.run(&["call", "/pay/closeorder", "out_trade_no=OPS-NONE", "--json"]);
    assert_eq!(c.status.code(), Some(1));
    assert!(err(&c).contains("ORDERNOTEXIST"), "{}", err(&c));
    let bad = env.run(&["call", "/pay/orderquery", "out_trade_no"]);
    assert_eq!(bad.status.code(), Some(3));
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

#[test]
fn bills_download_and_parse() {
    let env = Env::new("bills");
    env.place("BILL-1", "888");
    env.sim.pay("BILL-1", &PayOptions::new()).unwrap();
    let date = today();
    let file = env.dir.join("bill.csv");
    let d = env.run(&[
        "bill",
        "download",
        "--date",
        &date,
        "--gzip",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(d.status.code(), Some(0), "{}", err(&d));
    // As WeChat Pay sent it: gzip, whose text is the modern bill with its BOM.
    let raw = std::fs::read(&file).unwrap();
    assert!(raw.starts_with(&[0x1f, 0x8b]));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut text)
        .unwrap();
    assert!(
        text.starts_with('\u{feff}') && text.contains("`BILL-1"),
        "{text}"
    );
    let p = env.run(&["bill", "parse", file.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = out(&p)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", out(&p));
    assert_eq!(lines[0]["out_trade_no"], "BILL-1");
    assert_eq!(lines[0]["settlement_total_fee"], 888);
    assert_eq!(lines[0]["service_charge"], 5328);
    assert_eq!(lines[1]["summary"]["total_count"], 1);
    // --json streams the rows directly; no bill is exit 1.
    let j = env.run(&["bill", "download", "--date", &date, "--json"]);
    assert_eq!(out(&j), out(&p));
    let none = env.run(&["bill", "download", "--date", "20200101"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(err(&none).contains("No Bill Exist"), "{}", err(&none));
    // The fund flow of the Basic account: the payment came in.
    let flow = env.dir.join("basic.csv");
    let f = env.run(&[
        "fundflow",
        "download",
        "--date",
        &date,
        "-o",
        flow.to_str().unwrap(),
    ]);
    assert_eq!(f.status.code(), Some(0), "{}", err(&f));
    let p = env.run(&["fundflow", "parse", flow.to_str().unwrap()]);
    assert_eq!(p.status.code(), Some(0), "{}", err(&p));
    let rows: Vec<serde_json::Value> = out(&p)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["amount"], 888, "{}", out(&p));
    assert_eq!(rows[0]["direction"], "收入");
    assert_eq!(rows.last().unwrap()["summary"]["income_count"], 1);
    let j = env.run(&["fundflow", "download", "--date", &date, "--json"]);
    assert_eq!(out(&j), out(&p));
    // The old 24-column layout, without BOM, gzip, from standard input.
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/protocol/downloadbill_all.csv"
    ))
    .unwrap();
    let old = &raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(old).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = env
        .cmd(&["bill", "parse", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let rows: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() > 2);
    assert_eq!(rows[0]["sub_mch_id"], "0");
    assert!(
        rows[0].get("rate_remark").is_none(),
        "the old layout has no 费率备注"
    );
    assert_eq!(rows[0]["settlement_total_fee"], 1);
    assert!(rows.last().unwrap()["summary"].is_object());
}

#[test]
fn a_million_row_bill_streams_through_standard_input() {
    let env = Env::new("million");
    let mut child = env
        .cmd(&["bill", "parse", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::new(&mut stdin);
        w.write_all("\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n".as_bytes()).unwrap();
        for i in 0..1_000_000u32 {
            write!(w, "`2026-11-30 10:00:00,`{APPID},`{MCH},`0,`,`4200{i:024},`M{i:010},`o,`NATIVE,`SUCCESS,`CFT,`CNY,`8.88,`0.00,`0,`0,`0.00,`0.00,`,`,`tea, with a comma,`,`0.05328,`0.60%,`8.88,`0.00,`\r\n").unwrap();
        }
        w.write_all("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`1000000,`8880000.00,`0.00,`0.00,`53280.00000,`8880000.00,`0.00\r\n".as_bytes()).unwrap();
    });
    // Read the JSON Lines as they come (counting, keeping the last), as a consumer would.
    let (mut lines, mut last) = (0u64, String::new());
    for line in std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap())) {
        last = line.unwrap();
        lines += 1;
    }
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(lines, 1_000_001);
    assert!(last.contains(r#""total_count":1000000"#), "{last}");
}

#[test]
fn completions_and_json_names_for_the_signer() {
    let env = Env::new("misc");
    let o = env.run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("tenpay") && out(&o).contains("doctor"));
    // A JSON name that is no XML element name is still signed (JSON goes to the signer).
    let mut child = env
        .cmd(&["sign", "--key-file", env.dir.join("key").to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"1field":"x","appid":"wx1"}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).trim().len(), 32);
}

/// A server that answers every request with `body` (a fresh copy each time) as a stream of
/// `chunks` chunks: a gzip bomb, or gigabytes of bill text.
fn hostile_server(chunk: Vec<u8>, chunks: usize) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let chunk = chunk.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = std::io::Read::read(&mut s, &mut buf);
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..chunks {
                    let framed =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                    if s.write_all(&framed).is_err() {
                        return; // the client hung up: what it should do
                    }
                }
                let _ = s.write_all(b"0\r\n\r\n");
            });
        }
    });
    addr
}

#[test]
fn bill_download_from_a_hostile_server_fails_cleanly() {
    let env = Env::new("hostile");
    // 64 MiB of bill text, endlessly: over the cap of 1 MiB, stopped there.
    let line = "`2026-11-30 10:00:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200,`M1,`o,`NATIVE,`SUCCESS,`CFT,`CNY,`8.88\r\n";
    let text = line.repeat(64 * 1024 / line.len() + 1).into_bytes();
    let huge = hostile_server(text, 1024);
    let file = env.dir.join("huge.csv");
    let o = env
        .cmd(&[
            "bill",
            "download",
            "--date",
            "20261130",
            "--max-bytes",
            "1048576",
            "-o",
            file.to_str().unwrap(),
        ])
        .env("TENPAY_BASE_URL", format!("http://{huge}"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("1048576"), "{}", err(&o));
    assert!(!file.exists(), "a half-written bill is removed");
    // A gzip bomb: 64 MiB of zeros in about 64 kB. Downloaded as sent, it stays 64 kB on
    // disk; parsing it (or --json) fails at the first over-long line, in bounded memory.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'0'; 64 << 20]).unwrap();
    let bomb = hostile_server(gz.finish().unwrap(), 1);
    let at = format!("http://{bomb}");
    let o = env
        .cmd(&[
            "bill",
            "download",
            "--date",
            "20261130",
            "--gzip",
            "-o",
            file.to_str().unwrap(),
        ])
        .env("TENPAY_BASE_URL", &at)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(std::fs::metadata(&file).unwrap().len() < 1 << 20);
    let o = env.run(&["bill", "parse", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("64 KiB"), "{}", err(&o));
    let o = env
        .cmd(&["bill", "download", "--date", "20261130", "--gzip", "--json"])
        .env("TENPAY_BASE_URL", &at)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    // Short lines that inflate without end (review t3 #10: 1.6 MB of gzip took 41 s of CPU
    // before it said "no summary"): cut at --max-bytes, with that reason.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all("交易时间,商户订单号\n".as_bytes()).unwrap();
    let row = b"`2026-11-30 10:00:00,`M1\n";
    for _ in 0..(8 << 20) / row.len() {
        gz.write_all(row).unwrap();
    }
    let lines = env.dir.join("lines.csv.gz");
    std::fs::write(&lines, gz.finish().unwrap()).unwrap();
    let o = env.run(&[
        "bill",
        "parse",
        "--max-bytes",
        "1000000",
        lines.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("larger than 1000000 bytes"), "{}", err(&o));
    // The default is large enough for it (8 MiB), and parses it whole.
    let o = env.run(&["bill", "parse", lines.to_str().unwrap()]);
    assert!(!err(&o).contains("larger than"), "{}", err(&o));
}
