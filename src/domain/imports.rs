//! Adopting avatars the A2E account already has (trained in A2E's own app, or before this
//! studio's database existed) as characters. The studio shares one A2E account among its
//! users, so an avatar another user holds is never listed to anyone else, and one avatar is
//! one character at most (a unique index): nothing is imported twice. An adopted avatar is
//! used as it is — nothing is retrained or removed — and deleting its character gives it back
//! to the list instead of removing it at A2E: nothing trained elsewhere is lost.

use super::avatars::REMOVAL_JOB;
use super::error::DomainError;
use super::studio::Studio;
use crate::a2e::{Record, TaskStatus};
use crate::account_types::ImportableAvatar;
use crate::models::{AvatarStatus, Character, CharacterWork, Source, TrainingKind};
use crate::store::characters::{self as rows, AvatarState, NewCharacter};
use crate::store::{self, imports};
use std::collections::HashSet;

/// A2E pages read at most (100 avatars each).
const MAX_PAGES: u32 = 20;
const PAGE_SIZE: u32 = 100;
/// Avatars adopted in one request at most.
pub const MAX_IMPORT: usize = 50;

/// Every avatar of the A2E account, all pages.
async fn account_avatars(studio: &Studio) -> Result<Vec<Record>, DomainError> {
    let mut all = Vec::new();
    for page in 1..=MAX_PAGES {
        let got = studio.a2e.list_avatars(page, PAGE_SIZE, None).await?;
        let (count, total) = (got.list.len(), got.total);
        all.extend(got.list);
        if count < PAGE_SIZE as usize || all.len() as i64 >= total {
            break;
        }
    }
    Ok(all)
}

/// The character id a studio training's name carries (`<name> [<character id>.<attempt>]`).
fn studio_character_in(name: &str) -> Option<&str> {
    let inner = name.strip_suffix(']')?.rsplit_once(" [")?.1;
    let (id, attempt) = inner.split_once('.')?;
    let ok = id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !attempt.is_empty()
        && attempt.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(id)
}

/// The account's avatars the caller may see: theirs (imported) and those no one holds; never
/// another user's, one being removed, or one this studio is still training for a character.
pub async fn importable(
    studio: &Studio,
    user_id: &str,
) -> Result<Vec<ImportableAvatar>, DomainError> {
    let records = account_avatars(studio).await?;
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut conn = studio.db.pool.acquire().await?;
    let holders = imports::holders(&mut conn, &ids).await?;
    let removing: HashSet<String> = imports::being_removed(&mut conn, REMOVAL_JOB)
        .await?
        .into_iter()
        .collect();
    let named: Vec<String> = records
        .iter()
        .filter_map(|r| studio_character_in(&r.name).map(String::from))
        .collect();
    let in_training: HashSet<String> = imports::existing_characters(&mut conn, &named)
        .await?
        .into_iter()
        .collect();
    drop(conn);
    let mut list = Vec::new();
    for record in records {
        if record.id.is_empty() || removing.contains(&record.id) {
            continue;
        }
        let character_id = match holders.get(&record.id) {
            Some((holder, _)) if holder != user_id => continue,
            Some((_, character)) => Some(character.clone()),
            None if studio_character_in(&record.name).is_some_and(|c| in_training.contains(c)) => {
                continue
            }
            None => None,
        };
        let imported = character_id.is_some();
        list.push(ImportableAvatar {
            importable: !imported && record.current_status == TaskStatus::Completed,
            status: record.current_status.as_str().to_string(),
            cover_url: record
                .cover_url
                .clone()
                .or(record.preview_result_url.clone()),
            created_at: record.created_at.clone(),
            avatar_id: record.id,
            name: record.name,
            imported,
            character_id,
        });
    }
    Ok(list)
}

/// Checks the ids asked for: 1 to 50 A2E ids (24 hex digits), repeats ignored.
fn check_ids(ids: &[String]) -> Result<Vec<String>, DomainError> {
    if ids.is_empty() || ids.len() > MAX_IMPORT {
        return Err(DomainError::invalid(
            "invalid_avatar_ids",
            format!("Give 1 to {MAX_IMPORT} avatar ids in avatar_ids."),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for id in ids {
        let id = id.trim();
        if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DomainError::invalid(
                "invalid_avatar_id",
                format!("{id:?} is not an A2E avatar id (24 hexadecimal digits)."),
            ));
        }
        if seen.insert(id.to_string()) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Adopts the avatars as characters, all or none: each must be listed to the caller as
/// importable. Their pictures are kept in the media store (A2E's links expire).
pub async fn import(
    studio: &Studio,
    user_id: &str,
    avatar_ids: &[String],
) -> Result<Vec<Character>, DomainError> {
    let ids = check_ids(avatar_ids)?;
    let listed = importable(studio, user_id).await?;
    let mut chosen = Vec::new();
    for id in &ids {
        let avatar = listed
            .iter()
            .find(|a| &a.avatar_id == id)
            .ok_or_else(|| DomainError::not_found("Avatar"))?;
        if avatar.imported {
            return Err(already_imported(&avatar.name));
        }
        if !avatar.importable {
            return Err(DomainError::conflict(
                "not_trained",
                format!(
                    "The avatar {:?} is {} at A2E: only trained avatars can be imported.",
                    avatar.name, avatar.status
                ),
            ));
        }
        chosen.push(avatar.clone());
    }
    // Pictures first (slow, outside the transaction); a picture that cannot be fetched leaves
    // the character without one rather than failing the import.
    let mut pictures = Vec::new();
    for avatar in &chosen {
        pictures.push(keep_picture(studio, avatar).await);
    }
    let mut tx = studio.db.pool.begin().await?;
    let mut made = Vec::new();
    for (avatar, picture) in chosen.iter().zip(pictures) {
        let id = adopt_in(&mut tx, user_id, avatar, picture).await?;
        made.push(id);
    }
    tx.commit().await?;
    let mut characters = Vec::new();
    for id in made {
        let character = super::characters::get(studio, user_id, &id).await?;
        studio.announce_character(&character);
        characters.push(character);
    }
    tracing::info!(%user_id, count = characters.len(), "A2E avatars imported");
    Ok(characters)
}

fn already_imported(name: &str) -> DomainError {
    DomainError::conflict(
        "already_imported",
        format!("The avatar {name:?} is already one of your characters."),
    )
}

async fn keep_picture(studio: &Studio, avatar: &ImportableAvatar) -> Option<String> {
    let url = avatar.cover_url.as_deref()?;
    match studio.media.copy_from_url(&studio.http, url).await {
        Ok(kept) if kept.content_type.starts_with("image/") => Some(kept.url),
        Ok(_) => None,
        Err(err) => {
            tracing::warn!(avatar_id = %avatar.avatar_id, error = %err, "avatar picture not kept");
            None
        }
    }
}

/// Writes the character (already trained) and the import record, inside the transaction.
async fn adopt_in(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    avatar: &ImportableAvatar,
    picture: Option<String>,
) -> Result<String, DomainError> {
    let name: String = match avatar.name.trim() {
        "" => "Imported avatar".into(),
        name => name.chars().take(100).collect(),
    };
    let new = NewCharacter {
        id: store::new_id(),
        user_id: user_id.to_string(),
        name,
        prompt: String::new(),
        outfit_description: String::new(),
        image_url: picture.clone(),
        video_url: None,
        source: Source::UploadedImage,
        gender: None,
        model_version: "V2.1".into(),
        training_kind: TrainingKind::Image,
        tags: vec!["imported".into()],
        work: CharacterWork::default(),
    };
    rows::insert(conn, &new, AvatarStatus::Completed).await?;
    let state = AvatarState {
        avatar_id: Some(avatar.avatar_id.clone()),
        progress: Some(100),
        preview_url: picture,
        ..AvatarState::of(AvatarStatus::Completed)
    };
    // The unique index on avatar_id refuses a second holder, even one racing this request.
    if let Err(err) = rows::set_avatar_state(&mut *conn, &new.id, &state, None).await {
        return Err(match is_unique_violation(&err) {
            true => already_imported(&avatar.name),
            false => err.into(),
        });
    }
    if !imports::record(conn, &avatar.avatar_id, user_id, &new.id).await? {
        return Err(already_imported(&avatar.name));
    }
    Ok(new.id)
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn studio_training_names_are_recognised() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(studio_character_in(&format!("Mira [{id}.1]")), Some(id));
        assert_eq!(
            studio_character_in(&format!("a [b] [{id}.1700000000]")),
            Some(id)
        );
        assert_eq!(studio_character_in("My avatar"), None);
        assert_eq!(studio_character_in(&format!("x [{id}]")), None);
        assert_eq!(studio_character_in("x [short.1]"), None);
    }

    #[test]
    fn ids_are_checked() {
        let good = "0123456789abcdef01234567".to_string();
        assert_eq!(
            check_ids(&[good.clone(), good.clone()]).unwrap(),
            vec![good]
        );
        assert!(check_ids(&[]).is_err());
        assert!(check_ids(&["nope".into()]).is_err());
        assert!(check_ids(&vec!["0123456789abcdef01234567".into(); 51]).is_err());
    }
}
