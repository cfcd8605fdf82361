//! Reading messages and keys.

use std::io::Read as _;

use tenpay_sign::ApiKey;
use tenpay_xml::XmlMap;

use crate::KeyArgs;

/// A failure with its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

/// An error and its causes, `outer: inner` (each layer displays only itself).
pub(crate) fn report(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(crate) fn bad_input(message: impl Into<String>) -> Failure {
    Failure {
        code: 3,
        message: message.into(),
    }
}

pub(crate) fn key_problem(message: impl Into<String>) -> Failure {
    Failure {
        code: 4,
        message: message.into(),
    }
}

pub(crate) fn network(message: impl Into<String>) -> Failure {
    Failure {
        code: 5,
        message: message.into(),
    }
}

/// The largest input read (messages are small; this bounds a mistaken pipe).
const MAX_INPUT: u64 = 1 << 20;

pub(crate) fn read_input(file: &str) -> Result<Vec<u8>, Failure> {
    let mut data = Vec::new();
    let result = if file == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut data)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut data))
    };
    result.map_err(|e| {
        bad_input(format!(
            "cannot read {}: {e}",
            if file == "-" { "standard input" } else { file }
        ))
    })?;
    if data.len() as u64 > MAX_INPUT {
        return Err(bad_input(format!("input is larger than {MAX_INPUT} bytes")));
    }
    Ok(data)
}

/// A message's fields, in the order received: from a JSON object (straight to the signer: any
/// name the signer accepts, XML element name or not) or from an `<xml>` message (through the
/// hardened reader).
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// The message as fields: a JSON object (strings and numbers) or an `<xml>` message.
pub(crate) fn parse_message(data: &[u8]) -> Result<Fields, Failure> {
    let trimmed = data
        .strip_prefix("\u{FEFF}".as_bytes())
        .unwrap_or(data)
        .trim_ascii_start();
    match trimmed.first() {
        Some(b'{') => {
            let value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(trimmed)
                .map_err(|e| bad_input(format!("not a JSON object: {e}")))?;
            let mut fields = Vec::with_capacity(value.len());
            for (k, v) in value {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Null => String::new(),
                    other => {
                        return Err(bad_input(format!(
                            "field {k:?} is not a string or number: {other}"
                        )));
                    }
                };
                fields.push((k, v));
            }
            Ok(Fields(fields))
        }
        Some(b'<') => {
            let map = XmlMap::parse(data)
                .map_err(|e| bad_input(format!("not an acceptable <xml> message: {e}")))?;
            Ok(Fields(
                map.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ))
        }
        _ => Err(bad_input(
            "input is neither a JSON object nor an <xml> message",
        )),
    }
}

/// The API key of the offline commands (`sign`, `verify`, `decrypt-refund`, `notify`): the
/// same lookup as the profiles and the merchant server ([`crate::profile::api_key`]), without
/// a profile.
pub(crate) fn load_key(args: &KeyArgs) -> Result<ApiKey, Failure> {
    crate::profile::api_key(args, None).map(|(key, _)| key)
}
