//! Personal API tokens: random, shown once, stored as a SHA-256 hash.

use super::error::DomainError;
use crate::store::{self, tokens, Db};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

const PREFIX: &str = "ast_";
const MAX_NAME: usize = 100;
const MAX_TOKENS: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A new token with its secret, returned exactly once.
#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn create(db: &Db, user_id: &str, name: Option<&str>) -> Result<NewToken, DomainError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("API token");
    if name.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(
            "invalid_name",
            "Token names are at most 100 characters.",
        ));
    }
    if tokens::list(&db.pool, user_id).await?.len() >= MAX_TOKENS {
        return Err(DomainError::conflict(
            "too_many_tokens",
            "Delete an old token before making a new one.",
        ));
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let row = tokens::TokenRow {
        id: store::new_id(),
        user_id: user_id.to_string(),
        name: name.to_string(),
        created_at: store::now_millis(),
        last_used_at: None,
    };
    tokens::insert(&db.pool, &row, &hash(&token)).await?;
    Ok(NewToken {
        info: info(row),
        token,
    })
}

/// The user a bearer token belongs to, if it is one of ours, and their count of changes to
/// listed rows.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<(String, i64)>, DomainError> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    Ok(tokens::user_for_hash(&db.pool, &hash(token), store::now_millis()).await?)
}

/// The user of a still valid token, by the token's hash.
pub async fn user_for_hash(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(String, i64)>, DomainError> {
    Ok(tokens::user_for_hash(&db.pool, token_hash, store::now_millis()).await?)
}

pub async fn list(db: &Db, user_id: &str) -> Result<Vec<TokenInfo>, DomainError> {
    Ok(tokens::list(&db.pool, user_id)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

pub async fn revoke(db: &Db, user_id: &str, id: &str) -> Result<(), DomainError> {
    if tokens::delete(&db.pool, user_id, id).await? {
        Ok(())
    } else {
        Err(DomainError::not_found("Token"))
    }
}

fn info(row: tokens::TokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    }
}
