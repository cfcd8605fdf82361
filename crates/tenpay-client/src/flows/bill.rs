//! Bills streamed to a writer: one request, the answer copied in bounded memory.

use crate::bill::read_text;
use crate::error::excerpt;
use crate::*;

async fn next_chunk(r: &mut reqwest::Response) -> Result<Option<bytes::Bytes>, Error> {
    r.chunk().await.map_err(client::transport)
}

impl Client {
    /// Downloads a trade bill into `out`, streamed: the text (inflated when the answer is
    /// gzip), at most
    /// [`ClientBuilder::max_streamed_bill_bytes`](crate::ClientBuilder::max_streamed_bill_bytes)
    /// of it, without holding the bill in memory. Read it back with [`BillReader`]. Sent once:
    /// a download that failed half-way is started again by you, into a fresh writer.
    ///
    /// Returns the number of bytes written, or "no bill".
    ///
    /// # Errors
    /// As [`Client::download_bill`]; [`Error::TooLarge`] over the limit; [`Error::Write`]
    /// when `out` fails.
    pub async fn download_bill_to<W>(
        &self,
        request: &DownloadBill,
        out: &mut W,
    ) -> Result<BillOutcome<u64>, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        self.stream_bill(request, out, true).await
    }

    /// As [`Client::download_bill_to`], but writes the bill as WeChat Pay sent it: a gzip
    /// answer (asked for with [`DownloadBill::gzip`]) stays gzip, capped at
    /// [`ClientBuilder::max_streamed_bill_bytes`](crate::ClientBuilder::max_streamed_bill_bytes)
    /// compressed.
    /// [`BillReader`] reads it back through a gzip decoder.
    ///
    /// # Errors
    /// As [`Client::download_bill_to`].
    pub async fn download_bill_raw_to<W>(
        &self,
        request: &DownloadBill,
        out: &mut W,
    ) -> Result<BillOutcome<u64>, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        self.stream_bill(request, out, false).await
    }

    async fn stream_bill<W>(
        &self,
        request: &DownloadBill,
        out: &mut W,
        inflate: bool,
    ) -> Result<BillOutcome<u64>, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        use std::io::Write as _;
        use tokio::io::AsyncWriteExt as _;

        let max = self.max_streamed_bill_bytes();
        let limit = usize::try_from(max).unwrap_or(usize::MAX);
        let mut response = self.open(request).await?;
        let status = response.status().as_u16();
        let first = next_chunk(&mut response).await?.unwrap_or_default();
        if status != 200 || first.trim_ascii_start().starts_with(b"<") {
            // An error page or the XML error / "no bill" answer: small, read whole.
            let mut body = first.to_vec();
            while let Some(chunk) = next_chunk(&mut response).await? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(Error::TooLarge {
                        limit: MAX_ANSWER_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            if status != 200 {
                return Err(Error::Http {
                    status,
                    excerpt: excerpt(&body),
                });
            }
            let text = read_text(Answer {
                body: body.into(),
                inflate_limit: limit,
            })?;
            return match text {
                BillOutcome::Bill(t) => {
                    out.write_all(t.as_bytes()).await.map_err(Error::Write)?;
                    Ok(BillOutcome::Bill(t.len() as u64))
                }
                BillOutcome::NoBill {
                    return_msg,
                    error_code,
                } => Ok(BillOutcome::NoBill {
                    return_msg,
                    error_code,
                }),
            };
        }
        let too_large = |n: u64| n > max;
        let mut written = 0u64;
        let bad_gzip = |e: std::io::Error| Error::NotXml {
            reason: format!("bad gzip bill: {e}"),
            excerpt: String::new(),
        };
        if inflate && first.starts_with(&[0x1f, 0x8b]) {
            // Every member, through the limit, one answer chunk at a time.
            let mut inflate = flate2::write::MultiGzDecoder::new(Vec::new());
            let mut chunk = Some(first);
            loop {
                if let Some(c) = &chunk {
                    inflate.write_all(c).map_err(bad_gzip)?;
                } else {
                    inflate.try_finish().map_err(bad_gzip)?;
                }
                let inflated = inflate.get_mut();
                written += inflated.len() as u64;
                if too_large(written) {
                    return Err(Error::TooLarge { limit });
                }
                out.write_all(inflated).await.map_err(Error::Write)?;
                inflated.clear();
                if chunk.is_none() {
                    break;
                }
                chunk = next_chunk(&mut response).await?;
            }
        } else {
            let mut chunk = Some(first);
            while let Some(c) = chunk {
                written += c.len() as u64;
                if too_large(written) {
                    return Err(Error::TooLarge { limit });
                }
                out.write_all(&c).await.map_err(Error::Write)?;
                chunk = next_chunk(&mut response).await?;
            }
        }
        out.flush().await.map_err(Error::Write)?;
        Ok(BillOutcome::Bill(written))
    }
}
