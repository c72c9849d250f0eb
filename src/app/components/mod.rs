//! Pieces shared by several pages.

pub mod header;
pub mod notice;
pub mod require_login;
