//! End-to-end tests: the sample returns through ingest, store, engine and export; the aggregation rules
//! pinned with hand-computed cases; and the command line as users and scripts run it.

mod aggregation;
mod api;
mod browser;
mod cli;
mod layouts;
mod pages;
mod report;
mod roundtrip;
mod samples;
mod support;
mod tidy;
