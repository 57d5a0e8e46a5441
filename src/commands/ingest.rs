//! `pbgdpl ingest`: files and folders of returns, read in bounded worker processes, with a progress
//! bar on a terminal; exit 0 when nothing was rejected, 1 when anything was.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use pbgdpl_catalog::model::ImportSummary;
use pbgdpl_catalog::{Catalog, Period};
use pbgdpl_ingest::pipeline::{self, Options};
use pbgdpl_store::Store;

use super::Context;

pub(crate) fn run(
    ctx: &Context,
    paths: &[PathBuf],
    dry_run: bool,
    json: bool,
    period: Option<Period>,
    received_at: Option<chrono::NaiveDate>,
) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let received_at = match received_at {
        // Noon in Vietnam, so that the local date is the one given.
        Some(date) => pbgdpl_catalog::Clock::on(date).now(),
        None => ctx.clock.now(),
    };
    let opts = Options {
        dry_run,
        period: period.map(|p| p.code()),
        isolation: crate::worker::config(),
        today: ctx.clock.today(),
        ..Options::received(received_at)
    };
    let (summary, skipped) = with_progress(&ctx.catalog, &*store, paths, &opts, !json)?;
    if json {
        super::out(format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
    } else {
        super::out(pbgdpl_reports::text::import_summary(&ctx.catalog, &summary, dry_run))?;
        if skipped > 0 {
            super::out(format!("Bỏ qua {skipped} tệp ẩn hoặc tệp tạm của Office (~$…).\n"))?;
        }
    }
    Ok(ExitCode::from(u8::from(summary.any_rejected())))
}

/// Ingests files and folders with a progress bar on a terminal; the summary and the number of hidden
/// or lock files left out.
pub(crate) fn with_progress(
    catalog: &Catalog,
    store: &dyn Store,
    paths: &[PathBuf],
    opts: &Options,
    show: bool,
) -> anyhow::Result<(ImportSummary, usize)> {
    let collected = pipeline::collect_files(paths)?;
    let files = collected.files;
    let bar = if show && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} tệp {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let summary = pipeline::ingest_files(catalog, store, &files, opts, &mut |done, path| {
        if let Some(b) = &bar {
            b.set_position(done as u64);
            b.set_message(
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((summary, collected.skipped.len()))
}
