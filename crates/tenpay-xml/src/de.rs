//! serde: typed structs from a (verified) [`XmlMap`].

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::error::{Error, quote};
use crate::map::{Iter, XmlMap};

/// Decodes a typed message from a map, after its signature was checked.
///
/// Fields absent from the map are `None` for `Option` fields and an error otherwise; integers
/// and booleans are read from their string form; unit enum variants by name. Fields the struct
/// does not name are ignored, or kept with `#[serde(flatten)] extra: BTreeMap<String, String>`
/// (under `flatten`, serde buffers values, so non-string fields must use types that read
/// strings, such as [`crate::Fen`] or [`crate::string_form`]).
///
/// ```
/// use serde::Deserialize;
/// use tenpay_xml::{Fen, XmlMap};
///
/// #[derive(Deserialize)]
/// struct Answer { prepay_id: String, total_fee: Fen, coupon_count: Option<u32> }
///
/// let map = XmlMap::parse(b"<xml><prepay_id>wx1</prepay_id><total_fee>888</total_fee></xml>")?;
/// let a: Answer = tenpay_xml::from_map(&map)?;
/// assert_eq!((a.prepay_id.as_str(), a.total_fee.get(), a.coupon_count), ("wx1", 888, None));
/// # Ok::<(), tenpay_xml::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingField`] and [`Error::InvalidValue`] naming the field.
pub fn from_map<T: DeserializeOwned>(map: &XmlMap) -> Result<T, Error> {
    T::deserialize(MapDe {
        iter: map.iter(),
        value: None,
        field: "",
    })
    .map_err(DeError::into_error)
}

/// The serde error, carrying the field being decoded.
#[derive(Debug)]
pub(crate) struct DeError(pub(crate) Error);

impl DeError {
    pub(crate) fn into_error(self) -> Error {
        self.0
    }
}

impl core::fmt::Display for DeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: core::fmt::Display>(msg: T) -> Self {
        Self(Error::InvalidValue {
            field: String::new(),
            reason: msg.to_string(),
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Self(Error::MissingField(field.to_owned()))
    }
}

fn with_field(e: DeError, field: &str) -> DeError {
    match e.0 {
        Error::InvalidValue { field: f, reason } if f.is_empty() => DeError(Error::InvalidValue {
            field: quote(field),
            reason,
        }),
        other => DeError(other),
    }
}

struct MapDe<'a> {
    iter: Iter<'a>,
    value: Option<&'a str>,
    field: &'a str,
}

impl<'de> de::Deserializer<'de> for MapDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                self.field = k;
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let value = self.value.take().unwrap_or_default();
        seed.deserialize(ValueDe(value))
            .map_err(|e| with_field(e, self.field))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// One value: a string that reads as whatever scalar the target asks for.
struct ValueDe<'a>(&'a str);

macro_rules! parse_int {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n: $ty = crate::fen::parse_decimal(self.0)
                .map_err(|e| DeError(e.for_field(String::new())))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.0)
    }

    parse_int!(deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16, deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64, deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64);

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            "true" | "Y" => visitor.visit_bool(true),
            "false" | "N" => visitor.visit_bool(false),
            _ => Err(de::Error::custom("expected true/false or Y/N")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    forward_to_deserialize_any! {
        i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
