//! The report as a page for the back office.

use super::Report;

/// The report as a plain HTML page for the back office: the counts, the differences as a
/// table, links to the orders.
#[must_use]
pub fn html(r: &Report) -> String {
    use std::fmt::Write as _;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reconciliation {date}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse}}\
         td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}}</style></head><body>\
         <h1>Reconciliation {date}</h1><p>{rows} rows in the bill, {matched} matched, {diff} differences, \
         {rep} repaired; paid {paid} fen, refunded {refunded} fen, service charge {fee} (0.00001 yuan).{nobill}</p>",
        date = esc(&r.bill_date),
        rows = r.rows,
        matched = r.matched,
        diff = r.differences(),
        rep = r.repaired.len(),
        fee = r.service_charge,
        paid = r.bill_paid_fen,
        refunded = r.bill_refunded_fen,
        nobill = r
            .no_bill
            .as_deref()
            .map(|m| format!(" No bill: {}.", esc(m)))
            .unwrap_or_default(),
    );
    out.push_str("<table><tr><th>what</th><th>order</th><th>refund</th><th>bill (fen)</th><th>books (fen)</th><th>note</th></tr>");
    for (what, list) in [
        ("repaired", &r.repaired),
        ("unresolved (needs a person)", &r.unresolved),
        ("unknown payment", &r.unknown_payments),
        ("paid after close", &r.paid_after_close),
        ("missing payment", &r.missing_payments),
        ("amount mismatch", &r.amount_mismatches),
        ("unknown refund", &r.unknown_refunds),
        ("missing refund", &r.missing_refunds),
    ] {
        for d in list {
            let no = esc(&d.order_no);
            let _ = write!(
                out,
                "<tr><td>{what}</td><td><a href=\"/orders/{no}\">{no}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(d.out_refund_no.as_deref().unwrap_or("")),
                d.bill_fen.map(|f| f.to_string()).unwrap_or_default(),
                d.books_fen.map(|f| f.to_string()).unwrap_or_default(),
                esc(&d.note),
            );
        }
    }
    out.push_str("</table></body></html>\n");
    out
}
