//! Typed client of the A2E API (`/api/v1/…`): one function per call the studio makes.
//! Lenient in what it reads, strict in what it sends; the key never leaves this module.

mod account;
mod avatars;
mod client;
mod error;
mod images;
mod lookup;
pub mod types;
mod video;
mod voices;

pub use client::{read_envelope, A2eClient, A2eConfig};
pub use error::A2eError;
pub use types::*;
