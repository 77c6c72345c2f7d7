//! One pass over a FHIR JSON body that keeps only what the reader looks at.
//!
//! A death certificate message is about 60 resources, of which the reader needs six. Parsing
//! it into a `serde_json::Value` builds every map and string of all of them; this pass instead
//! keeps, for each object, the raw text of the few members the reader knows (`id`, `subject`,
//! `extension`, ...) and descends only into `entry`, so that a message, its document and their
//! resources are walked once. The members kept are parsed later, and only for the resources
//! that matter. Nothing here refuses a shape: a member of the wrong JSON type is kept as it
//! is, for the reader to name with its location.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// The members of a resource the reader looks at, besides `resourceType` and `entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Id,
    Type,
    Timestamp,
    Identifier,
    EventUri,
    EventCoding,
    Destination,
    Source,
    Response,
    Focus,
    Parameter,
    Subject,
    Attester,
    Name,
    Gender,
    BirthDate,
    /// `_birthDate`: the extensions of the primitive.
    BirthDateExt,
    Extension,
    Code,
    ValueDateTime,
    /// `_valueDateTime`.
    ValueDateTimeExt,
    EffectiveDateTime,
    Performer,
    Issue,
    Practitioner,
}

const KEYS: usize = Key::Practitioner as usize + 1;

impl Key {
    fn of(name: &str) -> Option<Key> {
        Some(match name {
            "id" => Key::Id,
            "type" => Key::Type,
            "timestamp" => Key::Timestamp,
            "identifier" => Key::Identifier,
            "eventUri" => Key::EventUri,
            "eventCoding" => Key::EventCoding,
            "destination" => Key::Destination,
            "source" => Key::Source,
            "response" => Key::Response,
            "focus" => Key::Focus,
            "parameter" => Key::Parameter,
            "subject" => Key::Subject,
            "attester" => Key::Attester,
            "name" => Key::Name,
            "gender" => Key::Gender,
            "birthDate" => Key::BirthDate,
            "_birthDate" => Key::BirthDateExt,
            "extension" => Key::Extension,
            "code" => Key::Code,
            "valueDateTime" => Key::ValueDateTime,
            "_valueDateTime" => Key::ValueDateTimeExt,
            "effectiveDateTime" => Key::EffectiveDateTime,
            "performer" => Key::Performer,
            "issue" => Key::Issue,
            "practitioner" => Key::Practitioner,
            _ => return None,
        })
    }
}

/// A JSON string, or a value of another type where a string was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text<'a> {
    Str(Cow<'a, str>),
    NotText,
}

impl Text<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            Text::NotText => None,
        }
    }
}

/// A JSON object as the reader keeps it (a resource, or a Bundle with its entries).
#[derive(Debug, Default)]
pub(crate) struct Obj<'a> {
    /// False when the JSON value was not an object at all.
    pub(crate) object: bool,
    pub(crate) resource_type: Option<Text<'a>>,
    fields: [Option<&'a RawValue>; KEYS],
    /// `entry`, for Bundles.
    pub(crate) entry: Option<Entries<'a>>,
}

/// A Bundle's `entry` member.
#[derive(Debug)]
pub(crate) enum Entries<'a> {
    List(Vec<Entry<'a>>),
    /// `entry` was not an array.
    NotList,
}

/// One element of `Bundle.entry`.
#[derive(Debug, Default)]
pub(crate) struct Entry<'a> {
    /// False when the element was not an object.
    pub(crate) object: bool,
    pub(crate) full_url: Option<Text<'a>>,
    pub(crate) resource: Option<Obj<'a>>,
}

impl<'a> Obj<'a> {
    pub(crate) fn raw(&self, key: Key) -> Option<&'a RawValue> {
        self.fields[key as usize]
    }

    pub(crate) fn has(&self, key: Key) -> bool {
        self.fields[key as usize].is_some()
    }

    /// The member parsed as a JSON value (small members only: this allocates).
    pub(crate) fn value(&self, key: Key) -> Option<Value> {
        self.raw(key).map(parse_value)
    }

    /// The member as a string: `None` if absent, `Some(NotText)` if of another type.
    pub(crate) fn text(&self, key: Key) -> Option<Text<'a>> {
        self.raw(key).map(raw_text)
    }

    pub(crate) fn is(&self, resource_type: &str) -> bool {
        matches!(&self.resource_type, Some(Text::Str(t)) if t == resource_type)
    }

    pub(crate) fn type_name(&self) -> Option<&str> {
        self.resource_type.as_ref().and_then(Text::as_str)
    }
}

/// Raw JSON text the pass has checked. Parsing it fails only past serde_json's depth limit,
/// which members skipped over are not held to; such a member reads as null.
pub(crate) fn parse_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

pub(crate) fn raw_text(raw: &RawValue) -> Text<'_> {
    let s = raw.get();
    if !s.starts_with('"') {
        return Text::NotText;
    }
    // Borrowed when the string has no escapes, the usual case.
    match serde_json::from_str::<&str>(s) {
        Ok(t) => Text::Str(Cow::Borrowed(t)),
        Err(_) => match serde_json::from_str::<String>(s) {
            Ok(t) => Text::Str(Cow::Owned(t)),
            Err(_) => Text::NotText,
        },
    }
}

/// The name of a member, matched without keeping it.
enum Member {
    ResourceType,
    Entry,
    FullUrl,
    Resource,
    Known(Key),
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Member, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "resourceType" => Member::ResourceType,
                    "entry" => Member::Entry,
                    "fullUrl" => Member::FullUrl,
                    "resource" => Member::Resource,
                    _ => Key::of(name).map_or(Member::Other, Member::Known),
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Drains values of the wrong JSON type so that the pass goes on; `make` builds the marker.
macro_rules! not_this_type {
    ($ty:ty, $make:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$ty, E> {
            Ok($make)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$ty, E> {
            Ok($make)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$ty, E> {
            Ok($make)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$ty, E> {
            Ok($make)
        }
        fn visit_unit<E: de::Error>(self) -> Result<$ty, E> {
            Ok($make)
        }
    };
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text<'de>, A::Error> {
                drain_seq(seq).map(|()| Text::NotText)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text<'de>, A::Error> {
                drain_map(map).map(|()| Text::NotText)
            }
            not_this_type!(Text<'de>, Text::NotText);
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Obj<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj<'de>, A::Error> {
                let mut obj = Obj {
                    object: true,
                    ..Obj::default()
                };
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::ResourceType => obj.resource_type = Some(map.next_value()?),
                        Member::Entry => obj.entry = Some(map.next_value()?),
                        Member::Known(key) => obj.fields[key as usize] = Some(map.next_value()?),
                        Member::FullUrl | Member::Resource | Member::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(obj)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Obj<'de>, E> {
                Ok(Obj::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<'de>, A::Error> {
                drain_seq(seq).map(|()| Obj::default())
            }
            not_this_type!(Obj<'de>, Obj::default());
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries<'de>, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(entry) = seq.next_element()? {
                    list.push(entry);
                }
                Ok(Entries::List(list))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entries<'de>, A::Error> {
                drain_map(map).map(|()| Entries::NotList)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Entries<'de>, E> {
                Ok(Entries::NotList)
            }
            not_this_type!(Entries<'de>, Entries::NotList);
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
                let mut entry = Entry {
                    object: true,
                    ..Entry::default()
                };
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::FullUrl => entry.full_url = Some(map.next_value()?),
                        Member::Resource => entry.resource = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(entry)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Entry<'de>, A::Error> {
                drain_seq(seq).map(|()| Entry::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            not_this_type!(Entry<'de>, Entry::default());
        }
        d.deserialize_any(V)
    }
}

/// How the resources of one Bundle are found by reference (FHIR's rules for resolving
/// references inside a Bundle, with the leniency the fixtures call for: a bare id, or a
/// `urn:uuid:` whose uuid is the resource's id).
#[derive(Debug)]
pub(crate) struct Index<'b, 'a> {
    entries: &'b [Entry<'a>],
    ids: Vec<Option<Text<'a>>>,
}

impl<'b, 'a> Index<'b, 'a> {
    pub(crate) fn new(entries: &'b [Entry<'a>]) -> Index<'b, 'a> {
        let ids = entries
            .iter()
            .map(|e| e.resource.as_ref().and_then(|r| r.text(Key::Id)))
            .collect();
        Index { entries, ids }
    }

    fn id(&self, i: usize) -> Option<&str> {
        self.ids[i].as_ref().and_then(Text::as_str)
    }

    fn full_url(&self, i: usize) -> Option<&str> {
        self.entries[i].full_url.as_ref().and_then(Text::as_str)
    }

    fn type_name(&self, i: usize) -> Option<&str> {
        self.entries[i].resource.as_ref().and_then(Obj::type_name)
    }

    /// The index of the entry a reference names.
    pub(crate) fn resolve(&self, reference: &str) -> Option<usize> {
        let n = self.entries.len();
        if let Some(i) = (0..n).find(|&i| self.full_url(i) == Some(reference)) {
            return Some(i);
        }
        if let Some(uuid) = reference.strip_prefix("urn:uuid:") {
            return (0..n).find(|&i| self.id(i) == Some(uuid));
        }
        // `Patient/123`, or an absolute URL ending in it.
        let mut parts = reference.rsplitn(3, '/');
        if let (Some(id), Some(ty)) = (parts.next(), parts.next()) {
            let suffix = format!("/{ty}/{id}");
            return (0..n).find(|&i| {
                (self.type_name(i) == Some(ty) && self.id(i) == Some(id))
                    || self.full_url(i).is_some_and(|u| u.ends_with(&suffix))
            });
        }
        if !reference.contains(':') {
            return (0..n).find(|&i| self.id(i) == Some(reference));
        }
        None
    }
}
