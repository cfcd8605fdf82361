//! A service provider configures a sub-merchant's JSAPI directories and appids against the
//! simulator (certificate, MD5, no nonce).

use super::*;
use tenpay_client::{SubDevConfig, SubDevConfigQuery};

#[tokio::test]
async fn a_sub_merchant_is_configured_and_read_back() {
    let sim = Simulator::builder()
        .merchant(MerchantAccount::new(APPID, MCH, key()).sub_merchant("1900000109", None))
        .tls(true)
        .start()
        .await
        .unwrap();
    // An HMAC provider: these routes sign MD5 whatever it uses.
    let c = client(&sim, SignType::HmacSha256);
    let body = c
        .request_body(&SubDevConfig::jsapi_path(
            "1900000109",
            "https://shop.example/pay/",
        ))
        .unwrap();
    assert!(
        !body.contains("nonce_str") && !body.contains("sign_type"),
        "{body}"
    );
    for path in [
        "https://shop.example/pay/",
        "https://shop.example/pay/",
        "https://m.example/",
    ] {
        c.add_sub_dev_config(&SubDevConfig::jsapi_path("1900000109", path))
            .await
            .unwrap();
    }
    c.add_sub_dev_config(&SubDevConfig::sub_appid("1900000109", "wxa9d9651ae82ec4b9"))
        .await
        .unwrap();
    let bad = c
        .add_sub_dev_config(&SubDevConfig::jsapi_path("1900000109", "https://no-slash"))
        .await
        .unwrap_err();
    assert_eq!(bad.err_code().map(ErrCode::as_str), Some("PARAM_ERROR"));
    let config = c
        .sub_dev_config(&SubDevConfigQuery::new("1900000109"))
        .await
        .unwrap();
    assert_eq!(
        config.jsapi_paths,
        ["https://shop.example/pay/", "https://m.example/"],
        "a repeat is kept once"
    );
    assert_eq!(
        config.appids[0].sub_appid.as_deref(),
        Some("wxa9d9651ae82ec4b9")
    );
    // A sub-merchant the provider does not have.
    assert!(
        c.sub_dev_config(&SubDevConfigQuery::new("1900000999"))
            .await
            .is_err()
    );
    sim.shutdown().await;
}
