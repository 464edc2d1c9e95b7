//! The keys a raw config struct accepts, for did-you-mean suggestions.
//!
//! Owns [`known_keys`]: given a raw type and the path (as written in the
//! file) to a table inside it, the field names of the struct that reads
//! that table. It asks the type itself, by deserializing it from a probe
//! that follows the path and stops at the struct it leads to, so the list
//! never drifts from the structs.
//!
//! Leaves out judging closeness ([`crate::diag::did_you_mean`]) and
//! locating keys in the file (the parsed document knows the spans).

use std::cell::RefCell;

use serde::de::value::{BorrowedStrDeserializer, Error};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::forward_to_deserialize_any;

/// How `toml::Spanned` deserializes itself: a struct of this name whose
/// value sits under [`SPANNED_VALUE`]. A span wrapper is no table of the
/// file, so the probe passes through it without using up a path step.
const SPANNED: &str = "$__serde_spanned_private_Spanned";
/// The field holding a `toml::Spanned`'s value.
pub(crate) const SPANNED_VALUE: &str = "$__serde_spanned_private_value";

/// The keys of the table at `path` inside a `T` (keys of tables, indices of
/// arrays, as written), or an empty list when the path does not lead to a
/// struct.
pub(crate) fn known_keys<T: DeserializeOwned>(path: &[String]) -> Vec<&'static str> {
    let found = RefCell::new(Vec::new());
    // The probe always fails: it stops where the keys are found, or where
    // the path leaves the type. Only what it recorded matters.
    let _ = T::deserialize(Probe {
        path,
        found: &found,
    });
    found.into_inner()
}

/// A deserializer that offers only the next step of `path`.
struct Probe<'p> {
    path: &'p [String],
    found: &'p RefCell<Vec<&'static str>>,
}

impl Probe<'_> {
    fn stop() -> Error {
        de::Error::custom("probe stopped")
    }
}

impl<'de, 'p> Deserializer<'de> for Probe<'p> {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Probe::stop())
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return visitor.visit_map(Step {
                key: Some(SPANNED_VALUE),
                value: Some(self),
            });
        }
        let Some((first, rest)) = self.path.split_first() else {
            *self.found.borrow_mut() = fields.to_vec();
            return Err(Probe::stop());
        };
        let Some(key) = fields.iter().copied().find(|f| f == first) else {
            return Err(Probe::stop());
        };
        visitor.visit_map(Step {
            key: Some(key),
            value: Some(Probe {
                path: rest,
                found: self.found,
            }),
        })
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.path.split_first() {
            Some((index, rest)) if index.parse::<usize>().is_ok() => visitor.visit_seq(Step {
                key: None,
                value: Some(Probe {
                    path: rest,
                    found: self.found,
                }),
            }),
            _ => Err(Probe::stop()),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// One entry of a map (`key` set) or one element of a sequence.
struct Step<'p> {
    key: Option<&'static str>,
    value: Option<Probe<'p>>,
}

impl<'de> MapAccess<'de> for Step<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.key.take() {
            Some(k) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self.value.take().ok_or_else(Probe::stop)?)
    }
}

impl<'de> SeqAccess<'de> for Step<'_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        match self.value.take() {
            Some(p) => seed.deserialize(p).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::topology::{RawLink, RawRegion};

    fn path(steps: &[&str]) -> Vec<String> {
        steps.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_struct_lists_its_own_fields() {
        let keys = known_keys::<RawLink>(&[]);
        assert!(keys.contains(&"capacity"), "{keys:?}");
        assert!(keys.contains(&"ends"), "{keys:?}");
    }

    #[test]
    fn a_path_leads_through_arrays_and_options_to_a_nested_struct() {
        let keys = known_keys::<RawRegion>(&path(&["service", "3"]));
        assert!(keys.contains(&"address"), "{keys:?}");
        assert!(!keys.contains(&"geography"), "{keys:?}");
    }

    #[test]
    fn a_span_wrapper_is_passed_through() {
        use crate::config::topology::RawTenant;
        let keys = known_keys::<toml::Spanned<RawTenant>>(&[]);
        assert_eq!(keys, vec!["name", "home_region"]);
    }

    #[test]
    fn a_path_that_leaves_the_type_finds_nothing() {
        assert!(known_keys::<RawRegion>(&path(&["nowhere"])).is_empty());
        assert!(known_keys::<RawRegion>(&path(&["name", "x"])).is_empty());
    }
}
