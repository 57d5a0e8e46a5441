//! Pages in a real headless browser (Debian's chromium): every page renders, shows the engine's
//! figures, and leaves a screenshot in `target/screenshots/` to look at.

use std::path::{Path, PathBuf};

use crate::support::{Server, run, samples};

/// Chromium at the width the old screenshots had.
fn chromium(profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    crate::dashboards::chromium(profile, 1280, extra, url)
}

#[test]
fn every_page_renders_in_chromium_with_the_engines_figures() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let units = samples().join("units.csv").display().to_string();
    let s = store.display().to_string();
    let out = run(
        &[
            "--store",
            &s,
            "--units",
            &units,
            "ingest",
            &samples().join("returns").display().to_string(),
        ],
        Path::new("."),
    );
    assert!(out.status.success());
    let ind: serde_json::Value = serde_json::from_slice(
        &run(
            &[
                "--store",
                &s,
                "--units",
                &units,
                "indicators",
                "--period",
                "2026S1",
                "--format",
                "json",
            ],
            Path::new("."),
        )
        .stdout,
    )
    .unwrap();
    let figure = |code: &str, unit: &str| {
        let v = ind
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["indicator"] == code && v["unit"] == unit)
            .unwrap();
        pbgdpl_catalog::text::decimal_vi(v["value"].as_f64().unwrap(), 2)
    };
    let server = Server::start(&store);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let pages = [
        (
            "tong-quan",
            "/?period=2026S1".to_string(),
            vec![
                format!("{} %", figure("CDS-1", "99")),
                format!("{} %", figure("CDS-5", "99")),
            ],
        ),
        (
            "chi-tieu-cds2",
            "/chi-tieu/CDS-2?period=2026S1".to_string(),
            vec![
                format!("{} %", figure("CDS-2", "99")),
                format!("{} %", figure("CDS-2", "99002")),
                // Urban beside rural.
                format!("{} %", figure("CDS-1", "99")),
            ],
        ),
        (
            "nop-bao-cao",
            "/nop-bao-cao?period=2026S1".to_string(),
            vec!["data-count=\"received\">66<".to_string()],
        ),
        (
            "don-vi",
            "/don-vi/99001?period=2026S1".to_string(),
            vec!["99001_2026S1.xlsx".to_string()],
        ),
    ];
    // Each browser run logs in through a one-time link, which sends it on to the page.
    let link = |path: &str| {
        let out = run(
            &["--store", &s, "--units", &units, "user", "link", "lanhdao"],
            Path::new("."),
        );
        let login = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        format!(
            "{}{login}?next={}",
            server.base,
            path.replace('?', "%3F").replace('&', "%26")
        )
    };
    run(
        &[
            "--store", &s, "--units", &units, "user", "add", "lanhdao", "--role", "viewer",
        ],
        Path::new("."),
    );
    for (name, path, expect) in pages {
        let dom = chromium(&dir.path().join(format!("p-{name}")), &["--dump-dom"], &link(&path));
        let html = String::from_utf8_lossy(&dom.stdout);
        assert!(html.contains("<main"), "{name}: {html}");
        for e in expect {
            assert!(html.contains(&e), "{name}: the page does not show {e}");
        }
        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        chromium(
            &dir.path().join(format!("s-{name}")),
            &[&format!("--screenshot={}", shot.display())],
            &link(&path),
        );
        assert!(
            std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
            "{name}: no screenshot"
        );
    }
}
