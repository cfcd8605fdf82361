//! The transaction report (unsigned answer) and the payers' comments (a text page, HMAC
//! and the certificate) against the simulator.

use super::*;
use tenpay_client::{CommentQuery, Report, ReportTrade};

#[tokio::test]
async fn a_report_is_taken_and_comments_page_through_the_paid_orders() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let general = Report::call(
        "https://api.mch.weixin.qq.com/pay/unifiedorder",
        120,
        "SUCCESS",
        "SUCCESS",
        "203.0.113.7",
    )
    .out_trade_no("R1");
    c.report(&general).await.unwrap();
    let batch = Report::micropay_batch(
        "203.0.113.7",
        &[
            ReportTrade::ok("R2", "20261203100000", "20261203100003"),
            ReportTrade::failed("R3", "20261203100004", "20261203100009", "USERPAYING"),
        ],
    );
    c.report(&batch).await.unwrap();
    let empty = Report::micropay_batch("203.0.113.7", &[]);
    // An empty array is still an array: accepted.
    c.report(&empty).await.unwrap();

    for n in ["K1", "K2", "K3"] {
        c.unified_order(&order(n)).await.unwrap();
        sim.pay(n, &PayOptions::new()).unwrap();
    }
    let first = c
        .comments(&CommentQuery::new("20000101000000", "20991231000000", 0).limit(2))
        .await
        .unwrap();
    assert_eq!(first.comments.len(), 2);
    assert_eq!(first.next_offset, 2);
    assert_eq!(first.comments[0].stars, 5);
    let rest = c
        .comments(&CommentQuery::new(
            "20000101000000",
            "20991231000000",
            first.next_offset,
        ))
        .await
        .unwrap();
    assert_eq!(rest.comments.len(), 1);
    let none = c
        .comments(&CommentQuery::new("20000101000000", "20000102000000", 0))
        .await
        .unwrap();
    assert!(none.comments.is_empty());
    let bad = c
        .comments(&CommentQuery::new("yesterday", "20000102000000", 0))
        .await
        .unwrap_err();
    assert_eq!(bad.err_code().map(ErrCode::as_str), Some("PARAM_ERROR"));
    sim.shutdown().await;
}
