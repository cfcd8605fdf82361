//! The built `tenpay` binary on the official example, the shared fixtures, hostile XML, and the
//! simulator started by `tenpay sim` on port 0.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Output, Stdio};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const DOC: &str = r#"{"appid":"wxd930ea5d5a258f4f","mch_id":"10000100","device_info":"1000","body":"test","nonce_str":"ibuaiVcKdpRxkhJA"}"#;

fn tenpay(args: &[&str], stdin: &[u8], key: Option<&str>) -> Output {
    let env: Vec<(&str, &std::ffi::OsStr)> = key
        .map(|k| ("TENPAY_KEY", std::ffi::OsStr::new(k)))
        .into_iter()
        .collect();
    tenpay_with(args, stdin, &env)
}

/// `tenpay` with no key variable from the caller's environment, and `env` set.
fn tenpay_with(args: &[&str], stdin: &[u8], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenpay"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("TENPAY_KEY")
        .env_remove("TENPAY_API_KEY")
        .env_remove("TENPAY_API_KEY_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!(
        "{}/../../testdata/protocol/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    raw[raw.iter().position(|&b| b == b'\n').unwrap() + 1..].to_vec()
}

#[test]
fn sign_the_official_example_both_algorithms() {
    let o = tenpay(&["sign", "--explain"], DOC.as_bytes(), Some(KEY));
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("9A0A8659F005D6984697E2CA0A9CF3B7\n"));
    assert!(out.contains("canonical: appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=<redacted>"));
    assert!(!out.contains(KEY));
    let o = tenpay(
        &["sign", "--sign-type", "HMAC-SHA256"],
        DOC.as_bytes(),
        Some(KEY),
    );
    assert_eq!(
        stdout(&o).trim(),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
    // XML input too.
    let xml = b"<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id><device_info>1000</device_info><body>test</body><nonce_str>ibuaiVcKdpRxkhJA</nonce_str></xml>";
    assert_eq!(
        stdout(&tenpay(&["sign"], xml, Some(KEY))).trim(),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
}

#[test]
fn key_sources() {
    let dir = std::env::temp_dir().join(format!("tenpay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let o = tenpay(
        &["sign", "--key-file", key_file.to_str().unwrap()],
        DOC.as_bytes(),
        None,
    );
    assert_eq!(stdout(&o).trim(), "9A0A8659F005D6984697E2CA0A9CF3B7");
    // A key file others may read: signed, with a warning naming it (review t3 #8), for every
    // command that takes --key-file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o666)).unwrap();
        for args in [&["sign"][..], &["verify"][..]] {
            let mut args = args.to_vec();
            args.extend(["--key-file", key_file.to_str().unwrap()]);
            let o = tenpay(&args, DOC.as_bytes(), None);
            assert!(
                stderr(&o).contains("is readable by others (mode 666); chmod 600 it"),
                "{args:?}: {}",
                stderr(&o)
            );
        }
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let o = tenpay(
            &["sign", "--key-file", key_file.to_str().unwrap()],
            DOC.as_bytes(),
            None,
        );
        assert!(!stderr(&o).contains("readable by others"), "{}", stderr(&o));
    }
    let o = tenpay(&["sign", "--key", KEY], DOC.as_bytes(), None);
    assert_eq!(stdout(&o).trim(), "9A0A8659F005D6984697E2CA0A9CF3B7");
    assert!(stderr(&o).contains("shell history"));
    assert!(!stderr(&o).contains(KEY));
    let o = tenpay(&["sign"], DOC.as_bytes(), None);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).starts_with("tenpay: error: no API key"));
    let o = tenpay(
        &["sign", "--key-file", "/nonexistent/key"],
        DOC.as_bytes(),
        None,
    );
    assert_eq!(o.status.code(), Some(4));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_fixtures_and_explain() {
    for name in [
        "unifiedorder_request_app.xml",
        "unifiedorder_response_app.xml",
        "orderquery_response_success.xml",
        "refund_response.xml",
    ] {
        let o = tenpay(&["verify"], &fixture(name), Some(KEY));
        assert_eq!(
            (o.status.code(), stdout(&o).trim()),
            (Some(0), "valid"),
            "{name}"
        );
    }
    let bench = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/bench/pay_notify.xml"
    ))
    .unwrap();
    assert_eq!(
        stdout(&tenpay(&["verify"], &bench, Some(KEY))).trim(),
        "valid"
    );
    // Wrong key: invalid, with the canonical string and the likely causes.
    let o = tenpay(
        &["verify", "--explain"],
        &fixture("orderquery_response_success.xml"),
        Some("another-key"),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("invalid: "));
    assert!(out.contains("canonical: appid=wx2421b1c4370ec43b&"));
    assert!(out.contains("the key is 11 characters"));
    // Other algorithm.
    let hmac_signed = {
        let sig = stdout(&tenpay(
            &["sign", "--sign-type", "HMAC-SHA256"],
            DOC.as_bytes(),
            Some(KEY),
        ));
        DOC.replace('}', &format!(r#","sign":"{}"}}"#, sig.trim()))
    };
    let o = tenpay(
        &["verify", "--explain", "--sign-type", "MD5"],
        hmac_signed.as_bytes(),
        Some(KEY),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("64-character signature"),
        "{}",
        stdout(&o)
    );
    // Lower-case, spaces, URL-encoding.
    let lower = DOC.replace('}', r#","sign":"9a0a8659f005d6984697e2ca0a9cf3b7"}"#);
    assert!(
        stdout(&tenpay(
            &["verify", "--explain"],
            lower.as_bytes(),
            Some(KEY)
        ))
        .contains("upper-case form matches")
    );
    let spaced = DOC
        .replace(r#""body":"test""#, r#""body":" test""#)
        .replace('}', r#","sign":"9A0A8659F005D6984697E2CA0A9CF3B7"}"#);
    assert!(
        stdout(&tenpay(
            &["verify", "--explain"],
            spaced.as_bytes(),
            Some(KEY)
        ))
        .contains("spaces in: body")
    );
    let encoded = DOC
        .replace(r#""body":"test""#, r#""body":"%E6%B5%8B""#)
        .replace('}', r#","sign":"9A0A8659F005D6984697E2CA0A9CF3B7"}"#);
    assert!(
        stdout(&tenpay(
            &["verify", "--explain"],
            encoded.as_bytes(),
            Some(KEY)
        ))
        .contains("URL-encoded values in: body")
    );
}

#[test]
fn sign_type_field_rules() {
    let sig = |st: &str, doc: &str| {
        stdout(&tenpay(
            &["sign", "--sign-type", st],
            doc.as_bytes(),
            Some(KEY),
        ))
        .trim()
        .to_owned()
    };
    let with_field = DOC.replace('}', r#","sign_type":"HMAC-SHA256"}"#);
    let signed = with_field.replace(
        '}',
        &format!(r#","sign":"{}"}}"#, sig("HMAC-SHA256", &with_field)),
    );
    // Taken from the field when no flag is given.
    assert_eq!(
        stdout(&tenpay(&["verify"], signed.as_bytes(), Some(KEY))).trim(),
        "valid"
    );
    // Disagreeing with the flag: invalid.
    let o = tenpay(
        &["verify", "--sign-type", "MD5"],
        signed.as_bytes(),
        Some(KEY),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("--sign-type is MD5"));
    // Not exactly MD5 or HMAC-SHA256: invalid.
    let odd = DOC.replace(
        '}',
        r#","sign_type":"md5","sign":"9A0A8659F005D6984697E2CA0A9CF3B7"}"#,
    );
    let o = tenpay(&["verify"], odd.as_bytes(), Some(KEY));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not exactly MD5 or HMAC-SHA256"));
    // No sign.
    assert!(stdout(&tenpay(&["verify"], DOC.as_bytes(), Some(KEY))).contains("no sign field"));
}

#[test]
fn bad_input_is_one_line_and_a_documented_code() {
    let hostile: &[&[u8]] = &[
        br#"<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>"#,
        b"<xml><a>1</a><a>2</a></xml>",
        b"not a message",
        b"{\"a\": [1,2]}",
        b"\xff\xfe<xml/>",
        b"",
    ];
    for input in hostile {
        let o = tenpay(&["verify"], input, Some(KEY));
        assert_eq!(
            o.status.code(),
            Some(3),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("tenpay: error: "));
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"));
    }
    let o = tenpay(&["sign", "/nonexistent/file.xml"], b"", Some(KEY));
    assert_eq!(o.status.code(), Some(3));
    let o = tenpay(&["frobnicate"], b"", None);
    assert_eq!(o.status.code(), Some(2));
    for cmd in [
        vec!["--help"],
        vec!["sign", "--help"],
        vec!["verify", "--help"],
        vec!["decrypt-refund", "--help"],
        vec!["sim", "--help"],
        vec!["notify", "pay", "--help"],
    ] {
        let o = tenpay(&cmd, b"", None);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}");
        assert!(stdout(&o).contains("Usage"), "{cmd:?}");
    }
}

#[test]
fn decrypt_refund_notification_and_bare_req_info() {
    let o = tenpay(
        &["decrypt-refund", "--json"],
        &fixture("refund_notify_wechatpy.xml"),
        Some("OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let plain = fixture("refund_notify_wechatpy.req_info.decrypted.xml");
    let plain = String::from_utf8(plain).unwrap();
    assert!(plain.contains(json["out_refund_no"].as_str().unwrap()));
    let o = tenpay(
        &["decrypt-refund"],
        &fixture("refund_req_info_sdkgo.txt"),
        Some(KEY),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("<root>"));
    let o = tenpay(
        &["decrypt-refund"],
        &fixture("refund_req_info_sdkgo.txt"),
        Some("wrong-key"),
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("wrong API key"));
}

#[test]
fn sim_on_port_zero_then_notify_pay() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenpay"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "1000",
            "--merchant",
            &format!("wx2421b1c4370ec43b:10000100:{KEY}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let control = lines.next().unwrap().unwrap();
    assert_eq!(control, format!("control: {base}/_sim"));
    let dashboard = lines.next().unwrap().unwrap();
    assert_eq!(dashboard, format!("dashboard: {base}/_sim/"));
    let merchant = lines.next().unwrap().unwrap();
    assert!(merchant.contains("mch_id=10000100") && !merchant.contains(KEY));

    // The simulator answers a signed request made with `tenpay sign`.
    let req = r#"{"appid":"wx2421b1c4370ec43b","mch_id":"10000100","nonce_str":"n1","out_trade_no":"X1"}"#;
    let sign = stdout(&tenpay(&["sign"], req.as_bytes(), Some(KEY)));
    let body = format!(
        "<xml><appid>wx2421b1c4370ec43b</appid><mch_id>10000100</mch_id><nonce_str>n1</nonce_str><out_trade_no>X1</out_trade_no><sign>{}</sign></xml>",
        sign.trim()
    );
    let answer = http_post(&base["http://".len()..], "/pay/orderquery", &body);
    assert!(answer.contains("ORDERNOTEXIST"), "{answer}");
    let xml = &answer[answer.find("<xml>").unwrap()..];
    assert_eq!(
        stdout(&tenpay(&["verify"], xml.as_bytes(), Some(KEY))).trim(),
        "valid"
    );

    // `tenpay notify pay` against a local endpoint: here the simulator's control port, which
    // does not acknowledge.
    let o = tenpay(
        &[
            "notify",
            "pay",
            "--url",
            &format!("{base}/_sim/health"),
            "--out-trade-no",
            "X1",
            "--total-fee",
            "1",
        ],
        b"",
        Some(KEY),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("acknowledged: no"));

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn notify_pay_acknowledged_by_an_acking_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 8192];
        let mut got = Vec::new();
        loop {
            let n = std::io::Read::read(&mut s, &mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(i) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if got.len() >= i + 4 + len {
                    break;
                }
            }
        }
        let ack = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ack}",
            ack.len()
        )
        .unwrap();
        String::from_utf8_lossy(&got).into_owned()
    });
    let o = tenpay(
        &[
            "notify",
            "pay",
            "--url",
            &format!("http://{addr}/notify"),
            "--out-trade-no",
            "T9",
            "--total-fee",
            "888",
            "--sign-type",
            "HMAC-SHA256",
        ],
        b"",
        Some(KEY),
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("acknowledged: yes"));
    let request = server.join().unwrap();
    let body = &request[request.find("<xml>").unwrap()..];
    // The notification verifies with the merchant key and HMAC-SHA256.
    assert_eq!(
        stdout(&tenpay(
            &["verify", "--sign-type", "HMAC-SHA256"],
            body.as_bytes(),
            Some(KEY)
        ))
        .trim(),
        "valid"
    );
}

fn http_post(authority: &str, path: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    write!(s, "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    out
}

#[test]
fn sim_with_tls_writes_the_identities() {
    let dir = std::env::temp_dir().join(format!("tenpay-cli-tls-{}", std::process::id()));
    let config = std::env::temp_dir().join(format!("tenpay-cli-merchants-{}", std::process::id()));
    std::fs::write(
        &config,
        format!("# merchants\nwx2421b1c4370ec43b:10000100:{KEY}\n"),
    )
    .unwrap();
    // A second merchant whose key comes from a file, not the process list.
    let key_file = std::env::temp_dir().join(format!("tenpay-cli-key-{}", std::process::id()));
    std::fs::write(&key_file, "another-merchant-key-000000000000\n").unwrap();
    let from_file = format!("wx0000000000000002:10000200:@{}", key_file.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenpay"))
        .args([
            "sim",
            "--merchant",
            &from_file,
            "--config",
            config.to_str().unwrap(),
            "--tls",
            "--tls-dir",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert!(lines[0].starts_with("http://127.0.0.1:"));
    assert!(lines[3].starts_with("tls: https://127.0.0.1:"), "{lines:?}");
    for f in [
        "ca.pem",
        "10000100.cert.pem",
        "10000100.key.pem",
        "10000100.p12",
        "localhost.cert.pem",
        "localhost.key.pem",
    ] {
        assert!(dir.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    // Private keys are the owner's only.
    #[cfg(unix)]
    for f in [
        "10000100.key.pem",
        "10000100.p12",
        "localhost.key.pem",
        "10000200.key.pem",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = dir.join(f).metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{f} is {mode:o}");
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&config).unwrap();
    std::fs::remove_file(&key_file).unwrap();
}

/// The offline commands read the key like the profiles and the server: TENPAY_API_KEY_FILE
/// and TENPAY_API_KEY (TENPAY_KEY is an alias), and a flag wins over the environment.
#[test]
fn the_offline_commands_take_the_key_in_the_one_order() {
    let dir = std::env::temp_dir().join(format!("tenpay-cli-key-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.key");
    let bad = dir.join("bad.key");
    std::fs::write(&good, format!("{KEY}\n")).unwrap();
    std::fs::write(&bad, "not-the-key-not-the-key-not-the-k\n").unwrap();
    let run = |args: &[&str], file: Option<&std::path::Path>, key_var: Option<&str>| {
        let mut env: Vec<(&str, &std::ffi::OsStr)> = Vec::new();
        if let Some(f) = file {
            env.push(("TENPAY_API_KEY_FILE", f.as_os_str()));
        }
        if let Some(k) = key_var {
            env.push(("TENPAY_API_KEY", std::ffi::OsStr::new(k)));
        }
        tenpay_with(args, DOC.as_bytes(), &env)
    };
    let reference = stdout(&tenpay(&["sign"], DOC.as_bytes(), Some(KEY)));
    assert!(!reference.is_empty());
    let by_file = run(&["sign"], Some(&good), None);
    assert!(by_file.status.success(), "{}", stderr(&by_file));
    assert_eq!(stdout(&by_file), reference);
    let by_var = run(&["sign"], None, Some(KEY));
    assert_eq!(stdout(&by_var), reference);
    // --key-file wins over TENPAY_API_KEY_FILE.
    let flag = good.to_str().unwrap();
    let both = run(&["sign", "--key-file", flag], Some(&bad), None);
    assert_eq!(stdout(&both), reference);
    // TENPAY_API_KEY_FILE wins over TENPAY_API_KEY.
    let env_order = run(
        &["sign"],
        Some(&good),
        Some("not-the-key-not-the-key-not-the-k"),
    );
    assert_eq!(stdout(&env_order), reference);
    let none = run(&["sign"], None, None);
    assert_eq!(none.status.code(), Some(4), "a key problem");
    assert!(
        stderr(&none).contains("TENPAY_API_KEY_FILE"),
        "{}",
        stderr(&none)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn v3_data(name: &str) -> String {
    format!(
        "{}/../tenpay-sign-v3/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn v3_sign_matches_the_reference_vector_and_verify_explains_a_failure() {
    let o = tenpay(
        &[
            "v3",
            "sign",
            "--key-file",
            &v3_data("wechatpay-java_merchant_private_key.pem"),
            "--mchid",
            "1234567891",
            "--serial",
            "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
            "--url",
            "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
            "--timestamp",
            "1652750623",
            "--nonce",
            "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u",
            "--explain",
        ],
        b"",
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    // V4 of the protocol reference.
    assert!(
        out.contains("signature=\"I3rBjiGKeDrfOqpT4aW2VvjhsA2GEpOyCQivyRwmSroe6EftplTwTBtIyg0Q"),
        "{out}"
    );
    assert!(out.contains("GET\\n\n/v3/pay/transactions/id/"), "{out}");

    let sig = "Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw==";
    let id = "PUB_KEY_ID_0112345678202405010012345678";
    let verify = |body: &[u8], explain: bool| {
        let pk = v3_data("wechatpay-java_wechat_pay_public_key.pem");
        let mut args = vec![
            "v3",
            "verify",
            "--public-key",
            pk.as_str(),
            "--id",
            id,
            "--timestamp",
            "1722850421",
            "--nonce",
            "d824f2e086d3c1df967785d13fcd22ef",
            "--signature",
            sig,
            "--serial",
            id,
            "--now",
            "1722850421",
        ];
        if explain {
            args.push("--explain");
        }
        tenpay(&args, body, None)
    };
    let good = verify(
        br#"{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}"#,
        false,
    );
    assert_eq!(
        (good.status.code(), stdout(&good).trim()),
        (Some(0), "valid")
    );
    let bad = verify(
        b"{\"code_url\": \"weixin://wxpay/bizpayurl?pr=JyC91EIz1\"}",
        true,
    );
    assert_eq!(bad.status.code(), Some(1));
    let out = stdout(&bad);
    assert!(
        out.starts_with("invalid: the signature does not match"),
        "{out}"
    );
    assert!(
        out.contains("re-serialised JSON") && out.contains("checked message:"),
        "{out}"
    );
}

#[test]
fn v3_decrypt_opens_a_notification_and_doctor_checks_the_pair() {
    let dir = std::env::temp_dir().join(format!("tenpay-cli-v3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("apiv3.txt");
    std::fs::write(&key, "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb\n").unwrap();
    let o = tenpay(
        &[
            "v3",
            "decrypt",
            "--apiv3-key-file",
            key.to_str().unwrap(),
            &v3_data("computed_notify_transaction_32bytekey.json"),
        ],
        b"",
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("\"trade_state\":\"SUCCESS\""));
    let doctor = |cert: &str| {
        tenpay(
            &[
                "v3",
                "doctor",
                "--key-file",
                &v3_data("wechatpay-java_merchant_private_key.pem"),
                "--certificate",
                &v3_data(cert),
                "--serial",
                "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
                "--apiv3-key-file",
                key.to_str().unwrap(),
            ],
            b"",
            None,
        )
    };
    // The test certificate expired in 2025: the doctor says so, and that the pair matches.
    let o = doctor("wechatpay-java_merchant_certificate.pem");
    let out = stdout(&o);
    assert!(
        out.contains("ok   the certificate is the private key's pair"),
        "{out}"
    );
    assert!(
        out.contains("FAIL the certificate is not valid now"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1));
    // Another merchant's certificate is not the key's pair, and its serial differs.
    let out = stdout(&doctor("wechatpay-java_wechat_pay_certificate.pem"));
    assert!(
        out.contains("FAIL the certificate is NOT the private key's pair"),
        "{out}"
    );
    assert!(out.contains("FAIL the serial sent"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
