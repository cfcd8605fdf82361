//! The commands.

use std::io::Write as _;

use tenpay_sign::{Canonical, SignType};
use tenpay_xml::XmlMap;

use crate::input::{
    Failure, Fields, bad_input, key_problem, load_key, network, parse_message, read_input, report,
};
use crate::{Command, NotifyCommand, ProfileCommand};

pub(crate) fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::V3(cmd) => crate::v3::run(cmd),
        Command::Sign {
            file,
            sign_type,
            explain,
            key,
        } => {
            let map = parse_message(&read_input(&file)?)?;
            let key = load_key(&key)?;
            let canonical = canonical(&map)?;
            println!("{}", canonical.sign(&key, sign_type.into()));
            if explain {
                println!("canonical: {canonical}");
            }
            Ok(0)
        }
        Command::Verify {
            file,
            sign_type,
            explain,
            key,
        } => {
            let map = parse_message(&read_input(&file)?)?;
            let key = load_key(&key)?;
            verify(&map, &key, sign_type.map(Into::into), explain)
        }
        Command::DecryptRefund { file, json, key } => {
            decrypt(&read_input(&file)?, &load_key(&key)?, json)
        }
        Command::Sim {
            listen,
            merchants,
            config,
            time_scale,
            tls,
            tls_dir,
            allow_any_notify_url,
            max_orders,
            max_deliveries,
        } => sim(
            listen,
            merchants,
            config,
            time_scale,
            tls.then_some(tls_dir),
            allow_any_notify_url,
            tenpay_sim::Limits::new()
                .orders(max_orders)
                .deliveries(max_deliveries),
        ),
        Command::Profile { cmd, merchant } => profile(cmd, &merchant),
        Command::Order {
            cmd,
            merchant,
            output,
        } => crate::ops::order(cmd, &merchant, output),
        Command::Refund {
            cmd,
            merchant,
            output,
        } => crate::ops::refund(cmd, &merchant, output),
        Command::Micropay {
            args,
            merchant,
            output,
        } => crate::ops::micropay(args, &merchant, output),
        Command::Call {
            args,
            merchant,
            output,
        } => crate::ops::call(args, &merchant, output),
        Command::Doctor { merchant, output } => crate::doctor::doctor(&merchant, output),
        Command::Bill {
            cmd,
            merchant,
            output,
        } => crate::bills::bill(cmd, &merchant, output),
        Command::Fundflow {
            cmd,
            merchant,
            output,
        } => crate::bills::fund_flow(cmd, &merchant, output),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(
                shell,
                &mut crate::Cli::command(),
                "tenpay",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Notify(NotifyCommand::Pay {
            url,
            out_trade_no,
            total_fee,
            appid,
            mch_id,
            sign_type,
            with_sign_type_field,
            failed,
            key,
        }) => {
            let key = load_key(&key)?;
            let st: SignType = sign_type.into();
            // Exactly what the simulator sends for a paid (or failed) NATIVE order.
            let mut payload = tenpay_sim::notify::PayPayload::new(
                appid,
                mch_id,
                out_trade_no,
                tenpay_xml::Fen::new(total_fee),
            )
            .transaction_id(format!(
                "4200000000{:018}",
                nanos() % 1_000_000_000_000_000_000
            ))
            .with_sign_type_field(with_sign_type_field);
            if failed {
                payload = payload.failed("PAYERROR");
            }
            post_notification(&url, &payload.sign(&key, st))
        }
    }
}

fn profile(cmd: ProfileCommand, merchant: &crate::profile::MerchantArgs) -> Result<u8, Failure> {
    match cmd {
        ProfileCommand::List => {
            let (path, names) = crate::profile::list(merchant)?;
            match path {
                Some(p) => println!("config: {}", p.display()),
                None => println!("config: none (no file at the default place)"),
            }
            for (name, default) in names {
                println!("{name}{}", if default { " (default)" } else { "" });
            }
            Ok(0)
        }
        ProfileCommand::Show => {
            let p = crate::profile::Profile::resolve(merchant)?;
            for (k, v) in p.describe() {
                println!("{k:12} {v}");
            }
            Ok(0)
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn canonical(map: &Fields) -> Result<Canonical<&str, &str>, Failure> {
    Canonical::new(map.iter()).map_err(|e| bad_input(e.to_string()))
}

fn verify(
    map: &Fields,
    key: &tenpay_sign::ApiKey,
    flag: Option<SignType>,
    explain: bool,
) -> Result<u8, Failure> {
    let invalid = |reason: String| {
        println!("invalid: {reason}");
        Ok(1)
    };
    let field = map.get("sign_type");
    let sign_type = match (flag, field) {
        (_, Some(f)) if f.parse::<SignType>().is_err() => {
            return invalid(format!(
                "the sign_type field {f:?} is not exactly MD5 or HMAC-SHA256"
            ));
        }
        (Some(flag), Some(f)) if f != flag.as_str() => {
            return invalid(format!(
                "the message's sign_type is {f} but --sign-type is {flag}"
            ));
        }
        (Some(flag), _) => flag,
        (None, Some(f)) => f.parse().unwrap_or(SignType::Md5),
        (None, None) => SignType::Md5,
    };
    let Some(received) = map.get("sign").filter(|s| !s.is_empty()) else {
        return invalid("the message has no sign field".into());
    };
    let canonical = canonical(map)?;
    match canonical.verify(key, sign_type, received) {
        Ok(()) => {
            println!("valid");
            Ok(0)
        }
        Err(e) => {
            println!("invalid: {e} (checked as {sign_type})");
            if explain {
                println!("canonical: {canonical}");
                for cause in likely_causes(map, &canonical, key, sign_type, received) {
                    println!("likely cause: {cause}");
                }
            }
            Ok(1)
        }
    }
}

fn likely_causes(
    map: &Fields,
    canonical: &Canonical<&str, &str>,
    key: &tenpay_sign::ApiKey,
    st: SignType,
    received: &str,
) -> Vec<String> {
    let mut causes = Vec::new();
    let other = match st {
        SignType::Md5 => SignType::HmacSha256,
        _ => SignType::Md5,
    };
    if canonical.verify(key, other, received).is_ok() {
        causes.push(format!("the message was signed with {other}, not {st}"));
    }
    if st == SignType::Md5 && received.len() == 64 {
        causes.push("a 64-character signature is HMAC-SHA256, but it was checked as MD5".into());
    }
    if st == SignType::HmacSha256 && received.len() == 32 {
        causes.push("a 32-character signature is MD5, but it was checked as HMAC-SHA256".into());
    }
    if received.bytes().any(|b| b.is_ascii_lowercase()) {
        let upper = received.to_ascii_uppercase();
        if canonical.verify(key, st, &upper).is_ok() {
            causes.push("the signature is lower-case; its upper-case form matches (WeChat Pay signatures are upper-case)".into());
        } else {
            causes
                .push("the signature is lower-case (WeChat Pay signatures are upper-case)".into());
        }
    }
    let spaced: Vec<&str> = map
        .iter()
        .filter(|(k, v)| *k != "sign" && v.trim() != *v)
        .map(|(k, _)| k)
        .collect();
    if !spaced.is_empty() {
        causes.push(format!(
            "leading or trailing spaces in: {} (values are signed exactly, untrimmed)",
            spaced.join(", ")
        ));
    }
    let encoded: Vec<&str> = map
        .iter()
        .filter(|(k, v)| *k != "sign" && looks_url_encoded(v))
        .map(|(k, _)| k)
        .collect();
    if !encoded.is_empty() {
        causes.push(format!(
            "URL-encoded values in: {} (sign the raw UTF-8 values, not URL-encoded ones)",
            encoded.join(", ")
        ));
    }
    let len = key.len();
    if len != 32 {
        causes.push(format!(
            "the key is {len} characters; keys set on the merchant platform are 32"
        ));
    }
    if causes.is_empty() {
        causes.push(
            "the key is not the one that signed the message, or a field was changed after signing"
                .into(),
        );
    }
    causes
}

fn looks_url_encoded(v: &str) -> bool {
    let b = v.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        || (v.contains('+') && !v.contains(' ') && v.contains('='))
}

fn decrypt(data: &[u8], key: &tenpay_sign::ApiKey, json: bool) -> Result<u8, Failure> {
    let trimmed = data.trim_ascii();
    let req_info = if trimmed.starts_with(b"<") {
        let map = XmlMap::parse(trimmed)
            .map_err(|e| bad_input(format!("not an acceptable <xml> message: {e}")))?;
        map.get("req_info")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                bad_input("the notification has no req_info (is it a payment notification?)")
            })?
            .to_owned()
    } else {
        String::from_utf8(trimmed.to_vec()).map_err(|_| bad_input("req_info is not text"))?
    };
    let plain = tenpay_notify::decrypt_req_info(key, &req_info).map_err(|e| match e {
        tenpay_notify::Error::WrongKey => {
            key_problem("this key does not decrypt the req_info (wrong API key?)")
        }
        other => bad_input(report(&other)),
    })?;
    let map = tenpay_xml::Parser::new()
        .root("root")
        .parse(&plain)
        .map_err(|_| {
            key_problem("the decrypted req_info is not a <root> document (wrong API key?)")
        })?;
    let mut out = std::io::stdout().lock();
    if json {
        let obj: serde_json::Map<String, serde_json::Value> = map
            .iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Object(obj));
    } else {
        let _ = writeln!(out, "{}", String::from_utf8_lossy(&plain));
    }
    Ok(0)
}

/// `APPID:MCH_ID:KEY` or `APPID:MCH_ID:@KEYFILE`. A key written on the command line
/// (`from_argv`) is visible to every user in the process list: warned about.
fn parse_merchant(spec: &str, from_argv: bool) -> Result<tenpay_sim::MerchantAccount, Failure> {
    let mut parts = spec.trim().splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(appid), Some(mch), Some(key)) if !appid.is_empty() && !mch.is_empty() => {
            let key = match key.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| key_problem(format!("cannot read the key file {path}: {e}")))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
                None => {
                    if from_argv {
                        eprintln!(
                            "tenpay: warning: a key on the command line is visible in the process list; use APPID:MCH_ID:@KEYFILE"
                        );
                    }
                    key.to_owned()
                }
            };
            let key = tenpay_sign::ApiKey::new(key)
                .map_err(|_| key_problem("a merchant's key is empty"))?;
            Ok(tenpay_sim::MerchantAccount::new(appid, mch, key))
        }
        _ => Err(bad_input(
            "a merchant is APPID:MCH_ID:KEY or APPID:MCH_ID:@KEYFILE",
        )),
    }
}

/// Writes `data` to `path`; a `private` file is created (or reset to) mode 0600 before any
/// byte is written.
fn write_file(path: &std::path::Path, data: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    if private {
        // An existing file keeps its mode on open: set it.
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    file.write_all(data)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| network(format!("cannot start the runtime: {e}")))
}

fn sim(
    listen: std::net::SocketAddr,
    specs: Vec<String>,
    config: Option<std::path::PathBuf>,
    time_scale: u32,
    tls_dir: Option<std::path::PathBuf>,
    allow_any: bool,
    limits: tenpay_sim::Limits,
) -> Result<u8, Failure> {
    let mut merchants = Vec::new();
    for spec in &specs {
        merchants.push(parse_merchant(spec, true)?);
    }
    if let Some(path) = config {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            merchants.push(parse_merchant(line, false)?);
        }
    }
    if merchants.is_empty() {
        return Err(Failure {
            code: 2,
            message: "tenpay sim needs at least one --merchant APPID:MCH_ID:KEY (or --config FILE)"
                .into(),
        });
    }
    let shown: Vec<(String, String)> = merchants
        .iter()
        .map(|m| (m.appid().to_owned(), m.mch_id().to_owned()))
        .collect();
    runtime()?.block_on(async move {
        // The interrupt handler is in place before the first line is printed: whoever reads
        // the address and sends SIGINT at once stops the simulator cleanly.
        let interrupt = Interrupt::register()?;
        let mut builder = tenpay_sim::Simulator::builder()
            .listen(listen)
            .time_scale(time_scale)
            .allow_any_notify_url(allow_any)
            .limits(limits);
        for m in merchants {
            builder = builder.merchant(m);
        }
        let sim = builder
            .tls(tls_dir.is_some())
            .start()
            .await
            .map_err(|e| network(report(&e)))?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", sim.base_url());
        let _ = writeln!(out, "control: {}", sim.control_url());
        let _ = writeln!(out, "dashboard: {}", sim.dashboard_url());
        if let Some(token) = sim.control_token() {
            let _ = writeln!(out, "control token: {token} (send it as Authorization: Bearer TOKEN)");
            eprintln!(
                "tenpay: warning: the simulator listens on {} (not loopback): anyone who can reach it \
                 can see and drive it with the control token; give it test keys only",
                sim.addr()
            );
        }
        if let (Some(dir), Some(tls), Some(url)) = (&tls_dir, sim.tls(), sim.tls_base_url()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| bad_input(format!("cannot create {}: {e}", dir.display())))?;
            // Private keys (`*.key.pem`, `*.p12`) are readable by their owner only.
            let write = |name: String, data: &[u8]| {
                let private = name.ends_with(".key.pem") || name.ends_with(".p12");
                write_file(&dir.join(&name), data, private)
                    .map_err(|e| bad_input(format!("cannot write {name}: {e}")))
            };
            write("ca.pem".into(), tls.ca_pem.as_bytes())?;
            // For the merchant's own https:// notify URL on this machine (the simulator
            // trusts its CA when it delivers).
            write("localhost.cert.pem".into(), tls.server_cert_pem.as_bytes())?;
            write("localhost.key.pem".into(), tls.server_key_pem.as_bytes())?;
            for id in &tls.identities {
                write(format!("{}.cert.pem", id.mch_id), id.cert_pem.as_bytes())?;
                write(format!("{}.key.pem", id.mch_id), id.key_pem.as_bytes())?;
                write(format!("{}.p12", id.mch_id), &id.pkcs12)?;
            }
            let _ = writeln!(
                out,
                "tls: {url} (CA, client identities and a localhost certificate for https notify URLs in {})",
                dir.display()
            );
        }
        for (appid, mch) in &shown {
            let _ = writeln!(
                out,
                "merchant: appid={appid} mch_id={mch} (key as given; not printed)"
            );
        }
        let _ = writeln!(
            out,
            "time scale: {time_scale} (notify retries 15 s, 15 s, 30 s, 3 min, … divided by it)"
        );
        let _ = out.flush();
        drop(out);
        wait_for_interrupt(interrupt).await;
        sim.shutdown().await;
        eprintln!("tenpay: simulator stopped");
        Ok(0)
    })
}

fn post_notification(url: &str, body: &str) -> Result<u8, Failure> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(bad_input("--url must be an http:// or https:// URL"));
    }
    let attempt = runtime()?.block_on(tenpay_sim::notify::deliver_once(
        url,
        body,
        std::time::Duration::from_secs(10),
    ));
    let Some(status) = attempt.status else {
        return Err(network(attempt.outcome));
    };
    println!("HTTP {status}");
    println!("{}", attempt.reply.as_deref().unwrap_or_default());
    println!(
        "acknowledged: {}",
        if attempt.acknowledged {
            "yes".to_owned()
        } else {
            format!("no ({}; WeChat Pay would send it again)", attempt.outcome)
        }
    );
    Ok(u8::from(!attempt.acknowledged))
}

/// SIGINT (Ctrl-C), listened for from the moment it is registered.
struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn register() -> Result<Self, Failure> {
        Ok(Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| bad_input(format!("cannot listen for Ctrl-C: {e}")))?,
        })
    }
}

async fn wait_for_interrupt(mut interrupt: Interrupt) {
    #[cfg(unix)]
    {
        let _ = interrupt.signal.recv().await;
    }
    #[cfg(not(unix))]
    {
        let _ = &mut interrupt;
        let _ = tokio::signal::ctrl_c().await;
    }
}
