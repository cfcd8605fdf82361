//! Differential: every input our strict reader accepts, quick-xml reads as the same fields.
//! (Inputs we refuse are either refused by quick-xml or outside the documented subset:
//! attributes, comments, processing instructions, DTDs, duplicates, raw control characters.)
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/tenpay-xml/tests/oracle/mod.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    let Ok(ours) = tenpay_xml::Parser::new().parse(data) else { return };
    let text = std::str::from_utf8(data).expect("accepted input is UTF-8");
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let theirs = oracle::quick_xml_fields(text, "xml")
        .unwrap_or_else(|e| panic!("we accepted what quick-xml refuses ({e}): {text:?}"));
    let ours: Vec<(String, String)> = ours.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    assert_eq!(ours, theirs, "input: {text:?}");
});
