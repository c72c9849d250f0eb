//! Every integration test in one binary: one link instead of one per file (each test binary
//! links the whole studio, hundreds of MB), and one process whose servers share the route list.

#[macro_use]
mod common;

mod a2e_contract;
mod abandoned_pages;
mod account_pages;
mod accounts;
mod change_count;
mod characters;
mod cli;
mod compression;
mod credits;
mod csrf;
mod exactly_once;
mod forms;
mod generations;
mod guard;
mod headers;
mod idempotency;
mod jobs;
mod kept_pages;
mod library;
mod live_events;
mod media;
mod ops;
mod outbound;
mod page_data;
mod plain_forms;
mod restart;
mod sessions;
mod simulator_privacy;
mod storage;
mod training_watch;
mod voices;
