//! Page sizes and cursors of the JSON lists. A cursor is opaque to callers: base64url of the
//! sort order and the last row's (key, id), so a cursor of one order is refused by another.

use super::error::DomainError;
use crate::store::paging::{After, SortKey};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Rows per page when the caller gives no `limit`.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most rows one page may ask for.
pub const MAX_LIMIT: i64 = 200;

/// Checks `limit` (absent: the default page size).
pub fn limit(raw: Option<&str>) -> Result<i64, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(DomainError::invalid(
            "invalid_limit",
            format!("limit is a whole number from 1 to {MAX_LIMIT}."),
        )),
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    /// The sort order the cursor belongs to.
    s: String,
    k: SortKey,
    id: String,
}

pub fn encode(order: &str, after: &After) -> String {
    let wire = Wire {
        s: order.to_string(),
        k: after.key.clone(),
        id: after.id.clone(),
    };
    let json = serde_json::to_vec(&wire).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Reads a cursor given back by a caller; one not made for `order` (or not made by us) is 400.
/// `text_key`: the order sorts by text (else by a number).
pub fn decode(
    order: &str,
    text_key: bool,
    raw: Option<&str>,
) -> Result<Option<After>, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        DomainError::invalid(
            "invalid_cursor",
            "The cursor is not one this list gave out (use the Link header's next URL as it is).",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let key_fits = matches!(
        (&wire.k, text_key),
        (SortKey::Text(_), true) | (SortKey::Int(_), false)
    );
    if wire.s != order || !key_fits || wire.id.is_empty() || wire.id.len() > 64 {
        return Err(bad());
    }
    Ok(Some(After {
        key: wire.k,
        id: wire.id,
    }))
}

/// Makes a page from up to `limit + 1` rows: the extra row only says there is more.
pub fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    order: &str,
    after_of: impl Fn(&T) -> After,
) -> crate::models::Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|last| encode(order, &after_of(last))))
        .flatten();
    crate::models::Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let after = After {
            key: SortKey::Text("ada".into()),
            id: "abc".into(),
        };
        let raw = encode("name", &after);
        assert_eq!(decode("name", true, Some(&raw)).unwrap(), Some(after));
        assert!(decode("newest", false, Some(&raw)).is_err());
        assert!(
            decode("name", false, Some(&raw)).is_err(),
            "a text key where a number goes"
        );
        assert!(decode("name", true, Some("not a cursor")).is_err());
        assert_eq!(decode("name", true, None).unwrap(), None);
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some("200")).unwrap(), 200);
        for bad in ["0", "201", "-1", "1e9", "many", "99999999999999999999"] {
            assert!(limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
