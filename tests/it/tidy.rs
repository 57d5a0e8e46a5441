//! Tidiness the compiler does not check: every Rust file opens with a `//!` line that says what it
//! is for, and the crates keep the direction of the data flow (`ARCHITECTURE.md`).

use std::path::{Path, PathBuf};

use crate::support::repo;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// Every Rust file of the crates, and of the `extra` folders.
fn sources(extra: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in [
        "src",
        "ingest",
        "engine",
        "surveys",
        "reports",
        "dashboards",
        "fixtures",
    ]
    .iter()
    .chain(extra)
    {
        rust_files(&repo().join(top), &mut files);
    }
    files
}

#[test]
fn every_rust_file_opens_with_a_doc_line() {
    let files = sources(&["tests"]);
    assert!(files.len() > 40, "found the sources");
    let undocumented: Vec<_> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .collect();
    assert!(undocumented.is_empty(), "files without a `//!` line: {undocumented:#?}");
}

/// Architecture Invariant: the engine and the reports depend on neither SQLite nor calamine; the
/// catalog on neither, nor on DataFusion. (`scripts/test.sh` checks the same with `cargo tree`.)
#[test]
fn the_crates_keep_the_direction_of_the_data_flow() {
    let manifest = |dir: &str| std::fs::read_to_string(repo().join(dir).join("Cargo.toml")).unwrap();
    let deps = |text: &str| -> Vec<String> {
        let start = text.find("[dependencies]").unwrap();
        let end = text[start..].find("\n[").map_or(text.len(), |i| start + i + 1);
        text[start..end]
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|n| !n.is_empty() && !n.starts_with('[') && !n.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    for (dir, banned) in [
        ("engine", &["rusqlite", "calamine", "pbgdpl-store", "pbgdpl-ingest"][..]),
        (
            "reports",
            &["rusqlite", "calamine", "pbgdpl-store", "pbgdpl-ingest"][..],
        ),
        (
            "ingest/catalog",
            &["rusqlite", "calamine", "datafusion", "pbgdpl-store"][..],
        ),
    ] {
        let have = deps(&manifest(dir));
        for b in banned {
            assert!(!have.iter().any(|d| d == b), "{dir} depends on {b}: {have:?}");
        }
    }
}

/// Architecture Invariant: polars lives in `pbgdpl-surveys` alone, and `unsafe` in its `bridge.rs`
/// alone (every other crate forbids it through the workspace lints).
#[test]
fn polars_and_unsafe_stay_in_the_survey_crate() {
    let files = sources(&[]);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rel = f.strip_prefix(repo()).unwrap().to_string_lossy().into_owned();
        if !rel.starts_with("surveys/") {
            assert!(
                !text.contains("polars::") && !text.contains("use polars"),
                "{rel} uses polars"
            );
        }
        if rel != "surveys/src/bridge.rs" {
            assert!(
                !text.contains("unsafe {") && !text.contains("allow(unsafe_code)"),
                "{rel} has unsafe"
            );
        }
    }
    for dir in [
        "",
        "ingest",
        "ingest/catalog",
        "ingest/store",
        "engine",
        "reports",
        "dashboards",
        "fixtures",
    ] {
        let manifest = std::fs::read_to_string(repo().join(dir).join("Cargo.toml")).unwrap();
        let deps = &manifest[manifest.find("[dependencies]").unwrap_or(0)..];
        assert!(
            !deps.lines().any(|l| l.starts_with("polars")),
            "{dir}/Cargo.toml depends on polars"
        );
    }
}

/// The unit lists are generated (scripts/units/generate.py): a hand edit that the generator would
/// undo, or a generator change not re-run, fails here.
#[test]
fn the_unit_lists_are_what_the_generator_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/units/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 runs the unit generator");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Architecture Invariant: the pages run no script — no template has one, and the content policy
/// allows none.
#[test]
fn the_pages_run_no_script() {
    let dir = repo().join("dashboards/templates");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        assert!(!text.contains("<script"), "{}: a script", path.display());
        assert!(
            !text.contains(" onclick=") && !text.contains("javascript:"),
            "{}",
            path.display()
        );
    }
    let lib = std::fs::read_to_string(repo().join("dashboards/src/lib.rs")).unwrap();
    assert!(
        lib.contains("default-src 'none'") && !lib.contains("script-src"),
        "the content policy"
    );
}
