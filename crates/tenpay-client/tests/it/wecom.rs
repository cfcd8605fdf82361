//! WeCom red packets against the simulator over TLS: `workwx_sign` made with the merchant's
//! WeCom secret and checked by the simulator; a wrong secret or a missing one is refused
//! before anything is paid; the packet reads back by its number.

use super::*;
use tenpay_client::{MchBillno, RedpackStatus, WeComRedpack, WeComRedpackQuery};

const CORPID: &str = "ww0000000000000001";
const SECRET: &str = "wecom-payment-app-secret-0000001";

async fn wecom_sim() -> SimHandle {
    Simulator::builder()
        .merchant(
            MerchantAccount::new(APPID, MCH, key()).wecom(CORPID, ApiKey::new(SECRET).unwrap()),
        )
        .tls(true)
        .start()
        .await
        .unwrap()
}

fn wecom_client(sim: &SimHandle, secret: Option<&str>) -> Client {
    let mut m = merchant(SignType::Md5);
    if let Some(s) = secret {
        m = m.with_wecom_secret(ApiKey::new(s).unwrap());
    }
    Client::builder(m)
        .base_url(sim.tls_base_url().unwrap())
        .add_root_certificate_pem(sim.tls().unwrap().ca_pem.clone())
        .identity(Identity::from_pkcs12(
            sim.tls().unwrap().identity(MCH).unwrap().pkcs12.clone(),
        ))
        .build()
        .unwrap()
}

fn packet(no: &str) -> WeComRedpack {
    WeComRedpack::new(
        MchBillno::new(no).unwrap(),
        CORPID,
        "1000002",
        "oxTWIuGaIt6gTKsQRLau2M0yL16E",
        Fen::new(1000),
        "感谢您参加猜灯谜活动",
        "猜灯谜抢红包活动",
        "猜越多得越多",
    )
}

#[tokio::test]
async fn a_wecom_packet_is_countersigned_sent_once_and_read_back() {
    let sim = wecom_sim().await;
    let c = wecom_client(&sim, Some(SECRET));
    let body = c.request_body(&packet("W1")).unwrap();
    assert!(body.contains("<workwx_sign>"), "{body}");
    assert!(!body.contains("total_num") && !body.contains("<appid>"));

    let sent = c.send_wecom_redpack(&packet("W1")).await.unwrap();
    assert_eq!(sent.done().unwrap().total_amount, Some(Fen::new(1000)));
    // The same number again is the same packet.
    let again = c.send_wecom_redpack(&packet("W1")).await.unwrap();
    assert!(again.done().is_some());
    assert_eq!(sim.balance(MCH).unwrap().get(), 1_000_000_000 - 1000);

    let info = c
        .wecom_redpack_query(&WeComRedpackQuery::new(
            MchBillno::new("W1").unwrap(),
            CORPID,
        ))
        .await
        .unwrap();
    assert_eq!(info.status, RedpackStatus::Sent);
    assert_eq!(info.openid.as_deref(), Some("oxTWIuGaIt6gTKsQRLau2M0yL16E"));

    // The other sender form.
    let named = packet("W2").from_sender("XX活动", None);
    assert!(c.send_wecom_redpack(&named).await.unwrap().done().is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_wecom_secret_pays_nothing() {
    let sim = wecom_sim().await;
    let wrong = wecom_client(&sim, Some("not-the-secret-0000000000000000"));
    let e = wrong.send_wecom_redpack(&packet("W3")).await.unwrap_err();
    assert_eq!(e.err_code().map(ErrCode::as_str), Some("SIGN_ERROR"));
    // Without a secret the request is not even signed, so not sent.
    let none = wecom_client(&sim, None);
    let e = none.send_wecom_redpack(&packet("W4")).await.unwrap_err();
    assert_eq!(e.because(), RefusedBecause::NotSent);
    let cause = format!("{:?}", e.cause());
    assert!(cause.contains("WeCom secret"), "{cause}");
    assert_eq!(sim.balance(MCH).unwrap().get(), 1_000_000_000);
    assert!(sim.redpacks().is_empty());
    sim.shutdown().await;
}
