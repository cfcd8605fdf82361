//! `req_info` encryption, written here from the protocol (not shared with tenpay-notify, so
//! that a mistake on one side is caught by the other).

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeEncrypt, KeyInit};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use tenpay_sign::ApiKey;

/// base64(AES-256-ECB(PKCS#7(plaintext))), key = the 32 ASCII bytes of lowercase hex MD5(API key).
pub(crate) fn encrypt_req_info(key: &ApiKey, plaintext: &[u8]) -> String {
    let digest = crate::model::md5_of(key.expose_secret());
    let hex = crate::ids::hex_upper(&digest).to_ascii_lowercase();
    let mut aes_key = [0u8; 32];
    aes_key.copy_from_slice(hex.as_bytes());
    let ct = ecb::Encryptor::<Aes256>::new(&aes_key.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    BASE64_STANDARD.encode(ct)
}
