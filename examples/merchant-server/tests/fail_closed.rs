//! Item 7: the `merchant-server` binary fails closed. With a setting missing or unusable it
//! exits 2 with one line naming the variable, and it never starts a simulator unasked.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const TOKEN: &str = "admin-token-0123456789abcdef0123456789";
const SECRET: &str = "session-secret-0123456789abcdef01234";

fn run(vars: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_merchant-server"))
        .env_clear()
        .envs(vars.iter().copied())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn with_no_configuration_it_exits_2_naming_the_api_key() {
    let (code, stderr) = run(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TENPAY_API_KEY"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("simulator at"), "{stderr}");
}

#[test]
fn each_missing_or_blank_setting_is_named() {
    let full = [
        ("TENPAY_APPID", "wx2421b1c4370ec43b"),
        ("TENPAY_MCH_ID", "10000100"),
        ("TENPAY_API_KEY", KEY),
        ("TENPAY_ADMIN_TOKEN", TOKEN),
        ("APP_SESSION_SECRET", SECRET),
        ("LISTEN", "127.0.0.1:0"),
        ("ADMIN_LISTEN", "127.0.0.1:0"),
    ];
    for missing in [
        "TENPAY_APPID",
        "TENPAY_MCH_ID",
        "TENPAY_ADMIN_TOKEN",
        "APP_SESSION_SECRET",
    ] {
        let vars: Vec<_> = full
            .iter()
            .copied()
            .filter(|(k, _)| *k != missing)
            .collect();
        let (code, stderr) = run(&vars);
        assert_eq!(code, 2, "{missing}: {stderr}");
        assert!(
            stderr.starts_with(&format!("merchant-server: {missing}")),
            "{stderr}"
        );
    }
    let mut blank_key: Vec<_> = full.to_vec();
    blank_key[2] = ("TENPAY_API_KEY", "    ");
    let (code, stderr) = run(&blank_key);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("TENPAY_API_KEY"), "{stderr}");
    let mut bad_listen: Vec<_> = full.to_vec();
    bad_listen[5] = ("LISTEN", "everywhere");
    let (code, stderr) = run(&bad_listen);
    assert_eq!(
        (code, stderr.starts_with("merchant-server: LISTEN")),
        (2, true),
        "{stderr}"
    );
    // The operations settings are checked too.
    for (var, value) in [
        ("RECONCILE_HOUR", "24"),
        ("SWEEP_INTERVAL_SECS", "soon"),
        ("SWEEP_BATCH", "-1"),
    ] {
        let mut vars: Vec<_> = full.to_vec();
        vars.push((var, value));
        let (code, stderr) = run(&vars);
        assert_eq!(
            (code, stderr.starts_with(&format!("merchant-server: {var}"))),
            (2, true),
            "{var}={value}: {stderr}"
        );
    }
}
