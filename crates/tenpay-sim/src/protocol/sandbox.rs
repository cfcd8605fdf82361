//! The sandbox: `getsignkey` hands out the key the sandbox signs with.

use tenpay_xml::XmlMap;

use super::{Reply, Req, Verdict};

/// `/sandboxnew/pay/getsignkey`: an unsigned answer carrying the sandbox key.
pub(super) fn get_sign_key(req: &Req<'_>) -> Verdict {
    let mut m = XmlMap::new();
    let _ = m.insert("return_code", "SUCCESS");
    let _ = m.insert("return_msg", "ok");
    let _ = m.insert("mch_id", &req.merchant.mch_id);
    let _ = m.insert("sandbox_signkey", req.merchant.sandbox_key.expose_secret());
    Verdict::Reply(Reply::Xml(m.to_xml()))
}
