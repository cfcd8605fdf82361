//! Sets `cfg(tenpay_postgres)` when `TENPAY_TEST_POSTGRES_URL` is set and `cfg(tenpay_browser)`
//! when `TENPAY_TEST_CHROMEDRIVER` is set, so the PostgreSQL tests and the browser test show as
//! ignored, with their reasons, everywhere else.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(tenpay_postgres)");
    println!("cargo::rustc-check-cfg=cfg(tenpay_browser)");
    println!("cargo::rerun-if-env-changed=TENPAY_TEST_CHROMEDRIVER");
    if std::env::var_os("TENPAY_TEST_CHROMEDRIVER").is_some() {
        println!("cargo::rustc-cfg=tenpay_browser");
    }
    println!("cargo::rerun-if-env-changed=TENPAY_TEST_POSTGRES_URL");
    if std::env::var_os("TENPAY_TEST_POSTGRES_URL").is_some() {
        println!("cargo::rustc-cfg=tenpay_postgres");
    }
}
