//! The itemised ledger of the credits page: every grant, reserve, settle and refund, newest
//! first, each with what it was for and where to see it. Paged by keyset (never by offset), so
//! a long history pages as fast as a short one and a new entry never shifts a page.

use super::error::DomainError;
use super::studio::Studio;
pub use crate::account_types::{A2eCoins, CreditSummary, LedgerEntry, LedgerPage, Subject};
use crate::store::{ledger, subjects, Db};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The page does not wait longer than this for A2E.
const A2E_BALANCE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The user's balance, with A2E's remaining coins unless in `demo` mode (the simulator's coins
/// mean nothing) or A2E does not answer in time (then they are left out).
pub async fn summary(
    studio: &Studio,
    user_id: &str,
    demo: bool,
) -> Result<CreditSummary, DomainError> {
    let balance = ledger::balance(&studio.db.pool, user_id).await?;
    let a2e = match demo {
        true => None,
        false => a2e_coins(studio).await,
    };
    Ok(CreditSummary { balance, a2e })
}

async fn a2e_coins(studio: &Studio) -> Option<A2eCoins> {
    match tokio::time::timeout(A2E_BALANCE_WAIT, studio.a2e.balance()).await {
        Ok(Ok(balance)) => Some(A2eCoins {
            coins: balance.coins,
            diamonds: balance.diamonds,
        }),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "A2E balance unavailable");
            None
        }
        Err(_) => {
            tracing::warn!("A2E balance timed out");
            None
        }
    }
}

/// Checks `limit` (1–200, default 50).
pub fn check_limit(limit: Option<&str>) -> Result<i64, DomainError> {
    let Some(raw) = limit.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(DomainError::invalid(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {MAX_LIMIT}."),
        )),
    }
}

/// A cursor is the keyset position of the last entry shown: `<created_at>.<id>`.
fn cursor_of(entry: &ledger::EntryRow) -> String {
    format!("{}.{}", entry.created_at, entry.id)
}

fn parse_cursor(cursor: &str) -> Result<(i64, &str), DomainError> {
    let bad = || {
        DomainError::invalid(
            "invalid_cursor",
            "The cursor is not one this list gave out; start again without it.",
        )
    };
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    let id_ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if at < 0 || !id_ok {
        return Err(bad());
    }
    Ok((at, id))
}

/// The user's entries after `cursor` (newest first), `limit` of them.
pub async fn page(
    db: &Db,
    user_id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<LedgerPage, DomainError> {
    let after = cursor
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(parse_cursor)
        .transpose()?;
    // One more than asked tells whether a next page exists without counting.
    let mut rows = ledger::page(&db.pool, user_id, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(cursor_of)).flatten();
    let entries = describe(db, user_id, rows).await?;
    Ok(LedgerPage {
        entries,
        next_cursor,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubjectKind {
    Character,
    Generation,
}

/// What a reservation key says it paid for (keys are made by the code that reserves:
/// `character-image:<id>[:<at>]`, `continue-training:<id>:<at>`, `generation:<id>`).
fn subject_of(key: &str) -> Option<(SubjectKind, String)> {
    let mut parts = key.split(':');
    let kind = match parts.next()? {
        "character-image" | "continue-training" => SubjectKind::Character,
        "generation" => SubjectKind::Generation,
        _ => return None,
    };
    let id = parts.next().filter(|id| !id.is_empty())?;
    Some((kind, id.to_string()))
}

/// Reservation notes are short machine words for generations; say them in English.
fn what(note: &str) -> String {
    match note {
        "scene" => "Scene".into(),
        "motion_transfer" => "Motion transfer".into(),
        "image_to_video" => "Image to video".into(),
        "lipsync" => "Lipsync".into(),
        "fight_sequence" => "Fight sequence".into(),
        "" => "Studio work".into(),
        other => other.to_string(),
    }
}

async fn describe(
    db: &Db,
    user_id: &str,
    rows: Vec<ledger::EntryRow>,
) -> Result<Vec<LedgerEntry>, DomainError> {
    let subjects: Vec<Option<(SubjectKind, String)>> = rows
        .iter()
        .map(|r| r.reservation_key.as_deref().and_then(subject_of))
        .collect();
    let ids_of = |kind: SubjectKind| {
        let mut ids: Vec<String> = subjects
            .iter()
            .flatten()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let characters =
        subjects::character_names(&db.pool, user_id, &ids_of(SubjectKind::Character)).await?;
    let generations =
        subjects::generation_labels(&db.pool, user_id, &ids_of(SubjectKind::Generation)).await?;
    let entries = rows
        .into_iter()
        .zip(subjects)
        .map(|(row, subject)| {
            let subject = subject.map(|(kind, id)| match kind {
                SubjectKind::Character => Subject {
                    kind: "character".into(),
                    name: characters.get(&id).cloned(),
                    link: characters
                        .contains_key(&id)
                        .then(|| format!("/characters/{id}")),
                    id,
                },
                SubjectKind::Generation => {
                    let label = generations.get(&id);
                    Subject {
                        kind: "generation".into(),
                        name: label.map(|l| match &l.character_name {
                            Some(name) => format!("{} with {name}", what(&l.kind)),
                            None => what(&l.kind),
                        }),
                        // A generation is shown on the page of the character it used.
                        link: label
                            .and_then(|l| l.character_id.as_ref())
                            .map(|c| format!("/characters/{c}#generation-{id}")),
                        id,
                    }
                }
            });
            LedgerEntry {
                description: description(&row),
                id: row.id,
                kind: row.kind,
                amount: row.amount,
                created_at: row.created_at,
                subject,
            }
        })
        .collect();
    Ok(entries)
}

fn description(row: &ledger::EntryRow) -> String {
    let paid_for = what(row.reserve_note.as_deref().unwrap_or(&row.note));
    match row.kind.as_str() {
        "grant" if row.note.is_empty() => "Credits added".into(),
        "grant" => row.note.clone(),
        "reserve" => format!("Held for: {paid_for}"),
        "settle" => format!("Charged: {paid_for}"),
        "refund" => format!("Refunded: {paid_for}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservation_keys_name_their_subject() {
        assert_eq!(
            subject_of("character-image:abc"),
            Some((SubjectKind::Character, "abc".into()))
        );
        assert_eq!(
            subject_of("continue-training:abc:123"),
            Some((SubjectKind::Character, "abc".into()))
        );
        assert_eq!(
            subject_of("generation:g1"),
            Some((SubjectKind::Generation, "g1".into()))
        );
        assert_eq!(subject_of("race-1"), None);
        assert_eq!(subject_of("generation:"), None);
    }

    #[test]
    fn cursors_and_limits_are_checked() {
        assert_eq!(parse_cursor("12.abc").unwrap(), (12, "abc"));
        for bad in ["", "x", "12", "a.b", "-1.abc", "12.a'b", "12."] {
            assert!(parse_cursor(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(check_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(check_limit(Some("200")).unwrap(), 200);
        for bad in ["0", "201", "-3", "ten", "1.5"] {
            assert!(check_limit(Some(bad)).is_err(), "{bad:?} accepted");
        }
    }
}
