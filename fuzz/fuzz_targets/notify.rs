//! The notification entry point never panics, whatever arrives at the notify URL; a body with
//! a valid signature on a random message verifies, and anything verified settles only at its
//! own amount.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenpay_notify::{Notification, Notifier};
use tenpay_sign::{ApiKey, SignType};

fuzz_target!(|data: &[u8]| {
    let key = ApiKey::new("192006250b4c09247ec02edce69f6a2d").expect("key");
    for st in [SignType::Md5, SignType::HmacSha256] {
        let n = Notifier::new(&tenpay_sign::Merchant::new("wx2421b1c4370ec43b", "10000100", key.clone(), st));
        if let Ok(Notification::Pay(p)) = n.handle(data) {
            let fee = p.total_fee();
            assert!(p.clone().settle(tenpay_xml::Fen::new(fee.get().wrapping_add(1))).is_err());
        }
        let _ = n.clone().infer_sign_type_from_length().handle(data);
    }
    // A bare req_info too.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tenpay_notify::decrypt_req_info(&key, text);
    }
});
