//! Many merchants through one client: sub-merchants per request, another merchant and another
//! app sharing the pool.

use super::*;

#[tokio::test]
async fn a_provider_calls_for_each_sub_merchant_through_one_client() {
    let sim = Simulator::builder()
        .merchant(
            MerchantAccount::new(APPID, MCH, key())
                .sub_merchant("1900000109", None)
                .sub_merchant("1900000110", Some("wx1111111111111111".into())),
        )
        .start()
        .await
        .unwrap();
    let provider = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    for (no_, sub, sub_appid) in [
        ("SM1", "1900000109", None),
        ("SM2", "1900000110", Some("wx1111111111111111".to_owned())),
    ] {
        let c = provider.with_sub_merchant(sub, sub_appid.clone());
        c.unified_order(&order(no_)).await.unwrap();
        assert_eq!(sim.order(no_).unwrap().sub_mch_id.as_deref(), Some(sub));
        let q = c
            .order_query(&OrderQuery::by_out_trade_no(no(no_)))
            .await
            .unwrap();
        assert_eq!(q.trade_state, TradeState::NotPay);
        // Pay parameters name the sub-merchant.
        let p = c.app_params("wx_prepay");
        assert_eq!(p.partnerid, sub);
        if let Some(a) = &sub_appid {
            assert_eq!(&p.appid, a);
        }
    }
    // An unknown sub-merchant is refused by WeChat Pay (the simulator), not by us.
    let e = provider
        .with_sub_merchant("1900000999", None)
        .unified_order(&order("SM3"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Protocol { .. } | Error::Business { .. }),
        "{e}"
    );
    // The provider itself is unchanged.
    assert!(
        provider
            .order_query(&OrderQuery::by_out_trade_no(no("SM1")))
            .await
            .is_err()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn another_merchant_shares_the_pool_with_its_own_key() {
    let sim = sim().await;
    let first = Client::builder(merchant(SignType::Md5))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let second = first
        .with_merchant(
            tenpay_client::Merchant::new(
                "wx0000000000000002",
                "10000200",
                ApiKey::new("another-merchant-key-000000000000").unwrap(),
                SignType::HmacSha256,
            ),
            None,
        )
        .unwrap();
    first.unified_order(&order("MM1")).await.unwrap();
    second.unified_order(&order("MM2")).await.unwrap();
    assert_eq!(sim.order("MM1").unwrap().mch_id, MCH);
    assert_eq!(sim.order("MM2").unwrap().mch_id, "10000200");
    assert_eq!(sim.order("MM2").unwrap().sign_type, "HMAC-SHA256");
    assert_eq!(second.merchant().mch_id(), "10000200");
    // Refunds need the second merchant's own certificate.
    let e = second
        .refund(&refund_of("MM2", "MMR2", 1))
        .await
        .unwrap_err();
    assert!(matches!(e.cause(), Error::NoIdentity { .. }), "{e}");
    sim.shutdown().await;
}

#[tokio::test]
async fn another_app_of_the_merchant_is_checked_against_its_own_appid() {
    let answer = |appid: &str| {
        let mut m = tenpay_xml::XmlMap::new();
        for (k, v) in [
            ("return_code", "SUCCESS"),
            ("result_code", "SUCCESS"),
            ("appid", appid),
            ("mch_id", MCH),
            ("nonce_str", "n"),
            ("out_trade_no", "A1"),
            ("trade_state", "NOTPAY"),
        ] {
            m.insert(k, v).unwrap();
        }
        m.sign(&key(), SignType::Md5).unwrap();
        m.to_xml().into_bytes()
    };
    let base = fixed_server(vec![("/pay/orderquery", answer("wxminiprogram0001"))]).await;
    let app = Client::builder(merchant(SignType::Md5))
        .base_url(&base)
        .build()
        .unwrap();
    let mini = app.with_appid("wxminiprogram0001");
    let query = OrderQuery::by_out_trade_no(no("A1"));
    assert!(mini.order_query(&query).await.is_ok());
    assert!(matches!(
        app.order_query(&query).await,
        Err(Error::ForeignAnswer { field: "appid", .. })
    ));
    assert_eq!(mini.jsapi_params("p").app_id, "wxminiprogram0001");
}
