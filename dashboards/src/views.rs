//! The pages' view models: one askama template each (in `templates/`), escaped automatically. Values
//! arrive already formatted the Vietnamese way; the only markup passed through unescaped is the SVG
//! that plotters draws (which escapes its own text).

use askama::Template;

use crate::AppError;

pub(crate) fn render(t: &impl Template) -> Result<String, AppError> {
    Ok(t.render()?)
}

/// A link of the navigation or a list.
pub(crate) struct Link {
    pub href: String,
    pub label: String,
    pub active: bool,
}

/// One option of a select.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The frame of every signed-in page.
#[derive(Template)]
#[template(path = "layout.html")]
pub(crate) struct Layout<'a> {
    pub title: String,
    pub province: String,
    pub nav: Vec<Link>,
    pub periods: Vec<Choice>,
    /// The unit select's options; empty when there are too many for a select (a text field then).
    pub units: Vec<Choice>,
    pub unit: String,
    pub csrf: String,
    pub user: String,
    /// The page's own body, rendered by its template.
    pub body: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct Login {
    pub next: String,
    pub error: bool,
    pub csrf: String,
    pub province: String,
}

/// One indicator on the overview.
pub(crate) struct Tile {
    pub class: &'static str,
    pub code: String,
    pub name: String,
    /// The unrounded value, for scripts and tests.
    pub raw: String,
    pub value: String,
    pub badge: &'static str,
    pub target: Option<String>,
    pub gap: Option<String>,
    pub pace: Option<String>,
    pub coverage: Option<String>,
    /// Survey or form 01, for an indicator a survey estimates.
    pub source: Option<String>,
    pub spark: String,
    /// The sparkline's text alternative: every period's figure.
    pub spark_text: String,
    pub href: String,
}

pub(crate) struct ReportingSummary {
    pub received: usize,
    pub total: usize,
    pub missing: usize,
    pub late: usize,
    pub missing_names: String,
    pub late_names: String,
    pub href: String,
}

pub(crate) struct Downloads {
    pub label: String,
    pub xlsx: String,
    pub docx: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub(crate) struct Overview {
    pub sub: String,
    pub tiles: Vec<Tile>,
    pub reporting: Option<ReportingSummary>,
    pub downloads: Option<Downloads>,
}

pub(crate) struct Headline {
    pub code: String,
    pub raw: String,
    pub text: String,
    pub source: Option<String>,
    /// Numerator and denominator, when the figure is a ratio of sums.
    pub detail: String,
    /// The returns and cells behind the figure, for those who may see them.
    pub href: Option<String>,
}

pub(crate) struct AreaCell {
    pub href: String,
    pub code: String,
    pub value: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "indicator.html")]
pub(crate) struct IndicatorPage {
    pub name: String,
    pub options: Vec<Link>,
    pub headline: Option<Headline>,
    pub areas: Vec<AreaCell>,
    pub trend_svg: String,
    pub trend_text: String,
    /// The children on a map (empty when none has coordinates).
    pub map: String,
    pub rank_svg: String,
    /// The children's table (empty for a reporter or a unit without children).
    pub table: String,
}

/// Số liệu gốc: the returns and cells behind a figure.
#[derive(Template)]
#[template(path = "sources.html")]
pub(crate) struct SourcesPage {
    pub sub: String,
    pub back: String,
    pub value: String,
    pub numerator: String,
    pub denominator: String,
    pub numerator_terms: String,
    pub denominator_terms: String,
    /// When a survey, not these cells, makes the figure.
    pub survey: Option<String>,
    pub table: String,
}

pub(crate) struct LockBanner {
    pub period: String,
    pub on: String,
    pub by: Option<String>,
}

pub(crate) struct LockButton {
    pub action: String,
    pub label: &'static str,
    pub csrf: String,
    pub unit: String,
}

#[derive(Template)]
#[template(path = "submissions.html")]
pub(crate) struct Submissions {
    pub locked: Option<LockBanner>,
    pub lock: Option<LockButton>,
    pub expected: usize,
    pub received: usize,
    pub received_pct: String,
    pub late: usize,
    pub missing: usize,
    pub table: String,
}

pub(crate) struct VersionRow {
    pub period: String,
    pub form: String,
    pub version: i64,
    pub at: String,
    pub by: String,
    pub source: String,
    pub file: String,
}

pub(crate) struct RefusedRow {
    pub at: String,
    pub file: String,
    pub issues: Vec<String>,
}

#[derive(Template)]
#[template(path = "unit.html")]
pub(crate) struct UnitPage {
    pub kind: String,
    pub code: String,
    pub versions: Vec<VersionRow>,
    pub refused: Vec<RefusedRow>,
}

#[derive(Template)]
#[template(path = "upload.html")]
pub(crate) struct UploadForm {
    pub csrf: String,
    pub period: String,
    pub templates: Vec<Link>,
}

pub(crate) struct ResultRow {
    pub sheet: String,
    pub form: String,
    pub period: String,
    pub class: &'static str,
    pub status_id: &'static str,
    pub status: String,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "upload_result.html")]
pub(crate) struct UploadResult {
    pub rows: Vec<ResultRow>,
}

pub(crate) struct AuditRow {
    pub at: String,
    pub user: String,
    pub from: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    pub count: usize,
    pub since: Option<String>,
    pub since_value: String,
    pub rows: Vec<AuditRow>,
}
