//! Single-item discounts against the simulator: an order and a payment code naming their
//! goods (`version=1.0`), a refund naming the goods refunded, the v2 query.

use super::*;
use tenpay_client::{DiscountDetail, DiscountGoods, RefundQueryV2, RefundV2};

fn goods() -> DiscountDetail {
    DiscountDetail::new(vec![
        DiscountGoods::new("a_goods1", 2, Fen::new(400)).name("咖啡"),
        DiscountGoods::new("a_goods2", 1, Fen::new(88)),
    ])
    .cost_price(Fen::new(888))
}

#[tokio::test]
async fn goods_are_named_on_the_order_and_on_the_refund() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let body = c
        .request_body(&order("G1").single_item_discount(&goods()))
        .unwrap();
    assert!(body.contains("<version>1.0</version>"), "{body}");
    c.unified_order(&order("G1").single_item_discount(&goods()))
        .await
        .unwrap();
    sim.pay("G1", &PayOptions::new()).unwrap();
    let paid = c
        .order_query(&OrderQuery::by_out_trade_no(no("G1")))
        .await
        .unwrap();
    assert!(paid.promotions().unwrap().is_empty(), "none applied here");

    let code = Micropay::new(
        "刷卡",
        no("G2"),
        Fen::new(888),
        "127.0.0.1",
        "134567890123456700",
    )
    .single_item_discount(&goods());
    assert!(c.micropay(&code).await.unwrap().done().is_some());

    let refund = RefundV2::new(refund_of("G1", "RG1", 400)).goods(&DiscountDetail::new(vec![
        DiscountGoods::new("a_goods1", 1, Fen::new(400)),
    ]));
    assert!(c.refund_v2(&refund).await.unwrap().done().is_some());
    let q = c
        .refund_query_v2(&RefundQueryV2::new(RefundQuery::by_out_refund_no(
            OutRefundNo::new("RG1").unwrap(),
        )))
        .await
        .unwrap();
    assert_eq!(q.refunds[0].refund_fee.get(), 400);
    // The v2 query takes a refund's number only.
    let by_order = c
        .refund_query_v2(&RefundQueryV2::new(RefundQuery::by_out_trade_no(no("G1"))))
        .await
        .unwrap_err();
    assert_eq!(
        by_order.err_code().map(ErrCode::as_str),
        Some("PARAM_ERROR")
    );
    sim.shutdown().await;
}
