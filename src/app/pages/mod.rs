//! One module per page.

pub mod account;
pub mod auth;
pub mod canvas;
pub mod character;
pub mod characters;
pub mod credits;
pub mod not_found;
pub mod presets;
