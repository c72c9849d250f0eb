//! One page of a user's characters: searched, filtered, sorted, keyset-paged. Every sort order
//! has an index `(user_id, key, id)` (migration 0008), so a page reads only its own rows.

use super::characters::{CharacterRow, COLUMNS};
use super::paging::{After, Params, SortKey};
use super::{json_rows, Db};
use crate::models::{AvatarStatus, Character, TrainingKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Name,
    MostUsed,
}

impl Sort {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "newest" => Some(Self::Newest),
            "name" => Some(Self::Name),
            "most_used" => Some(Self::MostUsed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Name => "name",
            Self::MostUsed => "most_used",
        }
    }

    /// The sort key's column, the comparison that means "after", and the order.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Newest => ("created_at", "<", "created_at DESC, id DESC"),
            Self::Name => ("sort_name", ">", "sort_name ASC, id ASC"),
            Self::MostUsed => ("times_used", "<", "times_used DESC, id DESC"),
        }
    }

    /// The key of a row, for the cursor after it.
    pub fn key_of(self, c: &Character) -> SortKey {
        match self {
            Self::Newest => SortKey::Int(c.created_at),
            Self::Name => SortKey::Text(super::characters::sort_name(&c.name)),
            Self::MostUsed => SortKey::Int(c.times_used),
        }
    }
}

/// What to list. `search` is lowercase; `tag` as stored (lowercase).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub search: Option<String>,
    pub status: Option<AvatarStatus>,
    pub training: Option<TrainingKind>,
    pub tag: Option<String>,
    pub sort: Sort,
}

/// Up to `limit` characters after `after`, in the filter's order.
pub async fn page(
    db: &Db,
    user_id: &str,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Character>, sqlx::Error> {
    let (sql, p) = query(user_id, filter, after, limit);
    let order = filter.sort.sql().2;
    let rows: Vec<CharacterRow> = json_rows::fetch(db, user_id, &sql, COLUMNS, order, &p).await?;
    rows.into_iter().map(Character::try_from).collect()
}

/// The page's SQL and its parameters (public so a test can read the database's plan for it).
pub fn query(
    user_id: &str,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> (String, Params) {
    let mut p = Params::default();
    let mut conditions = vec![format!("user_id = {}", p.text(user_id))];
    if let Some(search) = &filter.search {
        let q = p.text(&super::paging::contains_pattern(search));
        conditions.push(format!(
            "(LOWER(name) LIKE {q} ESCAPE '\\' OR LOWER(prompt) LIKE {q} ESCAPE '\\' \
             OR LOWER(outfit_description) LIKE {q} ESCAPE '\\')"
        ));
    }
    if let Some(status) = filter.status {
        conditions.push(format!("avatar_status = {}", p.text(status.as_str())));
    }
    if let Some(training) = filter.training {
        conditions.push(format!("training_kind = {}", p.text(training.as_str())));
    }
    if let Some(tag) = &filter.tag {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM character_tags t WHERE t.character_id = character_references.id AND t.tag = {})",
            p.text(tag)
        ));
    }
    let (column, op, order) = filter.sort.sql();
    if let Some(after) = after {
        let (key, id) = (p.push(after.key.clone()), p.text(&after.id));
        conditions.push(format!("({column}, id) {op} ({key}, {id})"));
    }
    let limit = p.push(SortKey::Int(limit));
    // `sort_name` too: the page's JSON is put in order by its output columns.
    let sql = format!(
        "SELECT {COLUMNS}, sort_name FROM character_references WHERE {} ORDER BY {order} LIMIT {limit}",
        conditions.join(" AND ")
    );
    (sql, p)
}
