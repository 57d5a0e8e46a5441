//! `pbgdpl push`: a province's accepted returns (latest versions) sent to the Ministry's server
//! through its API, as the JSON returns any unit could send. The Ministry validates them against
//! its own catalog and stores them as versions: pushing again is harmless (an identical return is
//! `unchanged`), a corrected return becomes a new version, and nothing is sent that the province
//! did not accept.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use pbgdpl_catalog::Period;
use pbgdpl_catalog::model::{ImportSummary, JsonReturn, JsonValue, ReturnStatus};

use super::{Context, Usage};

/// The environment variable holding the token the Ministry issued (never an argument: arguments
/// end up in shell histories and process listings).
pub(crate) const TOKEN_ENV: &str = "PBGDPL_PUSH_TOKEN";

/// How often a return is tried again when the Ministry's store is busy (503).
const ATTEMPTS: u32 = 5;

/// Why the push stopped before the end: the receiving server cannot be reached or answered with an
/// error (the operator's to look into, exit 4).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Refused(String);

pub(crate) fn run(ctx: &Context, to: &str, period: Option<&Period>) -> anyhow::Result<ExitCode> {
    let token = std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Usage(format!(
                "đặt mã truy cập (token) do Bộ cấp vào biến môi trường {TOKEN_ENV}"
            ))
        })?;
    if !(to.starts_with("http://") || to.starts_with("https://")) {
        return Err(Usage(format!("`--to {to}`: cần địa chỉ http(s)://… của máy chủ nhận")).into());
    }
    let store = ctx.store()?;
    let code = period.map(|p| p.code());
    let returns = group(store.latest_values(code.as_deref())?);
    let url = format!("{}/api/v1/returns", to.trim_end_matches('/'));
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(returns.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} báo cáo {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for ret in &returns {
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(format!("{} {} {}", ret.unit, ret.form, ret.period));
        }
        let summary = send(&agent, &url, &token, ret)?;
        for r in summary.returns {
            let label = match r.status {
                ReturnStatus::Accepted => "mới",
                ReturnStatus::Unchanged => "không đổi",
                ReturnStatus::Rejected => "bị từ chối",
            };
            *counts.entry(label).or_default() += 1;
            if r.status == ReturnStatus::Rejected {
                let why: Vec<String> = r
                    .errors
                    .iter()
                    .map(|i| format!("{} ({})", i.message, i.rule.id()))
                    .collect();
                problems.push(format!("{} {} {}: {}", ret.unit, ret.form, ret.period, why.join("; ")));
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for p in &problems {
        eprintln!("bị từ chối: {p}");
    }
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    println!(
        "Đã gửi {} báo cáo tới {to}: {} mới, {} không đổi, {} bị từ chối",
        returns.len(),
        count("mới"),
        count("không đổi"),
        count("bị từ chối")
    );
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The stored values (ordered by unit, form, period) as one JSON return each.
fn group(values: Vec<pbgdpl_catalog::model::StoredValue>) -> Vec<JsonReturn> {
    let mut out: Vec<JsonReturn> = Vec::new();
    for v in values {
        let same = out
            .last()
            .is_some_and(|r| r.unit == v.unit && r.form == v.form && r.period == v.period);
        if !same {
            out.push(JsonReturn {
                form: v.form.clone(),
                unit: v.unit.clone(),
                period: v.period.clone(),
                values: Vec::new(),
            });
        }
        if let Some(r) = out.last_mut() {
            r.values.push(JsonValue {
                row: v.row,
                column: v.column,
                value: v.value,
            });
        }
    }
    out
}

/// One return to the receiving server: its import summary (also for a rejection, `400`), after
/// waiting out a busy store (`503` with `Retry-After`) a few times.
fn send(agent: &ureq::Agent, url: &str, token: &str, ret: &JsonReturn) -> anyhow::Result<ImportSummary> {
    let body = serde_json::to_value(ret)?;
    for attempt in 1..=ATTEMPTS {
        let answer = agent
            .post(url)
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(body.clone());
        match answer {
            Ok(resp) => return Ok(resp.into_json()?),
            Err(ureq::Error::Status(400, resp)) => return Ok(resp.into_json()?),
            Err(ureq::Error::Status(503, resp)) if attempt < ATTEMPTS => {
                let wait = resp
                    .header("Retry-After")
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(2)
                    .min(30);
                std::thread::sleep(Duration::from_secs(wait));
            }
            Err(ureq::Error::Status(code @ (401 | 403), resp)) => {
                let text = resp.into_string().unwrap_or_default();
                // The token or its unit: the user's to fix (exit 2), not the network's.
                return Err(Usage(format!(
                    "máy chủ nhận từ chối ({code}) báo cáo {} {} {}: {}",
                    ret.unit,
                    ret.form,
                    ret.period,
                    text.trim()
                ))
                .into());
            }
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                return Err(Refused(format!("{url}: {code} {}", text.trim())).into());
            }
            Err(e) => return Err(Refused(format!("{url}: {e}")).into()),
        }
    }
    Err(Refused(format!("{url}: máy chủ nhận vẫn bận sau {ATTEMPTS} lần thử")).into())
}
