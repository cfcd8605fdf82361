//! Face pay against the simulator: the SDK credential (an answer without `result_code`),
//! a charge of a face code, its query and its reversal over TLS; an answer lost after the
//! charge is in doubt.

use super::*;
use tenpay_client::{FaceAuthInfo, FacePay, FacePayQuery, FacePayReverse};

fn face(n: &str, code: &str) -> FacePay {
    FacePay::new(
        "刷脸",
        no(n),
        Fen::new(1200),
        "127.0.0.1",
        "oFace0000000000000000000001",
        code,
    )
}

#[tokio::test]
async fn a_face_is_authorised_charged_queried_and_reversed() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let auth = c
        .face_auth_info(&FaceAuthInfo::new(
            "S1",
            "门店",
            "D1",
            "raw-sdk-data",
            1_700_000_000,
        ))
        .await
        .unwrap();
    assert!(auth.authinfo.starts_with("SIMAUTH"), "{auth:?}");
    assert_eq!(auth.expires_in, Some(3600));
    assert!(
        !auth.raw.contains("result_code"),
        "the real answer has none"
    );

    let paid = c.face_pay(&face("F1", "opaque-face-code")).await.unwrap();
    let paid = paid.done().unwrap();
    assert_eq!(
        (paid.total_fee.get(), paid.openid.as_deref()),
        (1200, Some("oFace0000000000000000000001"))
    );
    let q = c
        .face_pay_query(&FacePayQuery::new(OrderQuery::by_out_trade_no(no("F1"))))
        .await
        .unwrap();
    assert_eq!(q.trade_state, TradeState::Success);
    let r = c
        .face_pay_reverse(&FacePayReverse::new(no("F1")))
        .await
        .unwrap();
    assert!(!r.done().unwrap().recall());
    assert_eq!(sim.order("F1").unwrap().trade_state, "REVOKED");

    // A face code written like a payment code chooses the simulator's scenario:
    // ...90 answers SYSTEMERROR although it charged, so the outcome is in doubt.
    let outcome = c.face_pay(&face("F2", "134567890123456790")).await.unwrap();
    assert!(matches!(outcome, Outcome::Unknown(_)), "{outcome:?}");
    let q = c
        .face_pay_query(&FacePayQuery::new(OrderQuery::by_out_trade_no(no("F2"))))
        .await
        .unwrap();
    assert_eq!(
        q.trade_state,
        TradeState::Success,
        "it was charged after all"
    );
    sim.shutdown().await;
}

/// The official face SDK flow: the merchant's server sends the SDK's face code to micropay as
/// the payment code. The simulator's face code pays once, by its payer; a used one and an
/// opaque code it never gave are refused.
#[tokio::test]
async fn a_face_code_pays_through_micropay_once() {
    let sim = sim().await;
    let c = client(&sim, SignType::Md5);
    let code = sim.face_code("oFaceFlow00000000000000001");
    let charge = |n: &str, code: &str| {
        Micropay::new("刷脸", no(n), Fen::new(900), "127.0.0.1", code.to_owned())
    };
    let paid = c
        .micropay(&charge("FM1", &code))
        .await
        .unwrap()
        .done()
        .unwrap();
    assert_eq!(paid.openid.as_deref(), Some("oFaceFlow00000000000000001"));
    assert_eq!(sim.order("FM1").unwrap().trade_type, "MICROPAY");
    // The same order again answers the payment; the code does not pay a second order.
    assert!(
        c.micropay(&charge("FM1", &code))
            .await
            .unwrap()
            .done()
            .is_some()
    );
    for (n, code) in [("FM2", code.as_str()), ("FM3", "face-code-never-given")] {
        let refused = c.micropay(&charge(n, code)).await.unwrap_err();
        assert_eq!(
            refused.cause().err_code().map(ErrCode::as_str),
            Some("AUTH_CODE_INVALID"),
            "{n}"
        );
        assert!(sim.order(n).is_err(), "{n}: no order");
    }
    sim.shutdown().await;
}
