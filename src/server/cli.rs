//! Operator commands on the studio's own database: make accounts (also when sign-up is
//! closed), list them, grant credits. Each prints one line per result; errors end non-zero.

use crate::config::{Config, CreditsCommand, UserCommand};
use crate::domain::{accounts, credits};
use crate::store::{users, Db};
use sqlx::Row;

pub async fn user(command: UserCommand, config: &Config) -> Result<(), String> {
    let db = Db::connect(&config.database_url).await?;
    match command {
        UserCommand::Create {
            email,
            password,
            credits,
        } => create_user(&db, &email, &password, credits).await,
        UserCommand::List => list_users(&db).await,
    }
}

pub async fn credits(command: CreditsCommand, config: &Config) -> Result<(), String> {
    let CreditsCommand::Grant { email, amount } = command;
    let amount = parse_amount(&amount)?;
    let db = Db::connect(&config.database_url).await?;
    let email = accounts::normalize_email(&email).map_err(|e| e.message)?;
    let user = users::find_by_email(&db.pool, &email)
        .await
        .map_err(|e| format!("cannot read accounts: {e}"))?
        .ok_or_else(|| format!("there is no account with the email {email}"))?;
    let key = format!("operator-grant:{}", crate::store::new_id());
    credits::grant(&db, &user.id, amount, &key, "granted by operator (cli)")
        .await
        .map_err(|e| e.message)?;
    let balance = credits::balance(&db, &user.id)
        .await
        .map_err(|e| e.message)?;
    println!("granted {amount} credits to {email}; balance now {balance}");
    Ok(())
}

async fn create_user(db: &Db, email: &str, password: &str, credits: i64) -> Result<(), String> {
    if credits < 0 {
        return Err("--credits must be 0 or more".into());
    }
    let user = accounts::sign_up(db, email, password, credits)
        .await
        .map_err(|e| e.message)?;
    println!("created {} with {credits} credits", user.email);
    Ok(())
}

async fn list_users(db: &Db) -> Result<(), String> {
    let rows = sqlx::query(
        "SELECT u.email, u.created_at,
            CAST(COALESCE((SELECT SUM(l.amount) FROM credit_ledger l WHERE l.user_id = u.id), 0) AS BIGINT)
            AS credits
         FROM users u ORDER BY u.created_at, u.email",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(|e| format!("cannot read accounts: {e}"))?;
    println!("{:<40} {:>10}  created", "email", "credits");
    for row in rows {
        let read = |e: sqlx::Error| format!("cannot read accounts: {e}");
        let email: String = row.try_get("email").map_err(read)?;
        let credits: i64 = row.try_get("credits").map_err(read)?;
        let created: i64 = row.try_get("created_at").map_err(read)?;
        println!("{email:<40} {credits:>10}  {}", format_millis(created));
    }
    Ok(())
}

/// A positive whole number of credits.
fn parse_amount(raw: &str) -> Result<i64, String> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=1_000_000_000).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "the amount must be between 1 and 1000000000 credits, not {raw}"
        )),
        Err(_) => Err(format!(
            "the amount must be a whole number of credits, not {raw:?}"
        )),
    }
}

fn format_millis(millis: i64) -> String {
    let format = time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| millis.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_whole_numbers() {
        assert_eq!(parse_amount("25"), Ok(25));
        for bad in ["0", "-5", "2.5", "ten", "", "99999999999"] {
            assert!(parse_amount(bad).is_err(), "{bad} accepted");
        }
    }
}
