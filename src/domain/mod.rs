//! Rules of the studio, free of HTTP: accounts, API tokens, credits.

pub mod accounts;
pub mod credits;
pub mod tokens;
