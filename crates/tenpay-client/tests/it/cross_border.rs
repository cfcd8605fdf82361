//! Customs declaration and the exchange rate against the simulator: both on routes without
//! `nonce_str`, customs pinned to MD5 whatever the merchant signs with.

use super::*;
use tenpay_client::{
    Currency, Customs, CustomsDeclare, CustomsQuery, CustomsRedeclare, CustomsState,
    ExchangeRateQuery,
};

#[tokio::test]
async fn a_paid_order_is_declared_queried_and_redeclared() {
    let sim = sim().await;
    // An HMAC-SHA256 merchant: customs takes MD5 only, and the route signs MD5.
    let c = client(&sim, SignType::HmacSha256);
    c.unified_order(&order("C1")).await.unwrap();
    let paid = sim.pay("C1", &PayOptions::new()).unwrap();
    let tid = paid.transaction_id.clone().unwrap();

    // Redeclaring what was never declared, and declaring another payment's id: refused.
    let early = CustomsRedeclare::new(no("C1"), Customs::ShanghaiZs, "MCH-CUSTOMS-1");
    let e = c.customs_redeclare(&early).await.unwrap_err();
    assert_eq!(e.err_code(), Some(&ErrCode::OrderNotExist));
    let wrong = CustomsDeclare::new(
        no("C1"),
        "4200000000000000000000000001",
        Customs::ShanghaiZs,
        "M",
    );
    assert!(matches!(
        c.customs_declare(&wrong).await.unwrap_err(),
        Error::Protocol { .. }
    ));

    let declare = CustomsDeclare::new(no("C1"), tid.clone(), Customs::ShanghaiZs, "MCH-CUSTOMS-1")
        .duty(Fen::new(88))
        .payer_id_card("330821198809085211", "张三");
    let d = c.customs_declare(&declare).await.unwrap();
    assert_eq!(d.state, CustomsState::Submitted);
    assert_eq!(d.transaction_id.as_deref(), Some(tid.as_str()));
    assert_eq!(
        d.raw.get("sign_type"),
        Some("MD5"),
        "the answer names its algorithm"
    );
    // ADD again: the declaration as it is, not a second one.
    let again = c.customs_declare(&declare).await.unwrap();
    assert_eq!(again.sub_order_id, d.sub_order_id);

    let q = c
        .customs_query(&CustomsQuery::new(no("C1"), Customs::ShanghaiZs))
        .await
        .unwrap();
    assert_eq!(q.records.len(), 1);
    let r = &q.records[0];
    assert_eq!(r.state, CustomsState::Success);
    assert_eq!(
        (r.order_fee, r.duty),
        (Some(Fen::new(888)), Some(Fen::new(88)))
    );
    assert_eq!(r.customs, Some(Customs::ShanghaiZs));

    let re = c.customs_redeclare(&early).await.unwrap();
    assert_eq!(re.state, CustomsState::Success);
    assert!(re.explanation.is_some());
    // Another office knows nothing of it.
    let none = c
        .customs_query(&CustomsQuery::new(no("C1"), Customs::Ningbo))
        .await
        .unwrap_err();
    assert_eq!(none.err_code(), Some(&ErrCode::OrderNotExist));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_exchange_rate_is_read_in_either_documented_form() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let usd = c
        .exchange_rate(&ExchangeRateQuery::new(Currency::Usd, "20261203").unwrap())
        .await
        .unwrap();
    assert_eq!(usd.fee_type, Some(Currency::Usd));
    assert_eq!(usd.cny_per_unit_e8(), Some(720_000_000));
    assert!(ExchangeRateQuery::new(Currency::Usd, "2026-12-03").is_err());
    sim.shutdown().await;
}
