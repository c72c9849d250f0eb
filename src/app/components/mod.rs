//! Pieces shared by several pages.

pub mod avatar_badge;
pub mod character_card;
pub mod create_character;
pub mod header;
pub mod notice;
pub mod require_login;
