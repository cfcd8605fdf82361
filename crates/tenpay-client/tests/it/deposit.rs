//! The deposit family against the simulator over TLS: freeze, consume part, refund part of
//! what was consumed; the deposit calls take deposit orders only; a consume whose answer is
//! lost is in doubt and settled by the query.

use super::*;
use tenpay_client::{
    DepositConsume, DepositMicropay, DepositOrderQuery, DepositRefund, DepositRefundQuery,
    DepositReverse,
};

fn deposit(n: &str, fee: u64) -> DepositMicropay {
    DepositMicropay::new(Micropay::new(
        "押金",
        no(n),
        Fen::new(fee),
        "127.0.0.1",
        "134567890123456700",
    ))
}

fn deposit_refund(n: &str, out_refund_no: &str, fee: u64) -> DepositRefund {
    DepositRefund::new(Refund::by_out_trade_no(
        no(n),
        OutRefundNo::new(out_refund_no).unwrap(),
        Fen::new(1000),
        Fen::new(fee),
    ))
}

#[tokio::test]
async fn a_deposit_is_frozen_consumed_in_part_and_refunded_from_what_was_consumed() {
    let sim = sim().await;
    // An MD5 merchant: the deposit routes sign HMAC-SHA256 whatever the merchant uses (the
    // simulator refuses MD5 on micropay, consume and refund).
    let c = client(&sim, SignType::Md5);
    let paid = c.deposit_micropay(&deposit("D1", 1000)).await.unwrap();
    assert_eq!(paid.done().unwrap().total_fee.get(), 1000);
    let q = c
        .deposit_order_query(&DepositOrderQuery::new(OrderQuery::by_out_trade_no(no(
            "D1",
        ))))
        .await
        .unwrap();
    assert_eq!((q.trade_state, q.consume_fee), (TradeState::Success, None));

    // A deposit is refunded through the deposit family only, and only once consumed.
    let plain = c.refund(&refund_of("D1", "RD0", 100)).await.unwrap_err();
    assert_eq!(plain.err_code(), Some(&ErrCode::TradeStateError));
    let early = c
        .deposit_refund(&deposit_refund("D1", "RD1", 100))
        .await
        .unwrap_err();
    assert_eq!(early.err_code(), Some(&ErrCode::TradeStateError));

    let consume = DepositConsume::by_out_trade_no(no("D1"), Fen::new(1000), Fen::new(600));
    let done = c.deposit_consume(&consume).await.unwrap().done().unwrap();
    assert_eq!(done.consume_fee, Some(Fen::new(600)));
    // The same consume again: the same answer; another amount: refused.
    assert!(c.deposit_consume(&consume).await.unwrap().done().is_some());
    let other = DepositConsume::by_out_trade_no(no("D1"), Fen::new(1000), Fen::new(700));
    assert_eq!(
        c.deposit_consume(&other).await.unwrap_err().err_code(),
        Some(&ErrCode::TradeStateError)
    );
    let q = c
        .deposit_order_query(&DepositOrderQuery::new(OrderQuery::by_out_trade_no(no(
            "D1",
        ))))
        .await
        .unwrap();
    assert_eq!(q.consume_fee, Some(Fen::new(600)));

    // Refunds come out of the 600 consumed, not the 1000 frozen.
    let too_much = c
        .deposit_refund(&deposit_refund("D1", "RD2", 700))
        .await
        .unwrap_err();
    assert!(too_much.err_code().is_some(), "{too_much}");
    let refunded = c
        .deposit_refund(&deposit_refund("D1", "RD3", 300))
        .await
        .unwrap();
    assert!(refunded.done().is_some());
    let rq = c
        .deposit_refund_query(&DepositRefundQuery::new(RefundQuery::by_out_refund_no(
            OutRefundNo::new("RD3").unwrap(),
        )))
        .await
        .unwrap();
    assert_eq!(rq.refunds.len(), 1);
    assert_eq!(rq.refunds[0].refund_fee.get(), 300);
    // A consumed deposit cannot be reversed. A reversal's TRADE_STATE_ERROR stays open (as
    // for payment codes: only REVERSE_EXPIRE says nothing moved), and nothing moved.
    let late = c
        .deposit_reverse(&DepositReverse::new(Reverse::new(no("D1"))))
        .await
        .unwrap();
    assert!(late.done().is_none());
    assert_eq!(sim.order("D1").unwrap().trade_state, "REFUND");

    // One not consumed is reversed (unfrozen).
    c.deposit_micropay(&deposit("D2", 500)).await.unwrap();
    let r = c
        .deposit_reverse(&DepositReverse::new(Reverse::new(no("D2"))))
        .await
        .unwrap();
    assert!(r.done().is_some());
    assert_eq!(sim.order("D2").unwrap().trade_state, "REVOKED");

    // The deposit calls know deposit orders only.
    c.unified_order(&order("PLAIN")).await.unwrap();
    let e = c
        .deposit_order_query(&DepositOrderQuery::new(OrderQuery::by_out_trade_no(no(
            "PLAIN",
        ))))
        .await
        .unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::OrderNotExist));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_consume_whose_answer_is_lost_is_in_doubt_and_the_query_settles_it() {
    let sim = sim().await;
    let c = client(&sim, SignType::HmacSha256);
    c.deposit_micropay(&deposit("D3", 1000)).await.unwrap();
    sim.inject(Fault::next(
        "deposit/consume",
        FaultKind::SystemErrorAfterProcessing,
        1,
    ))
    .unwrap();
    let consume = DepositConsume::by_out_trade_no(no("D3"), Fen::new(1000), Fen::new(250));
    let outcome = c.deposit_consume(&consume).await.unwrap();
    let Outcome::Unknown(u) = outcome else {
        panic!("a consume answered SYSTEMERROR is in doubt, not {outcome:?}");
    };
    assert_eq!(u.number(), "D3");
    let q = c
        .deposit_order_query(&DepositOrderQuery::new(OrderQuery::by_out_trade_no(no(
            "D3",
        ))))
        .await
        .unwrap();
    assert_eq!(
        q.consume_fee,
        Some(Fen::new(250)),
        "it was consumed after all"
    );
    // Repeating it is safe: the same consume is answered the same.
    assert!(c.deposit_consume(&consume).await.unwrap().done().is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_deposit_is_also_paid_in_the_app_or_by_face() {
    use tenpay_client::{DepositFacePay, DepositUnifiedOrder, FacePay};
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let placed = c
        .deposit_unified_order(&DepositUnifiedOrder::new(order("DU1")))
        .await
        .unwrap();
    assert!(!placed.prepay_id.is_empty());
    sim.pay("DU1", &PayOptions::new()).unwrap();
    let consumed = c
        .deposit_consume(&DepositConsume::by_out_trade_no(
            no("DU1"),
            Fen::new(888),
            Fen::new(88),
        ))
        .await
        .unwrap();
    assert_eq!(consumed.done().unwrap().consume_fee, Some(Fen::new(88)));

    let face = DepositFacePay::new(FacePay::new(
        "押金",
        no("DF1"),
        Fen::new(500),
        "127.0.0.1",
        "oFace0000000000000000000001",
        "opaque-face-code",
    ));
    assert!(c.deposit_face_pay(&face).await.unwrap().done().is_some());
    let q = c
        .deposit_order_query(&DepositOrderQuery::new(OrderQuery::by_out_trade_no(no(
            "DF1",
        ))))
        .await
        .unwrap();
    assert_eq!(q.trade_state, TradeState::Success);
    sim.shutdown().await;
}
