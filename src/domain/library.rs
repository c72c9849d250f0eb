//! The character library: the gallery's search, filters and pages, editing a character's
//! name, tags and outfit, deleting many at once, its training history and every generation
//! that used it (provenance).

use super::characters::{self, MAX_TAG};
use super::error::DomainError;
use super::paging;
use super::studio::Studio;
use crate::models::{
    AvatarStatus, Character, CharacterEvent, GalleryQuery, Generation, Page, TrainingKind,
};
use crate::store::character_page::{self, Filter, Sort};
use crate::store::paging::{After, SortKey};
use crate::store::{character_events, characters as rows, generations as generation_rows};
use serde::Deserialize;

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn word<T>(
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
    code: &'static str,
    what: &str,
) -> Result<Option<T>, DomainError> {
    match given(v) {
        None => Ok(None),
        Some(w) => parse(w)
            .map(Some)
            .ok_or_else(|| DomainError::invalid(code, format!("Unknown {what} {w:?}."))),
    }
}

/// Checks the query into a filter; every bad parameter is a 400 naming it.
pub fn filter_of(q: &GalleryQuery) -> Result<Filter, DomainError> {
    let search = given(&q.q).map(str::to_lowercase);
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(DomainError::invalid(
            "invalid_query",
            "The search is too long (at most 200 characters).",
        ));
    }
    let tag = given(&q.tag).map(str::to_lowercase);
    if tag
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TAG || t.contains(','))
    {
        return Err(DomainError::invalid(
            "invalid_tag",
            format!("A tag has at most {MAX_TAG} characters and no comma."),
        ));
    }
    let status_words = "status (pending, training, completed or failed)";
    Ok(Filter {
        search,
        status: word(
            &q.status,
            AvatarStatus::parse,
            "invalid_status",
            status_words,
        )?,
        training: word(
            &q.training,
            TrainingKind::parse,
            "invalid_training",
            "training (image or video)",
        )?,
        tag,
        sort: word(
            &q.sort,
            Sort::parse,
            "invalid_sort",
            "sort (newest, name or most_used)",
        )?
        .unwrap_or_default(),
    })
}

/// One page of the gallery. A tag no character has simply matches nothing.
pub async fn gallery(
    studio: &Studio,
    user_id: &str,
    q: &GalleryQuery,
) -> Result<Page<Character>, DomainError> {
    let filter = filter_of(q)?;
    let limit = paging::limit(q.limit.as_deref())?;
    let order = filter.sort.as_str();
    let after = paging::decode(order, filter.sort == Sort::Name, q.cursor.as_deref())?;
    let rows =
        character_page::page(&studio.db, user_id, &filter, after.as_ref(), limit + 1).await?;
    Ok(paging::page_of(rows, limit, order, |c| After {
        key: filter.sort.key_of(c),
        id: c.id.clone(),
    }))
}

/// `PATCH /api/characters/{id}`: any of name, tags (replaced as a whole), outfit description.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CharacterPatch {
    pub name: Option<String>,
    pub tags: Option<Vec<String>>,
    #[serde(alias = "outfitDescription")]
    pub outfit_description: Option<String>,
}

/// Edits a character: all checked first, then written in one transaction.
pub async fn update(
    studio: &Studio,
    user_id: &str,
    id: &str,
    patch: CharacterPatch,
) -> Result<Character, DomainError> {
    if patch.name.is_none() && patch.tags.is_none() && patch.outfit_description.is_none() {
        return Err(DomainError::invalid(
            "empty_patch",
            "Give name, tags or outfit_description to change.",
        ));
    }
    let name = patch
        .name
        .as_deref()
        .map(characters::check_name)
        .transpose()?;
    let outfit = patch
        .outfit_description
        .as_deref()
        .map(characters::check_outfit)
        .transpose()?;
    let tags = patch.tags.map(characters::normalize_tags).transpose()?;
    characters::get(studio, user_id, id).await?;
    let mut tx = studio.db.pool.begin().await?;
    rows::update_details(&mut tx, id, name.as_deref(), outfit.as_deref()).await?;
    if let Some(tags) = &tags {
        rows::set_tags(&mut tx, user_id, id, tags).await?;
    }
    tx.commit().await?;
    let now = characters::get(studio, user_id, id).await?;
    studio.announce_character(&now);
    Ok(now)
}

/// The most characters one bulk delete takes.
pub const MAX_BULK: usize = 200;

/// Deletes several characters: all must be the caller's (else 404 and none is deleted); each
/// is then deleted as a single delete would (its jobs stopped, held credits closed, its avatar
/// removed at A2E). Answers how many were deleted.
pub async fn delete_many(
    studio: &Studio,
    user_id: &str,
    ids: &[String],
) -> Result<usize, DomainError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(DomainError::invalid(
            "invalid_ids",
            format!("Pick 1 to {MAX_BULK} characters."),
        ));
    }
    for id in ids {
        characters::get(studio, user_id, id).await?;
    }
    let mut deleted = 0;
    for id in ids {
        match characters::delete(studio, user_id, id).await {
            Ok(()) => deleted += 1,
            // Deleted meanwhile (e.g. twice in the list, or in another tab): already done.
            Err(DomainError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(deleted)
}

/// A character's training history, oldest first.
pub async fn events(
    studio: &Studio,
    user_id: &str,
    id: &str,
) -> Result<Vec<CharacterEvent>, DomainError> {
    characters::get(studio, user_id, id).await?;
    Ok(character_events::list(&studio.db.pool, user_id, id).await?)
}

fn generation_after(g: &Generation) -> After {
    After {
        key: SortKey::Int(g.created_at),
        id: g.id.clone(),
    }
}

/// Every generation that used a character, newest first, a page at a time.
pub async fn provenance(
    studio: &Studio,
    user_id: &str,
    id: &str,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Page<Generation>, DomainError> {
    let limit = paging::limit(limit)?;
    let after = paging::decode("used", false, cursor)?;
    characters::get(studio, user_id, id).await?;
    let rows =
        generation_rows::page_of_character(&studio.db, user_id, id, after.as_ref(), limit + 1)
            .await?;
    Ok(paging::page_of(rows, limit, "used", generation_after))
}

/// The user's generations, newest first, a page at a time.
pub async fn generations(
    studio: &Studio,
    user_id: &str,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Page<Generation>, DomainError> {
    let limit = paging::limit(limit)?;
    let after = paging::decode("newest", false, cursor)?;
    let rows = generation_rows::page(&studio.db, user_id, after.as_ref(), limit + 1).await?;
    Ok(paging::page_of(rows, limit, "newest", generation_after))
}
