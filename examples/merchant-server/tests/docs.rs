//! The docs' shell blocks for the merchant server run as written (`docs/GUIDE.md`; the
//! runner is the `tenpay` command's `tests/support/doc_blocks.rs`).
#![allow(missing_docs)]

#[path = "../../../crates/tenpay-cli/tests/support/doc_blocks.rs"]
mod doc_blocks;

#[test]
fn the_docs_shell_blocks_for_the_merchant_server_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_merchant-server"));
    let ran = doc_blocks::run_blocks(&root, "merchant-server", bin.parent().unwrap());
    assert!(ran >= 1, "no block marked for merchant-server was found");
}
