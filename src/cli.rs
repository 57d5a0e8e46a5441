//! Commands of `interfaces.md`: demo, ingest, export, indicators, template, report, serve, user.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use pbgdpl_engine::{Engine, IndicatorValue, PeriodSpec};
use pbgdpl_ingest::catalog::{CatalogSource, Period};
use pbgdpl_ingest::pipeline::{self, Options, Status};
use pbgdpl_ingest::{Catalog, Store};

#[derive(Parser)]
#[command(
    name = "pbgdpl",
    version,
    about = "Báo cáo, chỉ tiêu phổ biến, giáo dục pháp luật (PBGDPL) — reporting and KPI engine"
)]
struct Cli {
    /// The store folder (embedded database), created on first use.
    #[arg(long, global = true, default_value = "./pbgdpl-data")]
    store: PathBuf,
    /// A catalog folder (default: the bundled catalog of Quảng Ngãi, 51).
    #[arg(long, global = true)]
    catalog: Option<PathBuf>,
    /// A unit list (CSV) used instead of the catalog's.
    #[arg(long, global = true)]
    units: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole job on a demo store: generated returns ingested, indicators, report, dashboards.
    Demo {
        /// Address to serve the dashboards on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
        /// Folder for the report files.
        #[arg(long, default_value = "./pbgdpl-out")]
        out: PathBuf,
        /// Stop after writing the report instead of serving the dashboards.
        #[arg(long)]
        no_serve: bool,
    },
    /// Read, validate and store returns from files or folders (recursively).
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Validate only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the import summary as JSON.
        #[arg(long)]
        json: bool,
        /// Reject returns of another period.
        #[arg(long)]
        period: Option<String>,
        /// The receipt date (YYYY-MM-DD) for deadlines; default: now.
        #[arg(long)]
        received_at: Option<String>,
    },
    /// The stored values (latest versions) in long form.
    Export {
        #[arg(long)]
        period: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Indicator values for a unit (default: the province) and its children.
    Indicators {
        /// A period (2026S1, 2026P, 2026) or a phase (2025-2027).
        #[arg(long)]
        period: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// A blank return ready to fill, or with --all every unit's returns for the period, zipped.
    Template {
        #[arg(long, required_unless_present = "all")]
        form: Option<String>,
        #[arg(long, required_unless_present = "all")]
        unit: Option<String>,
        #[arg(long)]
        period: String,
        /// Every unit's workbook (the forms it owes), in one .zip.
        #[arg(long)]
        all: bool,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// The Ministry report files for a period.
    Report {
        #[arg(long)]
        period: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, default_value = "./pbgdpl-out")]
        out: PathBuf,
    },
    /// The web app and API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Users of the API and the web app.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Close a period for submissions once its report is sent, or open it again.
    Period {
        #[command(subcommand)]
        command: PeriodCommand,
    },
}

#[derive(Subcommand)]
enum PeriodCommand {
    /// Refuse returns for the period from now on (rule `period_locked`).
    Lock {
        period: String,
        /// Who locks it, for the record.
        #[arg(long)]
        by: Option<String>,
    },
    /// Accept returns for the period again.
    Unlock { period: String },
    /// The locked periods.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print its API token once.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The unit a reporter reports for.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Set the password a person logs in to the web app with (read from the terminal or stdin).
    Passwd { name: String },
    /// Print a one-time login link (valid 15 minutes) to send to a person.
    Link { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum Role {
    Admin,
    Viewer,
    Reporter,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TableFormat {
    Table,
    Json,
    Csv,
}

/// The hidden argument that turns the binary into a workbook-reading worker.
pub(crate) use pbgdpl_ingest::read::isolate::WORKER_ARG;

/// How the library starts a worker: this binary, with a time limit per file.
pub(crate) fn worker_config() -> Option<pbgdpl_ingest::read::isolate::WorkerConfig> {
    let program = std::env::current_exe().ok()?;
    Some(pbgdpl_ingest::read::isolate::WorkerConfig {
        program,
        args: vec![WORKER_ARG.into()],
        timeout: std::time::Duration::from_secs(10),
    })
}

/// The worker: caps its own address space a little above what it uses at start (the binary and its
/// libraries), then reads workbooks from stdin until it closes. An allocation past the cap aborts this
/// process only; the parent rejects that one file.
pub(crate) fn read_worker() -> ExitCode {
    const HEADROOM: u64 = 384 * 1024 * 1024;
    let vm_now = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmSize:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(1 << 30);
    if rlimit::setrlimit(rlimit::Resource::AS, vm_now + HEADROOM, vm_now + HEADROOM).is_err() {
        return ExitCode::from(3);
    }
    let limits = pbgdpl_ingest::read::Limits::default();
    match pbgdpl_ingest::read::isolate::serve_worker(
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &limits,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PBGDPL_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            ExitCode::from(2)
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

fn parse_period(s: &str) -> anyhow::Result<Period> {
    Period::parse(s).with_context(|| format!("kỳ báo cáo `{s}` không hợp lệ (ví dụ: 2026S1, 2026P, 2026)"))
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&cli)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match &cli.command {
        Command::Demo { addr, out, no_serve } => {
            // The demo never touches the default store: its own, recreated each run.
            let store_dir = if cli.store == Path::new("./pbgdpl-data") {
                PathBuf::from("./pbgdpl-demo")
            } else {
                cli.store.clone()
            };
            crate::demo::run(&rt, catalog, &store_dir, out, addr, !*no_serve)
        }
        Command::Ingest {
            paths,
            dry_run,
            json,
            period,
            received_at,
        } => {
            if let Some(p) = period {
                parse_period(p)?;
            }
            let mut store = Store::open(&cli.store)?;
            let mut opts = Options {
                dry_run: *dry_run,
                period: period.clone(),
                isolation: worker_config(),
                ..Options::default()
            };
            if let Some(d) = received_at {
                let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .with_context(|| format!("--received-at `{d}` không phải ngày YYYY-MM-DD"))?;
                // Noon in Vietnam, so that the local date is the one given.
                opts.received_at = date.and_hms_opt(5, 0, 0).unwrap_or_default().and_utc();
            }
            let summary = ingest_with_progress(&catalog, &mut store, paths, &opts, !*json)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_summary(&catalog, &summary, *dry_run);
            }
            Ok(ExitCode::from(u8::from(summary.any_rejected())))
        }
        Command::Export {
            period,
            unit,
            format,
            output,
        } => {
            parse_period(period)?;
            let store = Store::open(&cli.store)?;
            export(&catalog, &store, period, unit.as_deref(), *format, output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Indicators { period, unit, format } => {
            let spec = PeriodSpec::parse(period)
                .with_context(|| format!("kỳ `{period}` không hợp lệ (2026S1, 2026P, 2026 hoặc 2025-2027)"))?;
            let store = Store::open(&cli.store)?;
            let engine = engine_for(&catalog, &store)?;
            let unit = unit.clone().unwrap_or_else(|| catalog.province.code.clone());
            let values = rt.block_on(engine.indicators(&spec, &unit))?;
            print_indicators(&values, *format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Template {
            form,
            unit,
            period,
            all,
            output,
        } => {
            let period = parse_period(period)?;
            let bytes = if *all {
                pbgdpl_reports::template::bulk_zip(&catalog, &period)?
            } else {
                let (form, unit) = (form.as_deref().unwrap_or_default(), unit.as_deref().unwrap_or_default());
                let form = catalog
                    .form(form)
                    .with_context(|| format!("biểu mẫu `{form}` không có trong danh mục"))?;
                let unit = catalog
                    .units
                    .get(unit)
                    .with_context(|| format!("đơn vị `{unit}` không có trong danh sách"))?;
                pbgdpl_reports::template::return_workbook(&catalog, unit, &period, &[(form, None)])?
            };
            std::fs::write(output, bytes).with_context(|| format!("{}", output.display()))?;
            println!("{}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { period, unit, out } => {
            let period = parse_period(period)?;
            let store = Store::open(&cli.store)?;
            let unit = unit.clone().unwrap_or_else(|| catalog.province.code.clone());
            for f in write_report(&rt, &catalog, &store, &period, &unit, out)? {
                println!("{}", f.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { addr } => {
            let store = Store::open(&cli.store)?;
            drop(store);
            rt.block_on(serve(catalog, cli.store.clone(), addr, None))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Add { name, role, unit },
        } => {
            let role = match role {
                Role::Admin => "admin",
                Role::Viewer => "viewer",
                Role::Reporter => "reporter",
            };
            if role == "reporter" && unit.is_none() {
                bail!("người báo cáo (reporter) cần --unit");
            }
            if let Some(u) = unit {
                catalog
                    .units
                    .get(u)
                    .with_context(|| format!("đơn vị `{u}` không có trong danh sách"))?;
            }
            let mut store = Store::open(&cli.store)?;
            let token = store.add_user(name, role, unit.as_deref())?;
            println!("{token}");
            eprintln!("Mã truy cập (token) chỉ hiển thị một lần; hãy lưu lại.");
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Passwd { name },
        } => {
            let mut store = Store::open(&cli.store)?;
            if std::io::stdin().is_terminal() {
                eprint!("Mật khẩu mới cho {name} (ít nhất 8 ký tự): ");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            store.set_password(name, line.trim_end_matches(['\r', '\n']))?;
            eprintln!("Đã đặt mật khẩu cho {name}.");
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Link { name },
        } => {
            let mut store = Store::open(&cli.store)?;
            println!("/dang-nhap/lien-ket/{}", store.create_login_link(name, 15)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Period { command } => period_command(&cli, command),
    }
}

fn period_command(cli: &Cli, command: &PeriodCommand) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(&cli.store)?;
    let code = |p: &str| parse_period(p).map(|p| p.code());
    match command {
        PeriodCommand::Lock { period, by } => {
            let period = code(period)?;
            if store.lock_period(&period, by.as_deref())? {
                println!("Đã khóa kỳ {period}: báo cáo gửi cho kỳ này sẽ bị từ chối.");
            } else {
                println!("Kỳ {period} đã khóa từ trước.");
            }
        }
        PeriodCommand::Unlock { period } => {
            let period = code(period)?;
            if store.unlock_period(&period)? {
                println!("Đã mở khóa kỳ {period}.");
            } else {
                println!("Kỳ {period} không bị khóa.");
            }
        }
        PeriodCommand::List => {
            for l in store.period_locks()? {
                println!(
                    "{}\t{}\t{}",
                    l.period,
                    pbgdpl_ingest::arrow_tables::local_date(&l.locked_at),
                    l.locked_by.unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn ingest_with_progress(
    catalog: &Catalog,
    store: &mut Store,
    paths: &[PathBuf],
    opts: &Options,
    show: bool,
) -> anyhow::Result<pipeline::ImportSummary> {
    let files = pipeline::collect_files(paths)?;
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
    Ok(summary)
}

/// The human summary of an import: the returns that need attention (rejected, warned, changed), then
/// a table per unit, then the totals.
fn print_summary(catalog: &Catalog, summary: &pipeline::ImportSummary, dry_run: bool) {
    let mut out = std::io::stdout().lock();
    let issue_line = |kind: &str, e: &pbgdpl_ingest::Issue| {
        let place = match (&e.sheet, &e.cell) {
            (Some(s), Some(c)) => format!("{s}!{c}"),
            (Some(s), None) => s.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => "tệp".into(),
        };
        format!("    {kind} [{}] {place}: {}", e.rule.id(), e.message)
    };
    for r in &summary.returns {
        let new_version = r.status == Status::Accepted && r.version.unwrap_or(1) > 1;
        if r.status != Status::Rejected && r.warnings.is_empty() && !new_version {
            continue;
        }
        let status = match r.status {
            Status::Rejected => "BỊ TỪ CHỐI",
            _ if new_version => "phiên bản mới",
            _ => "đã nhận, có cảnh báo",
        };
        let what = [
            r.file.as_deref(),
            r.form.as_deref(),
            r.unit.as_deref(),
            r.period.as_deref(),
        ]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
        let _ = writeln!(out, "{status}: {what}");
        for e in &r.errors {
            let _ = writeln!(out, "{}", issue_line("lỗi", e));
        }
        for w in &r.warnings {
            let _ = writeln!(out, "{}", issue_line("cảnh báo", w));
        }
        for c in &r.changed {
            let before = c.before.as_deref().unwrap_or("trống");
            let after = c.after.as_deref().unwrap_or("trống");
            let _ = writeln!(
                out,
                "    thay đổi: dòng {} cột ({}) {before} → {after}",
                c.row, c.column
            );
        }
    }
    // Per unit: accepted (new), new versions, unchanged, rejected.
    let mut per_unit: std::collections::BTreeMap<String, [usize; 4]> = std::collections::BTreeMap::new();
    for r in &summary.returns {
        let key = r.unit.clone().unwrap_or_else(|| "(không rõ)".into());
        let slot = match r.status {
            Status::Accepted if r.version.unwrap_or(1) > 1 => 1,
            Status::Accepted => 0,
            Status::Unchanged => 2,
            Status::Rejected => 3,
        };
        per_unit.entry(key).or_default()[slot] += 1;
    }
    let _ = writeln!(
        out,
        "\n{:<10} {:<34} {:>7} {:>9} {:>9} {:>9}",
        "Mã", "Đơn vị", "Đã nhận", "Bản mới", "Không đổi", "Từ chối"
    );
    for (unit, n) in &per_unit {
        let name = catalog.units.get(unit).map(|u| u.name.as_str()).unwrap_or("");
        let name: String = name.chars().take(34).collect();
        let _ = writeln!(
            out,
            "{unit:<10} {name:<34} {:>7} {:>9} {:>9} {:>9}",
            n[0], n[1], n[2], n[3]
        );
    }
    let total = |i: usize| per_unit.values().map(|n| n[i]).sum::<usize>();
    let _ = writeln!(
        out,
        "Tổng cộng: {} báo cáo — {} đã nhận, {} phiên bản mới, {} không đổi, {} bị từ chối{}",
        summary.returns.len(),
        total(0),
        total(1),
        total(2),
        total(3),
        if dry_run { " (chạy thử, không lưu)" } else { "" }
    );
}

pub(crate) fn engine_for(catalog: &Arc<Catalog>, store: &Store) -> anyhow::Result<Engine> {
    let values = pbgdpl_ingest::arrow_tables::values_batch(&store.all_latest_values()?)?;
    let returns = pbgdpl_ingest::arrow_tables::returns_batch(&store.returns(None)?)?;
    Ok(Engine::new(catalog.clone(), values, returns)?)
}

fn export(
    catalog: &Catalog,
    store: &Store,
    period: &str,
    unit: Option<&str>,
    format: ExportFormat,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let root = unit.unwrap_or(&catalog.province.code);
    let under: std::collections::HashSet<&str> = catalog.units.subtree(root).iter().map(|u| u.code.as_str()).collect();
    if under.is_empty() {
        bail!("đơn vị `{root}` không có trong danh sách");
    }
    let values: Vec<_> = store
        .latest_values(period)?
        .into_iter()
        .filter(|v| under.contains(v.unit.as_str()))
        .collect();
    let mut sink: Box<dyn Write> = match output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("{}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    match format {
        ExportFormat::Json => {
            let rows: Vec<serde_json::Value> = values
                .iter()
                .map(|v| serde_json::json!({"unit": v.unit, "form": v.form, "row": v.row, "column": v.column, "value": v.value}))
                .collect();
            serde_json::to_writer_pretty(&mut sink, &rows)?;
            writeln!(sink)?;
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(sink);
            w.write_record(["unit", "form", "row", "column", "value"])?;
            for v in &values {
                // Text values (F03) are neutralised: a spreadsheet opening the CSV must not run them.
                w.write_record([
                    v.unit.clone(),
                    v.form.clone(),
                    v.row.clone(),
                    v.column.to_string(),
                    pbgdpl_reports::neutralise(&v.value.to_text()),
                ])?;
            }
            w.flush()?;
        }
        ExportFormat::Parquet => {
            let Some(path) = output else {
                bail!("--format parquet cần -o FILE")
            };
            drop(sink);
            write_parquet(&values, path)?;
        }
    }
    Ok(())
}

fn write_parquet(values: &[pbgdpl_ingest::store::StoredValue], path: &Path) -> anyhow::Result<()> {
    let batch = pbgdpl_ingest::arrow_tables::values_batch(values)?;
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)?;
    w.write(&batch)?;
    w.close()?;
    Ok(())
}

fn fmt_opt(v: Option<f64>, places: usize) -> String {
    v.map(|x| pbgdpl_ingest::text::decimal_vi(x, places))
        .unwrap_or_else(|| "—".into())
}

pub(crate) fn print_indicators(values: &[IndicatorValue], format: TableFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut out, values)?;
            writeln!(out)?;
        }
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "indicator",
                "unit",
                "period",
                "value",
                "numerator",
                "denominator",
                "target",
                "status",
                "coverage",
                "basis",
            ])?;
            for v in values {
                w.write_record([
                    v.indicator.clone(),
                    v.unit.clone(),
                    v.period.clone(),
                    v.value.map(|x| x.to_string()).unwrap_or_default(),
                    v.numerator.map(|x| x.to_string()).unwrap_or_default(),
                    v.denominator.map(|x| x.to_string()).unwrap_or_default(),
                    v.target.map(|x| x.to_string()).unwrap_or_default(),
                    v.status
                        .map(|s| {
                            if s == pbgdpl_engine::Status::Dat {
                                "dat"
                            } else {
                                "chua_dat"
                            }
                            .to_owned()
                        })
                        .unwrap_or_default(),
                    v.coverage.map(|x| x.to_string()).unwrap_or_default(),
                    v.basis.clone().unwrap_or_default(),
                ])?;
            }
            w.flush()?;
        }
        TableFormat::Table => {
            let mut current = String::new();
            for v in values {
                if v.unit != current {
                    current = v.unit.clone();
                    writeln!(out, "\n{} ({}) — kỳ {}", v.unit_name, v.unit, v.period)?;
                    writeln!(
                        out,
                        "{:<6} {:>12} {:>10} {:<9} {:>9} {:>9}",
                        "Mã", "Giá trị", "Mục tiêu", "Đánh giá", "Chênh", "Bao phủ"
                    )?;
                }
                writeln!(
                    out,
                    "{:<6} {:>12} {:>10} {:<9} {:>9} {:>9}",
                    v.indicator,
                    match v.value {
                        Some(x) if v.measure == "%" || v.measure == "‰" =>
                            format!("{} {}", pbgdpl_ingest::text::decimal_vi(x, 2), v.measure),
                        Some(x) => pbgdpl_ingest::text::decimal_vi(x, 0),
                        None => "—".into(),
                    },
                    v.target
                        .map(|t| format!("≥ {}%", pbgdpl_ingest::text::decimal_vi(t, 0)))
                        .unwrap_or_else(|| "—".into()),
                    v.status.map(|s| s.label()).unwrap_or("—"),
                    fmt_opt(v.gap, 2),
                    v.coverage
                        .map(|c| format!("{}%", pbgdpl_ingest::text::decimal_vi(c * 100.0, 0)))
                        .unwrap_or_else(|| "—".into()),
                )?;
            }
        }
    }
    Ok(())
}

pub(crate) fn write_report(
    rt: &tokio::runtime::Runtime,
    catalog: &Arc<Catalog>,
    store: &Store,
    period: &Period,
    unit: &str,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let engine = engine_for(catalog, store)?;
    let today = chrono::Local::now().date_naive();
    let facts = pbgdpl_reports::bundle::StoreFacts::read(store, period)?;
    let (xlsx, docx) = rt.block_on(pbgdpl_reports::bundle::report_files(
        &engine, &facts, period, unit, today,
    ))?;
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let stem = pbgdpl_reports::bundle::file_stem(unit, period);
    let mut written = Vec::new();
    for (ext, bytes) in [("xlsx", xlsx), ("docx", docx)] {
        let path = out.join(format!("{stem}.{ext}"));
        std::fs::write(&path, bytes).with_context(|| format!("{}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Serves the web app until Ctrl-C. `login` is a path to print beside the address (the demo's
/// one-time login link).
pub(crate) async fn serve(
    catalog: Arc<Catalog>,
    store_dir: PathBuf,
    addr: &str,
    login: Option<String>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("không mở được địa chỉ {addr}"))?;
    let local = listener.local_addr()?;
    println!("Bảng điều khiển: http://{local}/");
    if let Some(path) = login {
        println!("Đăng nhập (liên kết dùng một lần): http://{local}{path}");
    }
    let _ = std::io::stdout().flush();
    let state = pbgdpl_dashboards::AppState::new(catalog, store_dir, worker_config())?;
    pbgdpl_dashboards::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
