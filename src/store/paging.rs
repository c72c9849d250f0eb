//! Keyset paging: a page ends at a (sort key, id) pair, and the next page starts after it, so a
//! page costs the same at the start of a list as at its 1,000th row (no OFFSET).

/// The value a list is sorted by, at the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// Where a page ended: the next starts strictly after this row.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub key: SortKey,
    pub id: String,
}

/// A query's SQL grows with its filters; this numbers their parameters and keeps their values.
#[derive(Default)]
pub struct Params {
    pub values: Vec<SortKey>,
}

impl Params {
    /// Adds a value and answers its placeholder (`$n`).
    pub fn push(&mut self, value: SortKey) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    pub fn text(&mut self, value: &str) -> String {
        self.push(SortKey::Text(value.to_string()))
    }

    pub fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = match value {
                SortKey::Int(n) => query.bind(*n),
                SortKey::Text(t) => query.bind(t.as_str()),
            };
        }
        query
    }
}

/// A LIKE pattern matching `needle` anywhere, its own `%`, `_` and `\` taken literally
/// (used with `ESCAPE '\'`).
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
