//! The command line's arguments: clap types only, with value parsers for what users type (periods,
//! dates, roles), so that a mistake is refused before any work starts.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use pbgdpl_catalog::{Period, PeriodSpec, Role};

#[derive(Parser)]
#[command(
    name = "pbgdpl",
    version,
    about = "Báo cáo, chỉ tiêu phổ biến, giáo dục pháp luật (PBGDPL) — reporting and KPI engine"
)]
pub(crate) struct Cli {
    /// The store: a folder (the embedded database, created on first use) or a PostgreSQL URL
    /// (`postgres://user@host/db`) shared by several servers.
    #[arg(long, global = true, default_value = DEFAULT_STORE)]
    pub(crate) store: PathBuf,
    /// A catalog folder (default: the bundled catalog of Quảng Ngãi, 51).
    #[arg(long, global = true)]
    pub(crate) catalog: Option<PathBuf>,
    /// A unit list (CSV) used instead of the catalog's.
    #[arg(long, global = true)]
    pub(crate) units: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The default store folder; `demo` never uses it.
pub(crate) const DEFAULT_STORE: &str = "./pbgdpl-data";

#[derive(Subcommand)]
pub(crate) enum Command {
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
        #[arg(long, value_parser = parse_period)]
        period: Option<Period>,
        /// The receipt date (YYYY-MM-DD) for deadlines; default: now.
        #[arg(long, value_parser = parse_date)]
        received_at: Option<chrono::NaiveDate>,
    },
    /// The stored values (latest versions) in long form.
    Export {
        #[arg(long, value_parser = parse_period)]
        period: Period,
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
        #[arg(long, value_parser = parse_spec)]
        period: PeriodSpec,
        #[arg(long)]
        unit: Option<String>,
        /// Show the hierarchy as it stood on a date (YYYY-MM-DD), not today's: the units of then, under
        /// their parents of then, without the history of their successors.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// A blank return ready to fill, or with --all every unit's returns for the period, zipped.
    Template {
        #[arg(long, required_unless_present = "all")]
        form: Option<String>,
        #[arg(long, required_unless_present = "all")]
        unit: Option<String>,
        #[arg(long, value_parser = parse_period)]
        period: Period,
        /// Every unit's workbook (the forms it owes), in one .zip.
        #[arg(long)]
        all: bool,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// The Ministry report files for a period.
    Report {
        #[arg(long, value_parser = parse_period)]
        period: Period,
        #[arg(long)]
        unit: Option<String>,
        /// Report in the hierarchy as it stood on a date (YYYY-MM-DD) instead of today's.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, default_value = "./pbgdpl-out")]
        out: PathBuf,
    },
    /// The web app and API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Mark cookies `Secure` (when the app is served over HTTPS behind a proxy).
        #[arg(long)]
        secure_cookies: bool,
    },
    /// Citizen survey files (KoboToolbox, ODK, Google Forms exports; XLSX or CSV).
    Survey {
        #[command(subcommand)]
        command: SurveyCommand,
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
    /// Send this store's accepted returns (latest versions) to another pbgdpl server — a province's
    /// to the Ministry's — through its API; the token is read from PBGDPL_PUSH_TOKEN. Pushing again
    /// sends nothing new.
    Push {
        /// The receiving server, e.g. https://pbgdpl.moj.gov.vn
        #[arg(long)]
        to: String,
        /// Only this period (default: every period).
        #[arg(long, value_parser = parse_period)]
        period: Option<Period>,
    },
    /// A consistent copy of the store, taken while it is in use.
    Backup {
        /// The file to write (must not exist).
        file: PathBuf,
    },
    /// Replace the store by a backup, after checking the backup's integrity (stop the server first).
    Restore { file: PathBuf },
    /// The audit log: every write and every refused access, oldest first.
    Audit {
        /// Only lines from this day on (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        since: Option<chrono::NaiveDate>,
        /// At most this many lines (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum PeriodCommand {
    /// Refuse returns for the period from now on (rule `period_locked`).
    Lock {
        #[arg(value_parser = parse_period)]
        period: Period,
        /// Who locks it, for the record.
        #[arg(long)]
        by: Option<String>,
    },
    /// Accept returns for the period again.
    Unlock {
        #[arg(value_parser = parse_period)]
        period: Period,
    },
    /// The locked periods.
    List,
}

#[derive(Subcommand)]
pub(crate) enum SurveyCommand {
    /// Read, validate and store one survey export as a new version of (survey, period): accepted
    /// whole, or refused with every bad row named.
    Ingest {
        file: PathBuf,
        /// The period the answers belong to (2026S1, 2026P, 2026).
        #[arg(long, value_parser = parse_period)]
        period: Period,
        /// The catalog survey (default: the catalog's only one).
        #[arg(long)]
        survey: Option<String>,
        /// Validate only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user and print its API token once.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The unit a reporter reports for.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Set the password a person logs in to the web app with (read from the terminal or stdin).
    Passwd { name: String },
    /// Print a one-time login link (valid 15 minutes) to send to a person.
    Link { name: String },
    /// Issue a new API token (the old one stops working) and print it once.
    Token { name: String },
    /// Disable a user: token, password, links and sessions stop working.
    Disable { name: String },
    /// The users, their roles and units.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
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

impl From<TableFormat> for pbgdpl_reports::text::Format {
    fn from(f: TableFormat) -> Self {
        match f {
            TableFormat::Table => pbgdpl_reports::text::Format::Table,
            TableFormat::Json => pbgdpl_reports::text::Format::Json,
            TableFormat::Csv => pbgdpl_reports::text::Format::Csv,
        }
    }
}

fn parse_period(s: &str) -> Result<Period, String> {
    Period::parse(s).ok_or_else(|| format!("kỳ báo cáo `{s}` không hợp lệ (ví dụ: 2026S1, 2026P, 2026)"))
}

fn parse_spec(s: &str) -> Result<PeriodSpec, String> {
    PeriodSpec::parse(s).ok_or_else(|| format!("kỳ `{s}` không hợp lệ (2026S1, 2026P, 2026 hoặc 2025-2027)"))
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("`{s}` không phải ngày YYYY-MM-DD"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("vai trò `{s}` không có (admin, viewer, reporter)"))
}
