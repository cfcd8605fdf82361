//! Sets `cfg(tenpay_postgres)` when `TENPAY_TEST_POSTGRES_URL` is set, so the PostgreSQL test
//! shows as ignored, with its reason, everywhere else.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(tenpay_postgres)");
    println!("cargo::rerun-if-env-changed=TENPAY_TEST_POSTGRES_URL");
    if std::env::var_os("TENPAY_TEST_POSTGRES_URL").is_some() {
        println!("cargo::rustc-cfg=tenpay_postgres");
    }
}
