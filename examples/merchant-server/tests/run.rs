//! The binary as an operator runs it: `--simulator` prints one line per listener, logs go to
//! stderr (human or JSON), and an unsigned value cannot forge a log line.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// `merchant-server --simulator` with no inherited environment, both listeners on free
/// loopback ports and its SQLite file at `db`.
fn simulator_server(db: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_merchant-server"));
    cmd.arg("--simulator")
        .env_clear()
        .env("LISTEN", "127.0.0.1:0")
        .env("ADMIN_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()));
    cmd
}

fn run_simulator(format: &str) -> String {
    let db = std::env::temp_dir().join(format!("tenpay-run-{format}-{}.db", std::process::id()));
    let mut child = simulator_server(&db)
        .env("LOG_FORMAT", format)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = |prefix: &str| {
        let mut l = String::new();
        stdout.read_line(&mut l).unwrap();
        assert!(l.starts_with(prefix), "{l:?}");
        l[prefix.len()..].trim().to_owned()
    };
    let public = line("public: http://");
    let admin = line("admin: http://");
    assert_ne!(public, admin);
    // A refused notification whose return_code (quoted in the refusal) tries to start a log
    // line of its own.
    let body = "<xml><return_code>FAIL\n2026-12-01T00:00:00Z  INFO forged line</return_code></xml>";
    let mut s = TcpStream::connect(&public).unwrap();
    write!(s, "POST /wechat/notify/pay HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success(), "SIGTERM is a clean stop");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    for f in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{f}", db.display()));
    }
    stderr
}

#[test]
fn human_logs_name_the_mode_the_listeners_and_escape_unsigned_values() {
    let log = run_simulator("human");
    assert!(log.contains("SIMULATOR MODE"), "{log}");
    assert!(log.contains("merchant server started"), "{log}");
    assert!(log.contains("notification refused"), "{log}");
    assert!(
        !log.lines()
            .any(|l| l.contains("INFO forged line") && !l.contains("refused")),
        "{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let log = run_simulator("json");
    let mut events = 0;
    for l in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string(), "{l}");
        events += 1;
    }
    assert!(events >= 3, "{log}");
    assert!(
        log.contains("\"message\":\"merchant server started\""),
        "{log}"
    );
}

/// Review t3 #8: `--simulator` takes TENPAY_ADMIN_TOKEN(_FILE) and APP_SESSION_SECRET from the
/// environment when they are set (generating them only when not), warns about a secret file
/// others may read, and with ADMIN_LISTEN_PUBLIC=yes serves the back office on every address
/// with a warning.
#[cfg(unix)]
#[test]
fn simulator_mode_honours_the_given_secrets_and_warns_about_loose_files_and_exposure() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir();
    let token = "given-admin-token-0123456789abcdef0123456789";
    let token_file = dir.join(format!("tenpay-run-token-{}", std::process::id()));
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let db = dir.join(format!("tenpay-run-given-{}.db", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_merchant-server"))
        .arg("--simulator")
        .env_clear()
        .env("LISTEN", "127.0.0.1:0")
        .env("ADMIN_LISTEN", "0.0.0.0:0")
        .env("ADMIN_LISTEN_PUBLIC", "yes")
        .env("TENPAY_ADMIN_TOKEN_FILE", &token_file)
        .env(
            "APP_SESSION_SECRET",
            "given-session-secret-0123456789abcdef01234",
        )
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut l = String::new();
        stdout.read_line(&mut l).unwrap();
        lines.push(l);
    }
    let admin = lines[1]
        .trim()
        .strip_prefix("admin: http://")
        .unwrap()
        .to_owned();
    let port = admin.rsplit_once(':').unwrap().1;
    assert!(admin.starts_with("0.0.0.0:"), "{admin}");
    assert!(lines[3].contains("the one TENPAY_ADMIN_TOKEN"), "{lines:?}");
    assert!(!lines.concat().contains(token), "{lines:?}");
    let metrics = |bearer: &str| {
        let mut s = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\nConnection: close\r\n\r\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply
    };
    assert!(
        metrics(token).starts_with("HTTP/1.1 200"),
        "the given token is the token"
    );
    assert!(metrics("a-generated-one-0123456789abcdef0123").starts_with("HTTP/1.1 401"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains(&format!(
            "TENPAY_ADMIN_TOKEN_FILE: {} is readable by others (mode 666)",
            token_file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("public address, over plain HTTP"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&token_file);
    for f in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{f}", db.display()));
    }
}

/// A SIGTERM sent the moment the first listener is announced is a clean stop: the signal is
/// listened for before the announcement (it used to be installed after the last line, and a
/// stop in between was the signal's default death).
#[test]
fn a_stop_right_after_the_announcement_is_clean() {
    for round in 0..5 {
        let db =
            std::env::temp_dir().join(format!("tenpay-run-stop-{round}-{}.db", std::process::id()));
        let mut child = simulator_server(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kept open to the end: the server goes on announcing.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("public: "), "{first:?}");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "round {round}: {status:?}");
        let _ = std::fs::remove_file(&db);
    }
}
