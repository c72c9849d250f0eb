//! Sign-up and log-in: validation, argon2 password hashes, the starting credit grant.

use super::error::DomainError;
use crate::store::{self, ledger, users, Db};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

/// What the browser and the API may see of a user: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
}

impl From<users::UserRow> for User {
    fn from(row: users::UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
        }
    }
}

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 128;
const MAX_EMAIL: usize = 254;
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyui",
    "qwerty123",
    "iloveyou",
    "11111111",
    "abcdefgh",
    "letmein1",
    "welcome1",
    "abc12345",
    "00000000",
];

pub fn normalize_email(raw: &str) -> Result<String, DomainError> {
    let email = raw.trim().to_lowercase();
    let invalid = || DomainError::invalid("invalid_email", "Enter a valid email address.");
    if email.is_empty() || email.len() > MAX_EMAIL || email.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@');
    if local.is_empty() || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

pub fn check_password_strength(password: &str, email: &str) -> Result<(), DomainError> {
    let weak = |why: &str| DomainError::invalid("weak_password", why.to_string());
    let len = password.chars().count();
    if len < MIN_PASSWORD {
        return Err(weak("Use at least 8 characters for your password."));
    }
    if len > MAX_PASSWORD {
        return Err(weak("Use at most 128 characters for your password."));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    let first = password.chars().next();
    let one_char = password.chars().all(|c| Some(c) == first);
    if COMMON_PASSWORDS.contains(&lower.as_str()) || one_char || lower == local {
        return Err(weak("That password is too easy to guess; choose another."));
    }
    Ok(())
}

/// Argon2 takes about 19 MiB and a core for each hash: this many run at once, the rest wait their
/// turn, so a flood of log-ins queues instead of exhausting memory.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new(cores.clamp(2, 8))
});

async fn hash_password(password: String) -> Result<String, DomainError> {
    let _turn = HASHING.acquire().await.map_err(|_| DomainError::Internal)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| DomainError::Internal)?
    .map_err(|_| DomainError::Internal)
}

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_turn) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Creates the account and grants the starting credits in one transaction.
pub async fn sign_up(
    db: &Db,
    email: &str,
    password: &str,
    signup_credits: i64,
) -> Result<User, DomainError> {
    let email = normalize_email(email)?;
    check_password_strength(password, &email)?;
    let row = users::UserRow {
        id: store::new_id(),
        email,
        password_hash: hash_password(password.to_string()).await?,
        created_at: store::now_millis(),
    };
    let mut tx = db.pool.begin().await?;
    if !users::insert(&mut *tx, &row).await? {
        return Err(DomainError::conflict(
            "email_taken",
            "An account with this email already exists. Log in instead.",
        ));
    }
    if signup_credits > 0 {
        let key = format!("signup:{}", row.id);
        let entry = ledger::NewEntry {
            user_id: &row.id,
            kind: ledger::EntryKind::Grant,
            amount: signup_credits,
            idempotency_key: &key,
            reservation_key: None,
            note: "Welcome credits",
        };
        ledger::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    if signup_credits > 0 {
        crate::telemetry::credits(crate::telemetry::CreditEvent::Granted, signup_credits);
    }
    tracing::info!(user_id = %row.id, "account created");
    Ok(row.into())
}

/// Checks the credentials; unknown email and wrong password answer alike.
pub async fn log_in(db: &Db, email: &str, password: &str) -> Result<User, DomainError> {
    let wrong = || DomainError::WrongCredentials;
    let Ok(email) = normalize_email(email) else {
        return Err(wrong());
    };
    if password.is_empty() || password.len() > MAX_PASSWORD * 4 {
        return Err(wrong());
    }
    let Some(row) = users::find_by_email(&db.pool, &email).await? else {
        // Spend the same time as a real check so response times do not reveal accounts.
        let _ = hash_password(password.to_string()).await;
        return Err(wrong());
    };
    if !verify_password(password.to_string(), row.password_hash.clone()).await {
        return Err(wrong());
    }
    Ok(row.into())
}

pub async fn find_user(db: &Db, id: &str) -> Result<Option<User>, DomainError> {
    Ok(users::find_by_id(&db.pool, id).await?.map(User::from))
}

/// The user and their credit balance.
pub async fn find_with_credits(db: &Db, id: &str) -> Result<Option<(User, i64)>, DomainError> {
    let found = users::find_with_balance(&db.pool, id).await?;
    Ok(found.map(|(row, credits)| (row.into(), credits)))
}

/// Whether session `session_id` of user `id`, logged in at `since` (ms), still stands (the
/// account is there, no password change since then ended it, and no other instance logged it
/// out); if so, the user's count of changes to listed rows, read with it so that a kept list
/// needs no read of its own.
pub async fn session_standing(
    db: &Db,
    id: &str,
    since: i64,
    session_id: &str,
) -> Result<Option<i64>, DomainError> {
    let found = users::standing(&db.pool, db.kind, id, session_id).await?;
    Ok(found
        .filter(|(valid_after, _)| since >= *valid_after)
        .map(|(_, lists_version)| lists_version))
}

/// Checks the user's current password (the gate of password changes and account deletion).
pub async fn check_password(db: &Db, user_id: &str, password: &str) -> Result<(), DomainError> {
    let wrong = || DomainError::invalid("wrong_password", "Your current password is not right.");
    if password.is_empty() || password.len() > MAX_PASSWORD * 4 {
        return Err(wrong());
    }
    let row = users::find_by_id(&db.pool, user_id)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    match verify_password(password.to_string(), row.password_hash).await {
        true => Ok(()),
        false => Err(wrong()),
    }
}

/// Changes the password after checking the current one, and ends every session that logged
/// in before now (the caller logs its own session in again). API tokens stay valid: they are
/// separate credentials, listed and revoked one by one on the account page.
/// Answers the moment from which log-ins count.
pub async fn change_password(
    db: &Db,
    user_id: &str,
    current: &str,
    new: &str,
) -> Result<i64, DomainError> {
    let user = find_user(db, user_id)
        .await?
        .ok_or_else(|| DomainError::not_found("User"))?;
    check_password(db, user_id, current).await?;
    check_password_strength(new, &user.email)?;
    if new == current {
        return Err(DomainError::invalid(
            "same_password",
            "The new password is the same as the current one.",
        ));
    }
    let hash = hash_password(new.to_string()).await?;
    let now = store::now_millis();
    if !users::set_password(&db.pool, user_id, &hash, now).await? {
        return Err(DomainError::not_found("User"));
    }
    tracing::info!(%user_id, "password changed; other sessions ended");
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.io",
            "ana@localhost",
            "a b@x.io",
            "a@b@c.io",
            "a@.io",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn weak_passwords_are_refused() {
        let email = "ana@example.com";
        for weak in ["short", "password", "PassWord", "aaaaaaaaaa"] {
            let err = check_password_strength(weak, email);
            assert!(err.is_err(), "{weak} accepted");
        }
        assert!(check_password_strength("ana", email).is_err());
        assert!(check_password_strength(&"x1".repeat(100), email).is_err());
        assert!(check_password_strength("correct horse battery", email).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse".into(), hash).await);
    }
}
