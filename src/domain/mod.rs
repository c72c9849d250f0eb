//! Rules of the studio, free of HTTP: accounts, API tokens, credits.

pub mod accounts;
pub mod avatars;
pub mod characters;
pub mod closing;
pub mod credits;
pub mod error;
pub mod generation_worker;
pub mod generations;
pub mod imports;
pub mod ledger;
pub mod library;
pub mod media;
pub mod once;
pub mod paging;
pub mod preflight;
pub mod presets;
pub mod reconciler;
pub mod studio;
pub mod tokens;
pub mod training_watch;
pub mod voices;
