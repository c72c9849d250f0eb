//! Data a page loads: Leptos resources with one JSON decoding for the whole app.
//!
//! A resource's value is rendered into the page on the server and read back when the page
//! hydrates; Leptos' default codec reads it with `serde_json::from_str`, while server
//! functions read their answers with `serde_json::from_slice`. Each way compiles its own copy of
//! the deserializer of every type it reads, so every type a page both loads and refreshes
//! through a server function was in the browser's WASM twice. These resources read from
//! bytes, as the server functions do.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, written as Leptos' default codec writes it and read from bytes.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A page's data, as [`load`] makes it.
pub type Loaded<T> = Resource<T, Json>;

/// Loads `fetcher(source())` as `Resource::new` does (again whenever `source` changes).
#[track_caller]
pub fn load<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// What a `<Transition>` shows of a resource: `view` of its value once loaded, and in the
/// browser again whenever the value changes.
///
/// On the server a page renders once, so the boundary gets the `Suspend` itself rather than a
/// closure making one: Leptos runs a boundary's closure each time it checks the boundary for
/// pending loads and throws the result away, so every list was built two or three times a render
/// (the gallery's cards 2.4 times, in a profile). A closure adds no markup of its own, so the
/// browser hydrates the same HTML with its closure.
#[allow(clippy::disallowed_methods)] // the one place a `Suspend` is made
pub fn when_loaded<T, V>(
    resource: Loaded<T>,
    view: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let show = move || {
        let view = view.clone();
        Suspend::new(async move { view(resource.await) })
    };
    #[cfg(feature = "ssr")]
    let show = show();
    // One content type for every boundary: their code is in the WASM once, not once per page.
    show.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let value = vec![Some("é \"quoted\"".to_string()), None];
        let text = <Json as Encoder<_>>::encode(&value).unwrap();
        let back: Vec<Option<String>> = <Json as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
        assert!(<Json as Decoder<Vec<u8>>>::decode("[1,").is_err());
    }
}
