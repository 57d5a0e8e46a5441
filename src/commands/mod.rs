//! One module per command of `interfaces.md`, over a shared [`Context`]: the catalog, the store,
//! the clock and the async runtime. `demo` composes the others.

mod demo;
mod ingest;
mod ops;
mod push;
mod report;
mod serve;
mod survey;
mod tables;
mod template;
mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use pbgdpl_catalog::{Catalog, CatalogSource, Clock};
use pbgdpl_engine::Engine;
use pbgdpl_store::Store;

use crate::args::{Cli, Command, DEFAULT_STORE};

/// A mistake in what the user typed, found after parsing (an unknown unit, a missing option).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(pub(crate) String);

/// Writes a command's output. A reader that stops early (`| head`) closes the pipe: the error says so,
/// and `main` ends quietly, as Unix tools do.
pub(crate) fn out(text: impl AsRef<str>) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_ref().as_bytes())?;
    stdout.flush()
}

/// What every command shares.
pub(crate) struct Context {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) store_dir: PathBuf,
    pub(crate) clock: Clock,
    pub(crate) rt: tokio::runtime::Runtime,
}

impl Context {
    pub(crate) fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(pbgdpl_store::open(&self.store_dir)?)
    }

    /// An engine over the store as it is now, having read `periods` (stored codes: what the
    /// command computes from), read as the server reads it.
    pub(crate) fn engine(&self, store: &dyn Store, periods: &[String]) -> anyhow::Result<Engine> {
        let engine = pbgdpl_dashboards::load_engine(&self.catalog, store)?.engine;
        let engine = pbgdpl_dashboards::read_periods(engine, store, periods)?;
        Ok(pbgdpl_dashboards::estimated(
            &self.catalog,
            store,
            engine,
            self.rt.handle(),
        )?)
    }

    /// The unit a command is about: the one given (checked against the catalog), else the province.
    pub(crate) fn unit(&self, unit: Option<&str>) -> anyhow::Result<String> {
        match unit {
            Some(u) if self.catalog.units.get(u).is_none() => {
                Err(Usage(format!("đơn vị `{u}` không có trong danh sách")).into())
            }
            Some(u) => Ok(u.to_owned()),
            None => Ok(self.catalog.province.code.clone()),
        }
    }

    /// The unit of `--unit` in a view: with `--as-of`, the unit that held the code on that day (a
    /// code that named no unit then is the user's mistake, not an empty table).
    pub(crate) fn unit_in(&self, unit: Option<&str>, view: pbgdpl_engine::View) -> anyhow::Result<String> {
        let pbgdpl_engine::View::AsOf(date) = view else {
            return self.unit(unit);
        };
        let code = match unit {
            Some(u) => u.split('@').next().unwrap_or(u),
            None => self.catalog.province.code.as_str(),
        };
        match self.catalog.units.at(code, date) {
            Some(u) => Ok(u.key.clone()),
            None => Err(Usage(format!(
                "đơn vị `{code}` không có trong danh sách vào ngày {}",
                date.format("%d/%m/%Y")
            ))
            .into()),
        }
    }
}

fn load_catalog(cli: &Cli) -> anyhow::Result<Arc<Catalog>> {
    let mut src = match &cli.catalog {
        Some(dir) => CatalogSource::from_dir(dir)?,
        None => pbgdpl_fixtures::catalog::bundled_source(),
    };
    if let Some(path) = &cli.units {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        src = src.with_units(&path.display().to_string(), text);
    }
    Ok(Arc::new(Catalog::from_source(&src)?))
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock = Clock::from_env().map_err(Usage)?;
    let ctx = Context {
        catalog: load_catalog(&cli)?,
        store_dir: cli.store.clone(),
        clock,
        rt: tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
    };
    match cli.command {
        Command::Demo { addr, out, no_serve } => {
            // The demo never touches the default store: its own, recreated each run.
            let store_dir = if cli.store == Path::new(DEFAULT_STORE) {
                PathBuf::from("./pbgdpl-demo")
            } else {
                cli.store.clone()
            };
            demo::run(Context { store_dir, ..ctx }, &out, &addr, !no_serve)
        }
        Command::Ingest {
            paths,
            dry_run,
            json,
            period,
            received_at,
        } => ingest::run(&ctx, &paths, dry_run, json, period, received_at),
        Command::Export {
            period,
            unit,
            format,
            output,
        } => tables::export(&ctx, &period, unit.as_deref(), format, output.as_deref()),
        Command::Indicators {
            period,
            unit,
            as_of,
            format,
        } => tables::indicators(&ctx, &period, unit.as_deref(), view(as_of), format),
        Command::Template {
            form,
            unit,
            period,
            all,
            output,
        } => template::run(&ctx, form.as_deref(), unit.as_deref(), &period, all, &output),
        Command::Report {
            period,
            unit,
            as_of,
            out,
        } => report::run(&ctx, &period, unit.as_deref(), view(as_of), &out),
        Command::Serve { addr, secure_cookies } => serve::run(&ctx, &addr, secure_cookies, None),
        Command::Survey { command } => survey::run(&ctx, command),
        Command::User { command } => user::run(&ctx, command),
        Command::Period { command } => ops::period(&ctx, command),
        Command::Push { to, period } => push::run(&ctx, &to, period.as_ref()),
        Command::Backup { file } => ops::backup(&ctx, &file),
        Command::Restore { file } => ops::restore(&ctx, &file),
        Command::Audit { since, limit, json } => ops::audit(&ctx, since, limit, json),
    }
}

/// The view of time a command shows: today's hierarchy, or the one of `--as-of`.
fn view(as_of: Option<chrono::NaiveDate>) -> pbgdpl_engine::View {
    as_of.map_or(pbgdpl_engine::View::Present, pbgdpl_engine::View::AsOf)
}
