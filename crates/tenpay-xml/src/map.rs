use core::fmt;
use core::ops::Range;

use crate::error::{Error, quote};
use crate::names::valid_name;

/// The fields of one flat message, in document (or insertion) order.
///
/// Every field is kept, unknown ones included: they are signed. Names are unique and valid
/// element names, and every value is text XML 1.0 can carry, so any `XmlMap` can be written.
/// All text lives in one buffer, so reading a message costs two allocations.
///
/// ```
/// use tenpay_xml::XmlMap;
/// let mut m = XmlMap::new();
/// m.insert("appid", "wx2421b1c4370ec43b")?;
/// m.insert("body", "a & b")?;
/// assert_eq!(m.get("body"), Some("a & b"));
/// assert_eq!(m.to_xml(), "<xml><appid>wx2421b1c4370ec43b</appid><body><![CDATA[a & b]]></body></xml>");
/// assert_eq!(XmlMap::parse(m.to_xml().as_bytes())?, m);
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct XmlMap {
    text: String,
    fields: Vec<Field>,
}

#[derive(Clone, Copy, Debug)]
struct Field {
    name: (u32, u32),
    value: (u32, u32),
}

impl XmlMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_capacity(text: usize, fields: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            fields: Vec::with_capacity(fields),
        }
    }

    /// The value of a field.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.value_at(i))
    }

    /// Whether the field is present (possibly with an empty value).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as `(name, value)` pairs, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: self,
            inner: self.fields.iter(),
        }
    }

    /// Sets a field, replacing its value if present (keeping its position) or appending it.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a name outside `[A-Za-z_][A-Za-z0-9_.-]*`, and
    /// [`Error::UnrepresentableValue`] for a value with a character XML 1.0 cannot carry.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), Error> {
        if !valid_name(name) {
            return Err(Error::InvalidName(quote(name)));
        }
        if !value.chars().all(xml_char) {
            return Err(Error::UnrepresentableValue(quote(name)));
        }
        let value = self.push_text(value);
        match self.position(name) {
            Some(i) => self.fields[i].value = value,
            None => {
                let name = self.push_text(name);
                self.fields.push(Field { name, value });
            }
        }
        Ok(())
    }

    /// Removes a field, returning whether it was present.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.position(name) {
            Some(i) => {
                self.fields.remove(i);
                true
            }
            None => false,
        }
    }

    /// Appends a field known to be new and valid (the reader checked it).
    pub(crate) fn push_unchecked(&mut self, name: Range<usize>, value: Range<usize>) {
        self.fields.push(Field {
            name: span(name),
            value: span(value),
        });
    }

    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    pub(crate) fn has_name(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    fn push_text(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(s);
        span(start..self.text.len())
    }

    fn position(&self, name: &str) -> Option<usize> {
        let name = name.as_bytes();
        self.fields.iter().position(|f| {
            let (s, e) = f.name;
            (e - s) as usize == name.len() && &self.text.as_bytes()[s as usize..e as usize] == name
        })
    }

    fn value_at(&self, i: usize) -> &str {
        self.slice(self.fields[i].value)
    }

    fn slice(&self, (s, e): (u32, u32)) -> &str {
        self.text.get(s as usize..e as usize).unwrap_or_default()
    }
}

/// Spans are u32: bodies are bounded far below 4 GiB by the reader's limit, and a map built by
/// hand that grows past it is a programming error caught here rather than silently truncated.
fn span(r: Range<usize>) -> (u32, u32) {
    let conv = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    (conv(r.start), conv(r.end))
}

/// A character XML 1.0 allows in content.
pub(crate) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl PartialEq for XmlMap {
    /// Equal when they hold the same fields in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for XmlMap {}

impl fmt::Debug for XmlMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over an [`XmlMap`]'s `(name, value)` pairs, in order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    map: &'a XmlMap,
    inner: core::slice::Iter<'a, Field>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let f = self.inner.next()?;
        Some((self.map.slice(f.name), self.map.slice(f.value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a XmlMap {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> TryFrom<&[(&'a str, &'a str)]> for XmlMap {
    type Error = Error;

    fn try_from(pairs: &[(&'a str, &'a str)]) -> Result<Self, Error> {
        let mut m = Self::new();
        for (k, v) in pairs {
            if m.contains(k) {
                return Err(Error::DuplicateField(quote(k)));
            }
            m.insert(k, v)?;
        }
        Ok(m)
    }
}
