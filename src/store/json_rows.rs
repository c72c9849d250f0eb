//! A page of rows read as one value: the database builds the page as a JSON array, which is
//! then deserialized straight into the row type.
//!
//! Why: sqlx's SQLite driver runs each connection on a thread of its own and hands every row
//! (and, through the `Any` driver, every value of it) across to the caller one at a time,
//! waking the caller's thread for each; a page of fifty rows cost fifty-odd thread hand-offs
//! and thousands of small copies. One JSON value costs one hand-off, on both databases.

use super::paging::Params;
use super::{Db, DbKind};
use sqlx::Row;

/// The rows of `select` (a whole `SELECT … ORDER BY … LIMIT …` whose output columns are
/// `columns`, comma-separated), in `order` (the same order, over the output columns).
pub async fn fetch<T: serde::de::DeserializeOwned>(
    db: &Db,
    select: &str,
    columns: &str,
    order: &str,
    params: &Params,
) -> Result<Vec<T>, sqlx::Error> {
    let sql = wrap(db.kind, select, columns, order);
    let row = params.bind(sqlx::query(&sql)).fetch_one(&db.pool).await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text)
        .map_err(|e| sqlx::Error::Decode(format!("a page of rows as JSON: {e}").into()))
}

/// The SQL that folds `select`'s rows into one JSON array (`[]` for none).
fn wrap(kind: DbKind, select: &str, columns: &str, order: &str) -> String {
    match kind {
        DbKind::Sqlite => {
            let pairs = columns
                .split(',')
                .map(str::trim)
                .map(|c| format!("'{c}', {c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT json_group_array(json_object({pairs}) ORDER BY {order}) FROM ({select}) AS page"
            )
        }
        DbKind::Postgres => format!(
            "SELECT CAST(COALESCE(json_agg(page ORDER BY {order}), '[]') AS TEXT) FROM ({select}) AS page"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_names_every_column() {
        let sql = wrap(DbKind::Sqlite, "SELECT a, b FROM t", "a,\n b", "a DESC");
        assert_eq!(
            sql,
            "SELECT json_group_array(json_object('a', a, 'b', b) ORDER BY a DESC) FROM (SELECT a, b FROM t) AS page"
        );
    }
}
