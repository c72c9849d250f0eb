//! Rules of the studio, free of HTTP: accounts, API tokens, credits.

pub mod accounts;
pub mod avatars;
pub mod characters;
pub mod credits;
pub mod error;
pub mod generation_worker;
pub mod generations;
pub mod library;
pub mod once;
pub mod paging;
pub mod reconciler;
pub mod studio;
pub mod tokens;
