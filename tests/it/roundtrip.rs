//! Templates filled and saved by LibreOffice as .xls and .ods (and back to .xlsx) read back exactly:
//! the generator writes filled templates, LibreOffice (headless) converts them, pbgdpl reads them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pbgdpl_catalog::model::ReturnStatus as Status;
use pbgdpl_catalog::{Catalog, Period};
use pbgdpl_ingest::pipeline;
use pbgdpl_store::Store;

use crate::support::{memory_store, opts};

fn convert(files: &[std::path::PathBuf], to: &str, out: &Path, profile: &Path) {
    let status = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out)
        .args(files)
        .output()
        .expect("LibreOffice (soffice) is installed by scripts/test.sh");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
}

#[test]
fn templates_saved_by_libreoffice_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::from_source(&pbgdpl_fixtures::catalog::bundled_source()).unwrap();
    let period = Period::parse("2026P").unwrap();
    // A ward, a commune, the special zone and two departments: F01, F02 and F03 with dates and text.
    let keep = ["21028", "21034", "21548", "STP", "SKHCN"];
    let generated: Vec<_> = pbgdpl_fixtures::generate::generate(&cat, &period, 3, 0.0)
        .into_iter()
        .filter(|r| keep.contains(&r.unit.as_str()))
        .collect();
    assert_eq!(generated.len(), keep.len());
    let xlsx = pbgdpl_fixtures::generate::write_workbooks(&cat, &period, &generated, &dir.path().join("xlsx")).unwrap();
    let mut want = BTreeMap::new();
    for r in &generated {
        for (form, values) in &r.forms {
            for v in values {
                want.insert((r.unit.clone(), form.clone(), v.row.clone(), v.column), v.value.clone());
            }
        }
    }
    let profile = dir.path().join("lo-profile");
    for (to, ext) in [("xls", "xls"), ("ods", "ods")] {
        let out = dir.path().join(ext);
        convert(&xlsx, to, &out, &profile);
        // And back again to .xlsx, as LibreOffice writes it.
        let converted = pipeline::collect_files(std::slice::from_ref(&out)).unwrap().files;
        assert_eq!(converted.len(), xlsx.len(), "{ext}");
        let back = dir.path().join(format!("{ext}-xlsx"));
        convert(&converted, "xlsx", &back, &profile);
        for folder in [out, back] {
            let store = memory_store();
            let files = pipeline::collect_files(std::slice::from_ref(&folder)).unwrap().files;
            let summary = pipeline::ingest_files(&cat, &store, &files, &opts(), &mut |_, _| {}).unwrap();
            let bad: Vec<_> = summary
                .returns
                .iter()
                .filter(|r| r.status != Status::Accepted)
                .collect();
            assert!(bad.is_empty(), "{}: {bad:#?}", folder.display());
            let have: BTreeMap<_, _> = store
                .latest_values(Some("2026P"))
                .unwrap()
                .into_iter()
                .map(|v| ((v.unit, v.form, v.row, v.column), v.value))
                .collect();
            assert_eq!(have, want, "{}", folder.display());
        }
    }
}
