#![doc = include_str!("../README.md")]
mod bills;
mod commands;
mod doctor;
mod input;
mod ops;
mod profile;
mod v3;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign, verify and explain WeChat Pay V2 messages offline; decrypt refund notifications;
/// run the local simulator; send test notifications.
#[derive(Debug, Parser)]
#[command(name = "tenpay", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok/valid, 1 invalid or not acknowledged, 2 usage, 3 bad input, 4 key problem, 5 network, 6 a call that moves money has an unknown outcome (query it).\n\
The API key, for every command: --key-file, --key (lands in shell history), TENPAY_API_KEY_FILE, TENPAY_API_KEY (alias TENPAY_KEY), then the profile's key_file. It is never printed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the API key comes from.
#[derive(Debug, Args, Clone)]
pub(crate) struct KeyArgs {
    /// Read the API key from this file (surrounding whitespace is ignored).
    #[arg(long, value_name = "PATH", global = true)]
    pub(crate) key_file: Option<PathBuf>,
    /// The API key itself (prefer --key-file or TENPAY_API_KEY_FILE: this lands in shell history).
    #[arg(long, value_name = "KEY", global = true, hide_env_values = true)]
    pub(crate) key: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SignTypeArg {
    #[value(name = "MD5")]
    Md5,
    #[value(name = "HMAC-SHA256")]
    HmacSha256,
}

impl From<SignTypeArg> for tenpay_sign::SignType {
    fn from(s: SignTypeArg) -> Self {
        match s {
            SignTypeArg::Md5 => Self::Md5,
            SignTypeArg::HmacSha256 => Self::HmacSha256,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the signature of a JSON object or an `<xml>` message.
    #[command(
        after_help = "Examples:\n  echo '{\"appid\":\"wxd930ea5d5a258f4f\",\"body\":\"test\"}' | TENPAY_API_KEY_FILE=key.txt tenpay sign\n  tenpay sign --key-file key.txt --sign-type HMAC-SHA256 --explain request.xml"
    )]
    Sign {
        /// The message file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// The algorithm.
        #[arg(long, value_enum, default_value = "MD5")]
        sign_type: SignTypeArg,
        /// Also print the canonical string (key redacted).
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Check a signed message (an answer or a payment notification): exit 0 `valid`, exit 1 `invalid: <reason>`.
    #[command(
        after_help = "The sign type is --sign-type when given, else the message's sign_type field, else MD5.\n\
Examples:\n  tenpay verify --key-file key.txt notify.xml\n  tenpay verify --explain --sign-type HMAC-SHA256 answer.xml"
    )]
    Verify {
        /// The message file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// The algorithm (default: the message's sign_type, else MD5).
        #[arg(long, value_enum)]
        sign_type: Option<SignTypeArg>,
        /// On failure, print the canonical string (key redacted) and the likely causes.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Decrypt a refund notification (or a bare req_info) with the API key.
    #[command(
        name = "decrypt-refund",
        after_help = "Examples:\n  tenpay decrypt-refund --key-file key.txt refund_notify.xml\n  tenpay decrypt-refund --json req_info.txt"
    )]
    DecryptRefund {
        /// The notification or req_info file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// Print one JSON object of strings instead of XML.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Run the WeChat Pay V2 simulator in the foreground (Ctrl-C stops it). Give it test keys
    /// only: it is a test server, and its dashboard shows every notification it signs.
    #[command(
        after_help = "The first line printed is the base URL; the dashboard is at /_sim/.\nOn an address other than loopback the control API and the dashboard need the control token printed at start.\nExamples:\n  tenpay sim --merchant wx2421b1c4370ec43b:10000100:192006250b4c09247ec02edce69f6a2d\n  tenpay sim --listen 127.0.0.1:0 --time-scale 1000 --tls --merchant APPID:MCH:KEY"
    )]
    Sim {
        /// The listen address (port 0 picks a free port). Anything but loopback requires the
        /// control token for /_sim/.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// A merchant as APPID:MCH_ID:@KEYFILE (repeatable; APPID:MCH_ID:KEY works but puts the
        /// key in the process list). Give the simulator test keys only.
        #[arg(long = "merchant", value_name = "APPID:MCH_ID:@KEYFILE")]
        merchants: Vec<String>,
        /// A file with one APPID:MCH_ID:KEY per line (# comments allowed).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Divide the simulated delays (notification retries, refund processing) by this.
        #[arg(long, default_value_t = 1)]
        time_scale: u32,
        /// Also listen with TLS (prints the CA and writes the client identities to --tls-dir).
        #[arg(long)]
        tls: bool,
        /// Where --tls writes ca.pem, MCH_ID.{cert.pem,key.pem,p12}, and
        /// localhost.{cert.pem,key.pem} (for an https notify URL on this machine).
        #[arg(long, value_name = "DIR", default_value = "tenpay-sim-tls")]
        tls_dir: PathBuf,
        /// Accept notify_url hosts other than loopback (your own test network).
        #[arg(long)]
        allow_any_notify_url: bool,
        /// Orders kept (the oldest completed ones are dropped first).
        #[arg(long, default_value_t = 100_000)]
        max_orders: usize,
        /// Notifications kept, with their attempts.
        #[arg(long, default_value_t = 10_000)]
        max_deliveries: usize,
    },
    /// Send test notifications to a local merchant endpoint.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Merchant profiles (~/.config/tenpay/config.toml): list them, show one (never its key).
    #[command(after_help = PROFILE_HELP)]
    Profile {
        #[command(subcommand)]
        cmd: ProfileCommand,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
    },
    /// Ask WeChat Pay about an order, or close it.
    Order {
        #[command(subcommand)]
        cmd: ops::OrderCommand,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Refund an order, or ask about its refunds.
    Refund {
        #[command(subcommand)]
        cmd: ops::RefundCommand,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Charge a payment code: micropay, then query while the payer confirms, then reverse if
    /// it is still unpaid (the payer is never charged twice).
    #[command(
        after_help = "Example:\n  tenpay micropay --auth-code 134567890123456789 --out-trade-no T1 --total-fee 888 --body 'A cup of tea'"
    )]
    Micropay {
        #[command(flatten)]
        args: ops::MicropayArgs,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Call any V2 path with the profile's merchant: signed, the answer verified.
    #[command(
        after_help = "Examples:\n  tenpay call /pay/orderquery out_trade_no=T1\n  tenpay call /secapi/pay/refund --certificate out_trade_no=T1 out_refund_no=R1 total_fee=888 refund_fee=1"
    )]
    Call {
        #[command(flatten)]
        args: ops::CallArgs,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Check a profile and say in plain words what is wrong: the key (SIGNERROR's usual
    /// causes named), the appid/mch_id pair, the certificate, the clock. Exit 0 only when
    /// everything passes.
    #[command(
        after_help = "Examples:\n  tenpay doctor --profile shop\n  TENPAY_APPID=wx... TENPAY_MCH_ID=... TENPAY_API_KEY_FILE=key.txt tenpay doctor --json"
    )]
    Doctor {
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Trade bills: download one, or parse one into JSON Lines.
    Bill {
        #[command(subcommand)]
        cmd: bills::BillCommand,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// Fund flows: download one.
    Fundflow {
        #[command(subcommand)]
        cmd: bills::FundFlowCommand,
        #[command(flatten)]
        merchant: profile::MerchantArgs,
        #[command(flatten)]
        output: ops::OutputArgs,
    },
    /// API v3 offline: sign a request, verify an answer or notification, decrypt a resource,
    /// check a merchant's v3 keys.
    #[command(subcommand)]
    V3(v3::V3Command),
    /// Print shell completions.
    #[command(after_help = "Example:\n  tenpay completions bash > /etc/bash_completion.d/tenpay")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

const PROFILE_HELP: &str = "The config file (--config, TENPAY_CONFIG, or ~/.config/tenpay/config.toml):\n\n  default = \"shop\"\n  [profiles.shop]\n  appid = \"wx2421b1c4370ec43b\"\n  mch_id = \"10000100\"\n  key_file = \"/etc/tenpay/shop.key\"\n  sign_type = \"HMAC-SHA256\"\n  cert_p12 = \"/etc/tenpay/apiclient_cert.p12\"\n\nEnvironment variables override it (the merchant server reads the same): TENPAY_APPID, TENPAY_MCH_ID,\nTENPAY_API_KEY_FILE or TENPAY_API_KEY (alias TENPAY_KEY), TENPAY_SIGN_TYPE, TENPAY_BASE_URL,\nTENPAY_CERT_P12 (+ TENPAY_CERT_P12_PASSWORD) or TENPAY_CERT_PEM + TENPAY_KEY_PEM, TENPAY_CA_PEM,\nTENPAY_SUB_MCH_ID; flags override both.";

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// The profiles in the config file.
    List,
    /// One profile, resolved with the environment and flags (never the key).
    Show,
}

#[derive(Debug, Subcommand)]
enum NotifyCommand {
    /// Send a correctly signed payment notification and report whether WeChat Pay would count
    /// the reply as acknowledged.
    #[command(
        after_help = "Example:\n  TENPAY_API_KEY_FILE=key.txt tenpay notify pay --url http://127.0.0.1:8080/wechat/notify/pay --out-trade-no T1 --total-fee 888"
    )]
    Pay {
        /// The merchant's notify URL (http).
        #[arg(long)]
        url: String,
        /// The order number.
        #[arg(long)]
        out_trade_no: String,
        /// The amount in fen.
        #[arg(long)]
        total_fee: u64,
        /// The appid.
        #[arg(long, default_value = "wx2421b1c4370ec43b")]
        appid: String,
        /// The merchant id.
        #[arg(long, default_value = "10000100")]
        mch_id: String,
        /// The algorithm.
        #[arg(long, value_enum, default_value = "MD5")]
        sign_type: SignTypeArg,
        /// Include a sign_type field (real notifications vary).
        #[arg(long)]
        with_sign_type_field: bool,
        /// Report a failed payment (result_code=FAIL) instead.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("tenpay: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
