//! Pieces shared by several pages.

pub mod actions;
pub mod avatar_badge;
pub mod character_card;
pub mod character_picker;
pub mod confirm;
pub mod create_character;
pub mod generation_card;
pub mod header;
pub mod keyed_rows;
pub mod notice;
pub mod preset_source;
pub mod require_login;
pub mod sketch;
pub mod subject_actions;
pub mod time;
pub mod voice_picker;
