//! The reader never panics; whatever it reads writes back and reads equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenpay_xml::{Parser, XmlMap};

fuzz_target!(|data: &[u8]| {
    for root in ["xml", "root"] {
        if let Ok(map) = Parser::new().root(root).parse(data) {
            let written = map.to_xml_with_root(root);
            let again = Parser::new().root(root).max_bytes(usize::MAX).parse(written.as_bytes()).expect("our own output reads");
            assert_eq!(again, map);
            let _ = map.canonical_string();
        }
    }
    let _ = XmlMap::parse(data);
});
