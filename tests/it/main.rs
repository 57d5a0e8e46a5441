//! End-to-end tests: the sample returns through ingest, store, engine and export; the aggregation rules
//! pinned with hand-computed cases; and the command line as users and scripts run it.

mod access;
mod aggregation;
mod api;
mod browser;
mod cli;
mod crash;
mod dashboards;
mod deadline;
mod effective;
mod incremental;
mod layouts;
mod national;
mod pages;
mod report;
mod roundtrip;
mod samples;
mod security;
mod support;
mod surveys;
mod tidy;
mod timeline;
mod wild;
