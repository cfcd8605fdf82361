//! The docs' shell blocks for the `tenpay` command run as written (see `support/doc_blocks.rs`).
#![allow(missing_docs)]

#[path = "support/doc_blocks.rs"]
mod doc_blocks;

#[test]
fn the_docs_shell_blocks_for_tenpay_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_tenpay"));
    let ran = doc_blocks::run_blocks(&root, "tenpay", bin.parent().unwrap());
    // The walk in the command's README at least: a lost marker would run nothing.
    assert!(ran >= 1, "no block marked for tenpay was found");
}
