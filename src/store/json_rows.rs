//! A page of rows read as one value: the database builds the page as a JSON array of rows, each
//! row an array of its values in column order, which is then deserialized straight into the row
//! type (serde reads a struct from an array field by field, in declaration order).
//!
//! Why: sqlx's SQLite driver runs each connection on a thread of its own and hands every row
//! (and, through the `Any` driver, every value of it) across to the caller one at a time,
//! waking the caller's thread for each; a page of fifty rows cost fifty-odd thread hand-offs
//! and thousands of small copies. One JSON value costs one hand-off, on both databases. Rows
//! as arrays, not objects: the column names repeated in every row were about two fifths of the
//! text the database wrote and serde read back and matched, key by key.

use super::change_count;
use super::page_cache::PageCache;
use super::paging::Params;
use super::{Db, DbKind};
use sqlx::Row;
use std::sync::Arc;

/// The rows of `select` (a whole `SELECT … ORDER BY … LIMIT …` of `user_id`'s rows whose output
/// columns include `columns`, comma-separated, in the order of `T`'s fields), in `order` (the
/// same order, over the output columns). Kept in memory while the user's rows are unchanged.
pub async fn fetch<T: serde::de::DeserializeOwned>(
    db: &Db,
    user_id: &str,
    select: &str,
    columns: &str,
    order: &str,
    params: &Params,
) -> Result<Vec<T>, sqlx::Error> {
    let sql = wrap(db.kind, select, columns, order);
    let text = read_kept(db, &db.lists.pages, user_id, sql, params).await?;
    serde_json::from_str(&text)
        .map_err(|e| sqlx::Error::Decode(format!("a page of rows as JSON: {e}").into()))
}

/// The page from memory while the user's listed rows are unchanged, else from the database.
async fn read_kept(
    db: &Db,
    pages: &PageCache,
    user_id: &str,
    sql: String,
    params: &Params,
) -> Result<Arc<str>, sqlx::Error> {
    let Some(version) = change_count::count_of(&db.pool, user_id).await? else {
        return read(db, &sql, params).await; // no such user: nothing to keep
    };
    let key = (sql, params.values.clone());
    if let Some(text) = pages.get(&key, version) {
        return Ok(text);
    }
    // Read after the version: it holds at least that version's changes.
    let text = read(db, &key.0, params).await?;
    pages.keep(key, version, text.clone());
    Ok(text)
}

async fn read(db: &Db, sql: &str, params: &Params) -> Result<Arc<str>, sqlx::Error> {
    let row = params.bind(sqlx::query(sql)).fetch_one(&db.pool).await?;
    let text: String = row.try_get(0)?;
    Ok(text.into())
}

/// The SQL that folds `select`'s rows into one JSON array (`[]` for none).
fn wrap(kind: DbKind, select: &str, columns: &str, order: &str) -> String {
    let values = columns
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ");
    match kind {
        DbKind::Sqlite => format!(
            "SELECT json_group_array(json_array({values}) ORDER BY {order}) FROM ({select}) AS page"
        ),
        DbKind::Postgres => format!(
            "SELECT CAST(COALESCE(json_agg(json_build_array({values}) ORDER BY {order}), '[]') AS TEXT) \
             FROM ({select}) AS page"
        ),
    }
}

/// The names of a row type's fields in declaration order, as serde reads them from an array.
#[cfg(test)]
pub(crate) fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Deserializer, Visitor};
    struct Capture(Option<&'static [&'static str]>);
    impl<'de> Deserializer<'de> for &mut Capture {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("captured"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut capture = Capture(None);
    let _ = T::deserialize(&mut capture);
    capture.0.expect("a struct")
}

/// Checks that `columns` names `T`'s fields in their order (what [`fetch`] relies on).
#[cfg(test)]
pub(crate) fn assert_columns_match<T: serde::de::DeserializeOwned>(columns: &str) {
    let columns: Vec<&str> = columns.split(',').map(str::trim).collect();
    assert_eq!(columns, field_names::<T>());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_arrays_of_the_columns_in_order() {
        let sql = wrap(DbKind::Sqlite, "SELECT a, b FROM t", "a,\n b", "a DESC");
        assert_eq!(
            sql,
            "SELECT json_group_array(json_array(a, b) ORDER BY a DESC) FROM (SELECT a, b FROM t) AS page"
        );
        let sql = wrap(DbKind::Postgres, "SELECT a, b FROM t", "a, b", "a DESC");
        assert!(
            sql.contains("json_agg(json_build_array(a, b) ORDER BY a DESC)"),
            "{sql}"
        );
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Pair {
        name: String,
        count: i64,
    }

    #[test]
    fn a_row_type_reads_its_fields_from_an_array() {
        assert_eq!(field_names::<Pair>(), ["name", "count"]);
        let rows: Vec<Pair> = serde_json::from_str(r#"[["a", 1], ["b", 2]]"#).unwrap();
        assert_eq!(
            rows[1],
            Pair {
                name: "b".into(),
                count: 2
            }
        );
    }

    #[test]
    #[should_panic]
    fn columns_out_of_order_are_caught() {
        assert_columns_match::<Pair>("count, name");
    }
}
