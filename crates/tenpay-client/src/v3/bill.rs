//! Bills: the trade bill and the fund-flow bill, as a link (`hash_type`, `hash_value`,
//! `download_url`), then the file itself streamed to a writer (unsigned: its integrity is
//! the hash, checked over the uncompressed bill as it streams).

use std::io::Write;

use reqwest::Method;
use sha1::Digest as _;

use super::client::segment;
use super::{Client, Error};

/// A bill ready to download.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct BillLink {
    /// `SHA1`.
    pub hash_type: String,
    /// The bill's digest, lower-case hex (of the uncompressed bill).
    pub hash_value: String,
    /// Where the file is: a one-time URL on WeChat Pay's host.
    pub download_url: String,
}

/// The default largest bill streamed (1 GiB): memory stays bounded; this bounds the output.
pub const DEFAULT_MAX_BILL_BYTES: u64 = 1 << 30;

/// Feeds the uncompressed bill to the writer and the digest, and counts it.
struct Sink<'w, W: Write> {
    out: &'w mut W,
    hash: sha1::Sha1,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Sink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written += buf.len() as u64;
        if self.written > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "over the bill limit",
            ));
        }
        self.hash.update(buf);
        self.out.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Client {
    /// The trade bill of a day (`yyyy-MM-dd`), `ALL`, `SUCCESS` or `REFUND`; gzip on the
    /// wire when `gzip`.
    ///
    /// # Errors
    /// [`Error::Api`] (`NO_STATEMENT_EXIST` for a day without trades), and those of
    /// [`Client::request`].
    pub async fn trade_bill(
        &self,
        date: &str,
        bill_type: &str,
        gzip: bool,
    ) -> Result<BillLink, Error> {
        self.bill_link("tradebill", date, ("bill_type", bill_type), gzip)
            .await
    }

    /// The fund-flow bill of a day, for `BASIC`, `OPERATION` or `FEES`.
    ///
    /// # Errors
    /// As [`Client::trade_bill`].
    pub async fn fund_flow_bill(
        &self,
        date: &str,
        account_type: &str,
        gzip: bool,
    ) -> Result<BillLink, Error> {
        self.bill_link("fundflowbill", date, ("account_type", account_type), gzip)
            .await
    }

    async fn bill_link(
        &self,
        kind: &str,
        date: &str,
        (name, value): (&str, &str),
        gzip: bool,
    ) -> Result<BillLink, Error> {
        let mut path = format!(
            "/v3/bill/{kind}?bill_date={}&{name}={}",
            segment(date),
            segment(value)
        );
        if gzip {
            path.push_str("&tar_type=GZIP");
        }
        if let Some(sub) = self.sub() {
            path.push_str(&format!("&sub_mchid={}", segment(&sub.sub_mchid)));
        }
        self.json(Method::GET, &path, None).await
    }

    /// Downloads a bill to `out` (uncompressed), checking its SHA-1 against the link's as
    /// it streams; at most [`DEFAULT_MAX_BILL_BYTES`]. Returns the bytes written. The URL
    /// must be on this client's host (a link elsewhere is refused: the request is signed).
    /// Write to a temporary file and keep it only on `Ok`: on a hash mismatch the bytes
    /// written are not the bill.
    ///
    /// # Errors
    /// [`Error::HashMismatch`], [`Error::TooLarge`], [`Error::Decode`] for a link off the
    /// host or a broken gzip, and those of [`Client::request`].
    pub async fn download_bill(&self, link: &BillLink, out: &mut impl Write) -> Result<u64, Error> {
        let path = self.path_on_host(&link.download_url).ok_or_else(|| {
            Error::Decode(format!(
                "download_url {} is not on {}",
                link.download_url,
                self.base()
            ))
        })?;
        if !link.hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(Error::Decode(format!(
                "hash_type {} is not SHA1",
                link.hash_type
            )));
        }
        let mut response = self.open(Method::GET, &path).await?;
        let mut sink = Sink {
            out,
            hash: sha1::Sha1::new(),
            written: 0,
            limit: DEFAULT_MAX_BILL_BYTES,
        };
        let fail = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                Error::TooLarge(usize::try_from(DEFAULT_MAX_BILL_BYTES).unwrap_or(usize::MAX))
            } else {
                Error::Decode(format!("writing the bill: {e}"))
            }
        };
        // Gzip (asked with `tar_type=GZIP`) is told by its magic bytes, not by the URL; a
        // bill's text starts with a byte order mark, never with 1F 8B.
        let mut first = Vec::new();
        while first.len() < 2 {
            match response.chunk().await.map_err(Error::Transport)? {
                Some(chunk) => first.extend_from_slice(&chunk),
                None => break,
            }
        }
        if first.is_empty() {
            return Err(Error::Decode("the bill is empty".into()));
        }
        if first.starts_with(&[0x1f, 0x8b]) {
            let mut inflate = flate2::write::GzDecoder::new(&mut sink);
            inflate.write_all(&first).map_err(fail)?;
            while let Some(chunk) = response.chunk().await.map_err(Error::Transport)? {
                inflate.write_all(&chunk).map_err(fail)?;
            }
            inflate.finish().map_err(fail)?;
        } else {
            sink.write_all(&first).map_err(fail)?;
            while let Some(chunk) = response.chunk().await.map_err(Error::Transport)? {
                sink.write_all(&chunk).map_err(fail)?;
            }
        }
        let actual = hex::encode(sink.hash.finalize());
        if !actual.eq_ignore_ascii_case(&link.hash_value) {
            return Err(Error::HashMismatch {
                expected: link.hash_value.clone(),
                actual,
            });
        }
        Ok(sink.written)
    }
}
