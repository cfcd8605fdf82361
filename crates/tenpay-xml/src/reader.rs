//! The strict reader for the envelope's subset of XML.
//!
//! The subset, and nothing more:
//! - an optional UTF-8 byte order mark, then an optional XML declaration
//!   (`<?xml version="1.x" encoding="UTF-8" standalone="yes|no"?>`, encoding UTF-8 only);
//! - one root element (name given by the caller) without attributes, holding only leaf elements
//!   without attributes, separated by optional whitespace; `<name/>` is an empty value;
//! - values made of text and CDATA sections in any mix; the five predefined entities and
//!   decimal or hex character references decode; everything else is kept byte for byte
//!   (no trimming, no line-end normalization);
//! - whitespace after the root;
//! - with [`Parser::parse_records`] only, one list of records of leaf fields (the few V2
//!   answers that are not flat).
//!
//! Refused with a typed error: document type declarations of any kind (so no entity is ever
//! declared, expanded or fetched), unknown entities, comments, processing instructions,
//! attributes, nested elements, duplicate field names, text between fields, content after
//! the root, a `]]>` in text, characters XML 1.0 forbids, invalid UTF-8, and input over the
//! size or field-count limit (checked before anything is read).

use crate::error::{Error, quote};
use crate::map::{XmlMap, xml_char};
use crate::names::{name_byte, valid_name};

/// The default body limit: 64 KiB.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;
/// The default field-count limit. The largest V2 answers (refundquery with ten refunds and
/// their coupons) stay well below it.
pub const DEFAULT_MAX_FIELDS: usize = 512;

/// A configured reader: expected root, size limit, field limit.
///
/// ```
/// use tenpay_xml::Parser;
/// let map = Parser::new().root("root").parse(b"<root><refund_fee>6</refund_fee></root>")?;
/// assert_eq!(map.get("refund_fee"), Some("6"));
/// assert!(Parser::new().max_bytes(10).parse(b"<xml><a>1</a></xml>").is_err());
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Parser {
    root: String,
    max_bytes: usize,
    max_fields: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// Root `xml`, [`DEFAULT_MAX_BYTES`], [`DEFAULT_MAX_FIELDS`].
    #[must_use]
    pub fn new() -> Self {
        Self {
            root: "xml".to_owned(),
            max_bytes: DEFAULT_MAX_BYTES,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }

    /// The expected root element (`xml` for messages, `root` for the decrypted refund payload).
    #[must_use]
    pub fn root(mut self, root: impl Into<String>) -> Self {
        self.root = root.into();
        self
    }

    /// The largest body accepted, in bytes.
    #[must_use]
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// The most fields accepted.
    #[must_use]
    pub fn max_fields(mut self, max: usize) -> Self {
        self.max_fields = max;
        self
    }

    /// Reads a document.
    ///
    /// # Errors
    /// Any of the reading variants of [`Error`]; see the module documentation for the subset.
    pub fn parse(&self, input: &[u8]) -> Result<XmlMap, Error> {
        self.read(input, None).map(|(map, _)| map)
    }

    /// Reads a document with one list of records, the V2 answers that are not flat: `item`
    /// elements holding leaf fields, inside one `list` element (`Some`: gethbinfo's
    /// `<hblist><hbinfo>…</hbinfo></hblist>`) or directly under the root, repeated (`None`).
    /// Returns the flat fields and each record's fields, in order. Anything else nested is
    /// refused as in [`Parser::parse`], and so is a second `list`, text inside it, or a
    /// record nested deeper; records and their fields count against the field limit.
    ///
    /// ```
    /// use tenpay_xml::Parser;
    /// let body = b"<xml><total>2</total><hblist><hbinfo><openid>o1</openid></hbinfo>\
    ///     <hbinfo><openid>o2</openid></hbinfo></hblist></xml>";
    /// let (flat, items) = Parser::new().parse_records(body, Some("hblist"), "hbinfo")?;
    /// assert_eq!(flat.get("total"), Some("2"));
    /// assert!(!flat.contains("hblist"));
    /// assert_eq!(items[1].get("openid"), Some("o2"));
    /// assert!(Parser::new().parse(body).is_err(), "the flat reader refuses it");
    /// # Ok::<(), tenpay_xml::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Parser::parse`]; [`Error::InvalidName`] for an invalid `list` or `item` name.
    pub fn parse_records(
        &self,
        input: &[u8],
        list: Option<&str>,
        item: &str,
    ) -> Result<(XmlMap, Vec<XmlMap>), Error> {
        for name in list.into_iter().chain([item]) {
            if !valid_name(name) {
                return Err(Error::InvalidName(quote(name)));
            }
        }
        self.read(input, Some(Nest { list, item }))
    }

    fn read(&self, input: &[u8], nest: Option<Nest<'_>>) -> Result<(XmlMap, Vec<XmlMap>), Error> {
        if input.len() > self.max_bytes {
            return Err(Error::TooLarge {
                limit: self.max_bytes,
                actual: input.len(),
            });
        }
        if !valid_name(&self.root) {
            return Err(Error::InvalidName(quote(&self.root)));
        }
        let text = core::str::from_utf8(input).map_err(|e| Error::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut r = Cursor {
            s: text,
            b: text.as_bytes(),
            pos: 0,
            empty_root: false,
            seen: 0,
            budget: self.max_fields,
            limit: self.max_fields,
        };
        r.prolog()?;
        r.root_start(&self.root)?;
        let mut map = XmlMap::with_capacity(input.len(), 32);
        let mut items = Vec::new();
        if !r.empty_root {
            let mut records = nest.map(|n| (n, &mut items));
            r.fields(&mut map, &self.root, records.as_mut())?;
        }
        r.epilog()?;
        Ok((map, items))
    }
}

/// Where a document's records are: see [`Parser::parse_records`].
#[derive(Clone, Copy)]
struct Nest<'n> {
    list: Option<&'n str>,
    item: &'n str,
}

/// Reads a `<xml>` message with the default limits.
///
/// # Errors
/// See [`Parser::parse`].
pub fn parse(input: &[u8]) -> Result<XmlMap, Error> {
    Parser::new().parse(input)
}

fn name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

struct Cursor<'a> {
    /// The input, validated UTF-8: runs are sliced from it (an O(1) boundary check), never
    /// validated again.
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    empty_root: bool,
    seen: u64,
    /// Fields (and records) still allowed, of `limit`.
    budget: usize,
    limit: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b[self.pos..].starts_with(s)
    }

    fn skip_ws(&mut self) {
        while self.peek(0).is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), Error> {
        match self.peek(0) {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(Error::Syntax {
                what,
                offset: self.pos,
            }),
            None => Err(Error::UnexpectedEof),
        }
    }

    /// A name at the cursor; the text it borrows is the input's.
    fn name(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        match self.peek(0) {
            Some(b) if name_start(b) => self.pos += 1,
            Some(b':') => {
                return Err(Error::Unsupported {
                    what: "namespaced name",
                    offset: start,
                });
            }
            Some(_) => {
                return Err(Error::Syntax {
                    what: "expected an element name",
                    offset: start,
                });
            }
            None => return Err(Error::UnexpectedEof),
        }
        while self.peek(0).is_some_and(name_byte) {
            self.pos += 1;
        }
        if self.peek(0) == Some(b':') {
            return Err(Error::Unsupported {
                what: "namespaced name",
                offset: start,
            });
        }
        if self.peek(0).is_some_and(|b| b >= 0x80) {
            return Err(Error::InvalidName(quote(&String::from_utf8_lossy(
                &self.b[start..self.pos],
            ))));
        }
        // Only ASCII bytes were consumed.
        Ok(self.s.get(start..self.pos).unwrap_or_default())
    }

    /// The error for `<` followed by something that is not a field or an end tag.
    fn markup_error(&self, field: Option<&str>) -> Error {
        let offset = self.pos;
        let rest = &self.b[self.pos..];
        if rest.starts_with(b"<!--") {
            Error::Unsupported {
                what: "comment",
                offset,
            }
        } else if rest.starts_with(b"<?") {
            Error::Unsupported {
                what: "processing instruction",
                offset,
            }
        } else if rest.starts_with(b"<![CDATA[") {
            Error::TextOutsideElements { offset }
        } else if rest.starts_with(b"<!") {
            Error::Doctype { offset }
        } else if rest.len() < 2 {
            Error::UnexpectedEof
        } else if let (Some(field), Some(&c)) = (field, rest.get(1)) {
            if name_start(c) || c == b':' {
                return Error::Nested {
                    field: quote(field),
                    offset,
                };
            }
            Error::Syntax {
                what: "stray '<'",
                offset,
            }
        } else {
            Error::Syntax {
                what: "stray '<'",
                offset,
            }
        }
    }

    /// BOM, declaration, whitespace.
    fn prolog(&mut self) -> Result<(), Error> {
        if self.starts_with("\u{FEFF}".as_bytes()) {
            self.pos += 3;
        }
        if self.starts_with(b"<?xml") && self.peek(5).is_some_and(is_ws) {
            self.declaration()?;
        }
        self.skip_ws();
        Ok(())
    }

    fn declaration(&mut self) -> Result<(), Error> {
        self.pos += 5;
        let mut seen_version = false;
        loop {
            let had_ws = self.peek(0).is_some_and(is_ws);
            self.skip_ws();
            if self.starts_with(b"?>") {
                self.pos += 2;
                return if seen_version {
                    Ok(())
                } else {
                    Err(Error::Syntax {
                        what: "XML declaration without version",
                        offset: self.pos,
                    })
                };
            }
            if !had_ws {
                return Err(Error::Syntax {
                    what: "malformed XML declaration",
                    offset: self.pos,
                });
            }
            let at = self.pos;
            let name = self.name()?;
            self.skip_ws();
            self.expect(b'=', "expected '=' in the XML declaration")?;
            self.skip_ws();
            let quote = match self.peek(0) {
                Some(q @ (b'"' | b'\'')) => q,
                Some(_) => {
                    return Err(Error::Syntax {
                        what: "expected a quoted value",
                        offset: self.pos,
                    });
                }
                None => return Err(Error::UnexpectedEof),
            };
            self.pos += 1;
            let start = self.pos;
            while self.peek(0).is_some_and(|b| b != quote) {
                self.pos += 1;
            }
            if self.peek(0).is_none() {
                return Err(Error::UnexpectedEof);
            }
            let value = &self.b[start..self.pos];
            self.pos += 1;
            let ok = match (name, seen_version) {
                ("version", false) => {
                    seen_version = true;
                    value.len() > 2
                        && value.starts_with(b"1.")
                        && value[2..].iter().all(u8::is_ascii_digit)
                }
                ("encoding", true) => {
                    if !(value.eq_ignore_ascii_case(b"UTF-8")
                        || value.eq_ignore_ascii_case(b"UTF8"))
                    {
                        return Err(Error::Unsupported {
                            what: "encoding other than UTF-8",
                            offset: at,
                        });
                    }
                    true
                }
                ("standalone", true) => value == b"yes" || value == b"no",
                _ => false,
            };
            if !ok {
                return Err(Error::Syntax {
                    what: "malformed XML declaration",
                    offset: at,
                });
            }
        }
    }

    fn root_start(&mut self, root: &str) -> Result<(), Error> {
        match self.peek(0) {
            None => return Err(Error::UnexpectedEof),
            Some(b'<') if self.peek(1).is_some_and(name_start) => {}
            Some(b'<') => return Err(self.markup_error(None)),
            Some(_) => return Err(Error::TextOutsideElements { offset: self.pos }),
        }
        self.pos += 1;
        let name = self.name()?;
        if name != root {
            return Err(Error::WrongRoot {
                expected: quote(root),
                found: quote(name),
            });
        }
        self.tag_end(root).map(|empty| self.empty_root = empty)
    }

    /// After a start tag's name: whitespace, then `>` (false) or `/>` (true).
    fn tag_end(&mut self, _name: &str) -> Result<bool, Error> {
        self.skip_ws();
        match (self.peek(0), self.peek(1)) {
            (Some(b'>'), _) => {
                self.pos += 1;
                Ok(false)
            }
            (Some(b'/'), Some(b'>')) => {
                self.pos += 2;
                Ok(true)
            }
            (Some(b), _) if name_start(b) || b == b':' => Err(Error::Unsupported {
                what: "attribute",
                offset: self.pos,
            }),
            (None, _) | (Some(b'/'), None) => Err(Error::UnexpectedEof),
            _ => Err(Error::Syntax {
                what: "malformed start tag",
                offset: self.pos,
            }),
        }
    }

    /// Whitespace only after the root.
    fn epilog(&mut self) -> Result<(), Error> {
        self.skip_ws();
        if self.pos < self.b.len() {
            return Err(Error::TrailingContent { offset: self.pos });
        }
        Ok(())
    }

    /// The leaf fields of the element `parent` (its start tag read) into `map`, through its
    /// end tag. With `records`, the list (or the repeated record element) is read into them.
    fn fields(
        &mut self,
        map: &mut XmlMap,
        parent: &str,
        mut records: Option<&mut (Nest<'_>, &mut Vec<XmlMap>)>,
    ) -> Result<(), Error> {
        let mut list_seen = false;
        loop {
            self.skip_ws();
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err(Error::UnexpectedEof),
                (Some(b'<'), Some(b'/')) => return self.end_tag(parent),
                (Some(b'<'), Some(c)) if name_start(c) => {
                    if self.budget == 0 {
                        return Err(Error::TooManyFields { limit: self.limit });
                    }
                    self.budget -= 1;
                    if let Some((nest, items)) = records.as_deref_mut() {
                        let at = self.pos;
                        self.pos += 1;
                        let name = self.name()?;
                        self.pos = at;
                        match nest.list {
                            Some(list) if name == list => {
                                if list_seen {
                                    return Err(Error::DuplicateField(quote(list)));
                                }
                                list_seen = true;
                                self.list(list, nest.item, items)?;
                                continue;
                            }
                            None if name == nest.item => {
                                self.record(nest.item, items)?;
                                continue;
                            }
                            _ => {}
                        }
                    }
                    self.field(map)?;
                }
                (Some(b'<'), _) => return Err(self.markup_error(None)),
                (Some(_), _) => return Err(Error::TextOutsideElements { offset: self.pos }),
            }
        }
    }

    /// `</name>`, cursor on its `<`.
    fn end_tag(&mut self, name: &str) -> Result<(), Error> {
        let at = self.pos;
        self.pos += 2;
        let found = self.name()?;
        if found != name {
            return Err(Error::MismatchedTag {
                open: quote(name),
                found: quote(found),
                offset: at,
            });
        }
        self.skip_ws();
        self.expect(b'>', "expected '>' after the end tag")
    }

    /// `<list>` of `<item>` records only (whitespace between), cursor on its `<`.
    fn list(&mut self, list: &str, item: &str, items: &mut Vec<XmlMap>) -> Result<(), Error> {
        self.pos += 1 + list.len();
        if self.tag_end(list)? {
            return Ok(());
        }
        loop {
            self.skip_ws();
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err(Error::UnexpectedEof),
                (Some(b'<'), Some(b'/')) => return self.end_tag(list),
                (Some(b'<'), Some(c)) if name_start(c) => {
                    let at = self.pos;
                    self.pos += 1;
                    let name = self.name()?;
                    self.pos = at;
                    if name != item {
                        return Err(Error::Nested {
                            field: quote(list),
                            offset: at,
                        });
                    }
                    if self.budget == 0 {
                        return Err(Error::TooManyFields { limit: self.limit });
                    }
                    self.budget -= 1;
                    self.record(item, items)?;
                }
                (Some(b'<'), _) => return Err(self.markup_error(None)),
                (Some(_), _) => return Err(Error::TextOutsideElements { offset: self.pos }),
            }
        }
    }

    /// One `<item>` record of leaf fields, cursor on its `<`; its duplicate check is its own.
    fn record(&mut self, item: &str, items: &mut Vec<XmlMap>) -> Result<(), Error> {
        self.pos += 1 + item.len();
        let mut map = XmlMap::new();
        if !self.tag_end(item)? {
            let outer = core::mem::replace(&mut self.seen, 0);
            let read = self.fields(&mut map, item, None);
            self.seen = outer;
            read?;
        }
        items.push(map);
        Ok(())
    }

    /// One `<name>value</name>` or `<name/>`, cursor on its `<`.
    fn field(&mut self, map: &mut XmlMap) -> Result<(), Error> {
        self.pos += 1;
        let name = self.name()?;
        // A one-word Bloom filter over the names seen: the full duplicate scan runs only when
        // the name may have been seen.
        let (first, last) = (
            name.bytes().next().unwrap_or(0),
            name.bytes().next_back().unwrap_or(0),
        );
        let bit = 1u64 << ((name.len() * 31 + usize::from(first) + 7 * usize::from(last)) % 64);
        if self.seen & bit != 0 && map.has_name(name) {
            return Err(Error::DuplicateField(quote(name)));
        }
        self.seen |= bit;
        let empty = self.tag_end(name)?;
        let text = map.text_mut();
        let name_start = text.len();
        text.push_str(name);
        let value_start = text.len();
        if !empty {
            self.value(name, text)?;
        }
        let value_end = text.len();
        map.push_unchecked(name_start..value_start, value_start..value_end);
        Ok(())
    }

    /// Text, references and CDATA up to and including the field's end tag.
    fn value(&mut self, field: &str, out: &mut String) -> Result<(), Error> {
        loop {
            // A run of plain text, up to the next byte that needs a look.
            let start = self.pos;
            loop {
                self.pos = scan(self.b, self.pos, &TEXT_STOP);
                match self.peek(0) {
                    None | Some(b'<' | b'&') => break,
                    Some(b']') if self.starts_with(b"]]>") => {
                        return Err(Error::Syntax {
                            what: "']]>' in text",
                            offset: self.pos,
                        });
                    }
                    Some(0xEF) if self.bad_bom_char() => {
                        return Err(Error::InvalidChar { offset: self.pos });
                    }
                    // An ordinary `]` or a lead byte of another character: part of the run.
                    Some(b']' | 0xEF) => self.pos += 1,
                    Some(_) => return Err(Error::InvalidChar { offset: self.pos }),
                }
            }
            self.push(out, start)?;
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err(Error::UnexpectedEof),
                (Some(b'&'), _) => self.reference(out)?,
                (Some(b'<'), Some(b'/')) => {
                    let at = self.pos;
                    let after = at + 2 + field.len();
                    if self.b[at + 2..].starts_with(field.as_bytes())
                        && self.b.get(after) == Some(&b'>')
                    {
                        self.pos = after + 1;
                        return Ok(());
                    }
                    self.pos += 2;
                    let name = self.name()?;
                    if name != field {
                        return Err(Error::MismatchedTag {
                            open: quote(field),
                            found: quote(name),
                            offset: at,
                        });
                    }
                    self.skip_ws();
                    return self.expect(b'>', "expected '>' after the end tag");
                }
                (Some(b'<'), _) if self.starts_with(b"<![CDATA[") => self.cdata(out)?,
                (Some(_), _) => return Err(self.markup_error(Some(field))),
            }
        }
    }

    /// U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters.
    fn bad_bom_char(&self) -> bool {
        self.peek(1) == Some(0xBF) && matches!(self.peek(2), Some(0xBE | 0xBF))
    }

    #[expect(
        clippy::unnecessary_lazy_evaluations,
        reason = "an eager error is built and dropped for every run: 4.6% of a parse (callgrind)"
    )]
    fn push(&self, out: &mut String, start: usize) -> Result<(), Error> {
        // The input was validated as UTF-8 once, and runs start and end at ASCII delimiters:
        // slicing the text (a boundary check, not a second validation) cannot fail. The
        // error is built only if it does: an eager one is built and dropped for every run.
        let run = self
            .s
            .get(start..self.pos)
            .ok_or_else(|| Error::NotUtf8 { offset: start })?;
        out.push_str(run);
        Ok(())
    }

    fn cdata(&mut self, out: &mut String) -> Result<(), Error> {
        self.pos += 9;
        let start = self.pos;
        loop {
            self.pos = scan(self.b, self.pos, &CDATA_STOP);
            match self.peek(0) {
                None => return Err(Error::UnexpectedEof),
                Some(b']') if self.starts_with(b"]]>") => break,
                Some(b']') => self.pos += 1,
                Some(0xEF) if self.bad_bom_char() => {
                    return Err(Error::InvalidChar { offset: self.pos });
                }
                Some(0xEF) => self.pos += 1,
                Some(_) => return Err(Error::InvalidChar { offset: self.pos }),
            }
        }
        self.push(out, start)?;
        self.pos += 3;
        Ok(())
    }

    fn reference(&mut self, out: &mut String) -> Result<(), Error> {
        let at = self.pos;
        let bad = || Error::BadReference { offset: at };
        let rest = &self.b[self.pos + 1..];
        let Some(end) = rest.iter().take(12).position(|&b| b == b';') else {
            return Err(if rest.len() < 12 && !rest.contains(&b'<') {
                Error::UnexpectedEof
            } else {
                bad()
            });
        };
        let body = &rest[..end];
        let c = match body {
            b"lt" => '<',
            b"gt" => '>',
            b"amp" => '&',
            b"quot" => '"',
            b"apos" => '\'',
            [b'#', b'x', hex @ ..] => char_ref(hex, 16).ok_or_else(bad)?,
            [b'#', dec @ ..] => char_ref(dec, 10).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !xml_char(c) {
            return Err(Error::InvalidChar { offset: at });
        }
        out.push(c);
        self.pos += end + 2;
        Ok(())
    }
}

/// Bytes a text run stops at: markup (`<`, `&`), a possible `]]>`, control characters XML 1.0
/// forbids, and the lead byte of U+FFFE / U+FFFF.
const TEXT_STOP: [bool; 256] = stop_table(true);
/// Bytes a CDATA section stops at: the same without `<` and `&`.
const CDATA_STOP: [bool; 256] = stop_table(false);

const fn stop_table(markup: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = !(i == 0x09 || i == 0x0A || i == 0x0D);
        i += 1;
    }
    t[b']' as usize] = true;
    t[0xEF] = true;
    if markup {
        t[b'<' as usize] = true;
        t[b'&' as usize] = true;
    }
    t
}

/// The index of the first byte at or after `from` that the table stops at (or the end).
///
/// Eight bytes at a time: a word is skipped when none of its bytes can be a stop byte (a
/// control character, `]`, 0xEF, and for text `<` and `&`); the table decides within a word.
fn scan(b: &[u8], from: usize, stop: &[bool; 256]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let has_byte = |w: u64, byte: u8| has_zero(w ^ (ONES * u64::from(byte)));
    let markup = stop[usize::from(b'<')];
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Bytes below 0x20 (the high bit of w - 0x20 per byte, excluding bytes >= 0x80).
        let mut candidates = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        candidates |= has_byte(w, b']') | has_byte(w, 0xEF);
        if markup {
            candidates |= has_byte(w, b'<') | has_byte(w, b'&');
        }
        if candidates != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)
        .and_then(|rest| rest.iter().position(|&c| stop[usize::from(c)]))
        .map_or(b.len(), |j| i + j)
}

fn char_ref(digits: &[u8], radix: u32) -> Option<char> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let mut n: u32 = 0;
    for &d in digits {
        n = n * radix + char::from(d).to_digit(radix)?;
    }
    char::from_u32(n)
}
