//! Enums whose values travel as lower-case names: in JSON, in URLs and in forms.

/// Declares such an enum from one list of `Variant = "name" ("Label")`: serde by the names, and
/// `ALL`, `as_str`, `label`, `FromStr` and `Display`, so no name is written twice.
///
/// The name is taken as a token tree, not a `literal` fragment: a fragment reaches the derives
/// wrapped in an invisible group, which the OpenAPI schema derive does not look into, so it would
/// list the variants' Rust names instead of these.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:tt ($label:literal)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        // The REST API answers with some of them; its OpenAPI document lists their names.
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order they are offered.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name in JSON, URLs and forms.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// What a person reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The names, for an error that lists what is accepted.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::named::UnknownName;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::named::UnknownName { expected: $name::names() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

/// A name that is none of an enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected one of {expected}")]
pub struct UnknownName {
    pub expected: String,
}

/// An optional named value written as its name, or as empty text when there is none: how forms, URLs
/// and the API's JSON send "no choice" (`#[serde(with = "crate::named::empty_is_none")]`).
pub mod empty_is_none {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.collect_str(value),
            None => serializer.serialize_str(""),
        }
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr<Err: Display>,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(deserializer)?;
        match text.trim() {
            "" => Ok(None),
            name => name.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    named_enum! {
        #[derive(Default)]
        pub enum Fruit {
            #[default]
            Apple = "apple" ("An apple"),
            Pear = "pear" ("A pear"),
        }
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Basket {
        #[serde(with = "super::empty_is_none", default)]
        fruit: Option<Fruit>,
    }

    #[test]
    fn no_choice_is_empty_text_and_an_unknown_name_is_refused() {
        assert_eq!(serde_json::to_string(&Basket { fruit: None }).unwrap(), r#"{"fruit":""}"#);
        assert_eq!(serde_json::to_string(&Basket { fruit: Some(Fruit::Pear) }).unwrap(), r#"{"fruit":"pear"}"#);
        assert_eq!(serde_json::from_str::<Basket>(r#"{"fruit":""}"#).unwrap(), Basket { fruit: None });
        assert_eq!(serde_json::from_str::<Basket>("{}").unwrap(), Basket { fruit: None });
        assert_eq!(serde_json::from_str::<Basket>(r#"{"fruit":"pear"}"#).unwrap(), Basket { fruit: Some(Fruit::Pear) });
        let unknown = serde_json::from_str::<Basket>(r#"{"fruit":"plum"}"#).unwrap_err().to_string();
        assert!(unknown.contains("expected one of apple, pear"), "{unknown}");
    }

    #[test]
    fn every_value_reads_back_from_its_name_in_text_and_json() {
        for fruit in Fruit::ALL {
            assert_eq!(fruit.as_str().parse::<Fruit>(), Ok(*fruit));
            assert_eq!(serde_json::to_value(fruit).unwrap(), fruit.as_str());
            assert_eq!(serde_json::from_value::<Fruit>(fruit.as_str().into()).unwrap(), *fruit);
        }
        assert_eq!(Fruit::default().label(), "An apple");
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_accepted_ones() {
        let refused = "Apple".parse::<Fruit>().unwrap_err();
        assert_eq!(refused.to_string(), "expected one of apple, pear");
        assert!(serde_json::from_value::<Fruit>("plum".into()).is_err());
    }
}
