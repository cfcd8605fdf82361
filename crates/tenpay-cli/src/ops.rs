//! Asking WeChat Pay: orders, refunds, payment codes and any V2 path, answered for people
//! (`name: value` lines) or scripts (`--json`), with `--trace` showing the request and the
//! answer (the key is never in either; the certificate is not shown).

use clap::{Args, Subcommand};
use tenpay_client::{
    CloseOrder, Endpoint, Error, Fen, Micropay, MicropayOutcome, OrderQuery, OutRefundNo,
    OutTradeNo, Outcome, RawCall, Refund, RefundQuery,
};
use tenpay_xml::XmlMap;

use crate::input::{Failure, bad_input, network, report};
use crate::profile::{MerchantArgs, Profile};

/// How answers are printed.
#[derive(Debug, Args, Clone, Copy, Default)]
pub(crate) struct OutputArgs {
    /// Print one JSON object instead of `name: value` lines.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Also print the request as built (signed; its nonce differs from the one sent) and the
    /// answer's fields, on standard error.
    #[arg(long, global = true)]
    pub(crate) trace: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrderCommand {
    /// orderquery: the order's state and amounts.
    #[command(
        after_help = "Examples:\n  tenpay order query --out-trade-no 20261201000001\n  tenpay --profile shop order query --transaction-id 4200000123 --json"
    )]
    Query {
        #[command(flatten)]
        by: OrderRef,
    },
    /// closeorder: close an unpaid order.
    #[command(after_help = "Example:\n  tenpay order close --out-trade-no 20261201000001")]
    Close {
        /// The merchant's order number.
        #[arg(long)]
        out_trade_no: String,
    },
}

/// An order by the merchant's number or WeChat Pay's.
#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub(crate) struct OrderRef {
    /// The merchant's order number.
    #[arg(long)]
    out_trade_no: Option<String>,
    /// WeChat Pay's transaction id.
    #[arg(long)]
    transaction_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RefundCommand {
    /// refund (needs the client certificate): the same --out-refund-no again is the same refund.
    #[command(
        after_help = "Example:\n  tenpay refund create --out-trade-no 20261201000001 --out-refund-no R1 --total-fee 888 --refund-fee 300"
    )]
    Create {
        #[command(flatten)]
        by: OrderRef,
        /// The merchant's refund number (reuse it to repeat the same refund).
        #[arg(long)]
        out_refund_no: String,
        /// The order's amount, in fen.
        #[arg(long)]
        total_fee: u64,
        /// The amount to refund, in fen.
        #[arg(long)]
        refund_fee: u64,
        /// The reason shown to the payer (refund_desc).
        #[arg(long)]
        reason: Option<String>,
    },
    /// refundquery: the refunds of an order, or one refund.
    #[command(
        after_help = "Examples:\n  tenpay refund query --out-refund-no R1\n  tenpay refund query --out-trade-no 20261201000001 --json"
    )]
    Query {
        /// The merchant's refund number.
        #[arg(long, group = "refund_ref")]
        out_refund_no: Option<String>,
        /// WeChat Pay's refund id.
        #[arg(long, group = "refund_ref")]
        refund_id: Option<String>,
        /// The merchant's order number (every refund of it).
        #[arg(long, group = "refund_ref")]
        out_trade_no: Option<String>,
        /// WeChat Pay's transaction id (every refund of it).
        #[arg(long, group = "refund_ref")]
        transaction_id: Option<String>,
    },
}

/// `tenpay micropay`.
#[derive(Debug, Args)]
pub(crate) struct MicropayArgs {
    /// The payer's payment code (18 digits).
    #[arg(long)]
    auth_code: String,
    /// The merchant's order number.
    #[arg(long)]
    out_trade_no: String,
    /// The amount, in fen.
    #[arg(long)]
    total_fee: u64,
    /// What is sold.
    #[arg(long)]
    body: String,
    /// The till's IP address.
    #[arg(long, default_value = "127.0.0.1")]
    client_ip: String,
    /// How long to wait for the payer to confirm (seconds) before reversing.
    #[arg(long, default_value_t = 45)]
    wait: u64,
}

/// `tenpay call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The V2 path, e.g. /pay/orderquery.
    path: String,
    /// The request's fields (appid, mch_id, nonce_str and sign are added).
    #[arg(value_name = "FIELD=VALUE")]
    fields: Vec<String>,
    /// The endpoint needs the client certificate.
    #[arg(long)]
    certificate: bool,
    /// The answer carries no signature (check its ids only).
    #[arg(long)]
    unsigned_answer: bool,
}

fn trade_no(s: &str) -> Result<OutTradeNo, Failure> {
    OutTradeNo::new(s).map_err(|e| bad_input(e.to_string()))
}

fn refund_no(s: &str) -> Result<OutRefundNo, Failure> {
    OutRefundNo::new(s).map_err(|e| bad_input(e.to_string()))
}

/// A failed call as a failure: a negative answer exits 1, a configuration or input problem 3,
/// a key or signature problem 4, the network 5.
pub(crate) fn failure(e: &Error) -> Failure {
    if let Error::NoIdentity { .. } = e {
        return Failure {
            code: 3,
            message: format!(
                "{}: give --cert-p12 (or --cert-pem and --key-pem), TENPAY_CERT_P12, or cert_p12 in the profile",
                report(e)
            ),
        };
    }
    let message = report(e);
    let code = match e {
        Error::Business { .. } | Error::Protocol { .. } => 1,
        Error::BadSignature(_) | Error::ForeignAnswer { .. } => 4,
        Error::Transport(_)
        | Error::Http { .. }
        | Error::NotXml { .. }
        | Error::TooLarge { .. } => 5,
        _ => 3,
    };
    Failure { code, message }
}

/// Prints an answer's fields.
pub(crate) fn print(fields: &XmlMap, extra: &[(&str, &str)], out: OutputArgs) {
    if out.json {
        let mut obj = serde_json::Map::new();
        for (k, v) in extra.iter().copied().chain(fields.iter()) {
            obj.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
        }
        println!("{}", serde_json::Value::Object(obj));
    } else {
        let width = extra
            .iter()
            .copied()
            .chain(fields.iter())
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0);
        for (k, v) in extra.iter().copied().chain(fields.iter()) {
            println!("{k:width$}  {v}");
        }
    }
}

fn trace_request<E: Endpoint>(client: &tenpay_client::Client, request: &E, out: OutputArgs) {
    if out.trace {
        match client.request_body(request) {
            Ok(body) => eprintln!("> POST {}\n> {body}", E::ROUTE.path()),
            Err(e) => eprintln!("> (the request does not build: {})", report(&e)),
        }
    }
}

/// Sends a typed request and prints its answer's fields (traced on request).
async fn ask<E: Endpoint>(
    client: &tenpay_client::Client,
    request: &E,
    out: OutputArgs,
    raw: fn(&E::Response) -> &XmlMap,
) -> Result<(), Failure> {
    trace_request(client, request, out);
    let answer = client.execute(request).await.map_err(|e| failure(&e))?;
    trace_answer(raw(&answer), out);
    print(raw(&answer), &[], out);
    Ok(())
}

/// A call that moves money: its answer when done (exit 0); when the outcome is open, the
/// number to query with (exit 6: never repeat under a new number); a certain refusal as a
/// failure.
async fn ask_money<E: tenpay_client::MovesMoney>(
    client: &tenpay_client::Client,
    request: &E,
    out: OutputArgs,
    raw: fn(&E::Response) -> &XmlMap,
) -> Result<u8, Failure> {
    trace_request(client, request, out);
    match client.execute_money(request).await {
        Ok(Outcome::Done(answer)) => {
            trace_answer(raw(&answer), out);
            print(raw(&answer), &[], out);
            Ok(0)
        }
        Ok(outcome) => {
            let kind = if matches!(outcome, Outcome::NumberTaken(_)) {
                "number taken with other parameters"
            } else {
                "unknown"
            };
            let Some(open) = outcome.open() else {
                return Ok(0);
            };
            print(
                &XmlMap::new(),
                &[
                    ("outcome", kind),
                    ("number", open.number()),
                    ("cause", &report(open.cause())),
                    ("advice", "query this number; never repeat under a new one"),
                ],
                out,
            );
            Ok(OUTCOME_UNKNOWN)
        }
        Err(refused) => Err(failure(refused.cause())),
    }
}

/// The exit code of a call that moves money whose outcome is open.
pub(crate) const OUTCOME_UNKNOWN: u8 = 6;

fn trace_answer(fields: &XmlMap, out: OutputArgs) {
    if out.trace {
        eprintln!("< {}", fields.to_xml());
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| network(format!("cannot start the runtime: {e}")))
}

pub(crate) fn order(
    cmd: OrderCommand,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    let client = Profile::resolve(merchant)?.client()?;
    runtime()?.block_on(async {
        match cmd {
            OrderCommand::Query { by } => {
                let q = match (by.out_trade_no, by.transaction_id) {
                    (Some(no), _) => OrderQuery::by_out_trade_no(trade_no(&no)?),
                    (None, Some(t)) => OrderQuery::by_transaction_id(t),
                    (None, None) => {
                        return Err(bad_input("give --out-trade-no or --transaction-id"));
                    }
                };
                ask(&client, &q, out, |a| &a.raw).await?;
            }
            OrderCommand::Close { out_trade_no } => {
                let c = CloseOrder::new(trade_no(&out_trade_no)?);
                ask(&client, &c, out, |a| &a.raw).await?;
            }
        }
        Ok(0)
    })
}

pub(crate) fn refund(
    cmd: RefundCommand,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    let client = Profile::resolve(merchant)?.client()?;
    runtime()?.block_on(async {
        match cmd {
            RefundCommand::Create {
                by,
                out_refund_no,
                total_fee,
                refund_fee,
                reason,
            } => {
                let (total, fee) = (Fen::new(total_fee), Fen::new(refund_fee));
                let no = refund_no(&out_refund_no)?;
                let mut r = match (by.out_trade_no, by.transaction_id) {
                    (Some(o), _) => Refund::by_out_trade_no(trade_no(&o)?, no, total, fee),
                    (None, Some(t)) => Refund::by_transaction_id(t, no, total, fee),
                    (None, None) => {
                        return Err(bad_input("give --out-trade-no or --transaction-id"));
                    }
                };
                if let Some(reason) = reason {
                    r = r.desc(reason);
                }
                return ask_money(&client, &r, out, |a| &a.raw).await;
            }
            RefundCommand::Query {
                out_refund_no,
                refund_id,
                out_trade_no,
                transaction_id,
            } => {
                let q = match (out_refund_no, refund_id, out_trade_no, transaction_id) {
                    (Some(r), ..) => RefundQuery::by_out_refund_no(refund_no(&r)?),
                    (None, Some(r), ..) => RefundQuery::by_refund_id(r),
                    (None, None, Some(o), _) => RefundQuery::by_out_trade_no(trade_no(&o)?),
                    (None, None, None, Some(t)) => RefundQuery::by_transaction_id(t),
                    _ => {
                        return Err(bad_input(
                            "give --out-refund-no, --refund-id, --out-trade-no or --transaction-id",
                        ));
                    }
                };
                ask(&client, &q, out, |a| &a.raw).await?;
            }
        }
        Ok(0)
    })
}

pub(crate) fn micropay(
    args: MicropayArgs,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    let wait = std::time::Duration::from_secs(args.wait);
    let client = Profile::resolve(merchant)?
        .builder()?
        .micropay_polling(std::time::Duration::from_millis(500).min(wait), wait)
        .build()
        .map_err(|e| bad_input(report(&e)))?;
    let m = Micropay::new(
        args.body,
        trade_no(&args.out_trade_no)?,
        Fen::new(args.total_fee),
        args.client_ip,
        args.auth_code,
    );
    runtime()?.block_on(async {
        trace_request(&client, &m, out);
        let outcome = client
            .pay_with_code(&m)
            .await
            .map_err(|r| failure(r.cause()))?;
        match outcome {
            MicropayOutcome::Paid(a) => {
                trace_answer(&a.raw, out);
                print(&a.raw, &[("outcome", "paid")], out);
                Ok(0)
            }
            MicropayOutcome::PaidAfterPolling(q) => {
                trace_answer(&q.raw, out);
                print(
                    &q.raw,
                    &[("outcome", "paid after the payer confirmed")],
                    out,
                );
                Ok(0)
            }
            MicropayOutcome::Reversed { reason } => {
                print(
                    &XmlMap::new(),
                    &[
                        ("outcome", "reversed (not paid; the payer was not charged)"),
                        ("reason", &reason),
                    ],
                    out,
                );
                Ok(1)
            }
            MicropayOutcome::Unknown(u) => {
                print(
                    &XmlMap::new(),
                    &[
                        ("outcome", "unknown (neither paid nor reversed for certain)"),
                        ("number", u.number()),
                        ("cause", &report(u.cause())),
                        (
                            "advice",
                            "query this number; never charge again under a new one",
                        ),
                    ],
                    out,
                );
                Ok(OUTCOME_UNKNOWN)
            }
            _ => Ok(OUTCOME_UNKNOWN),
        }
    })
}

pub(crate) fn call(
    args: CallArgs,
    merchant: &MerchantArgs,
    out: OutputArgs,
) -> Result<u8, Failure> {
    let client = Profile::resolve(merchant)?.client()?;
    let mut call = RawCall::new(&args.path).map_err(|e| bad_input(report(&e)))?;
    for f in &args.fields {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| bad_input(format!("{f:?} is not FIELD=VALUE")))?;
        call = call.field(k, v);
    }
    if args.certificate {
        call = call.certificate(true);
    }
    if args.unsigned_answer {
        call = call.unsigned_answer();
    }
    runtime()?.block_on(async {
        if out.trace {
            eprintln!("> POST {} {}", args.path, args.fields.join(" "));
        }
        let a = client.call(&call).await.map_err(|e| failure(&e))?;
        trace_answer(&a, out);
        print(&a, &[], out);
        Ok(0)
    })
}
