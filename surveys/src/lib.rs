//! Citizen surveys: from respondents' answers to weighted estimates with standard errors that
//! account for clustering by commune, per unit and up the hierarchy, computed with polars and
//! handed to the engine as an Arrow batch (through the C Data Interface, `bridge.rs`).
//!
//! ```text
//!  SurveyVersion rows ─► weights (the file's, else post-stratified to form 01 row 01 by area)
//!        │                      ▲ population per commune and area: Engine::unit_values
//!        ▼
//!  polars: respondents × tree (ancestor, commune) ─► p̂ = Σwy / Σw per ancestor
//!        ─► z = w(y − p̂)/Σw ─► Σz per cluster ─► V̂ = m/(m−1) Σ Z²  ─► RecordBatch ─► Engine::with_estimates
//! ```
//!
//! The estimator is the ratio (Hájek) estimator of a proportion; its variance is the Taylor
//! linearisation with communes as primary sampling units, with replacement, in one stratum. A
//! domain (an area, or the respondents who answered) keeps every cluster of the subtree, its
//! non-members contributing zero, as survey software does for subpopulations. A unit that is one
//! commune has its respondents as the sampling units. See `ARCHITECTURE.md` for why polars.

mod bridge;

use std::collections::{BTreeMap, HashMap};

use arrow::array::RecordBatch;
use pbgdpl_catalog::model::SurveyVersion;
use pbgdpl_catalog::{Catalog, Fault, Period, PeriodSpec, Survey};
use pbgdpl_engine::{Engine, View};
use polars::prelude::*;

/// Errors of survey estimation, sorted by who must act ([`Error::fault`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("polars: {0}")]
    Polars(#[from] PolarsError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error(transparent)]
    Engine(#[from] pbgdpl_engine::Error),
}

impl Error {
    pub fn fault(&self) -> Fault {
        match self {
            Error::Polars(_) | Error::Arrow(_) => Fault::Bug,
            Error::Engine(e) => e.fault(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One respondent, ready for estimation.
#[derive(Debug, Clone, PartialEq)]
pub struct Respondent {
    /// The commune's key (the primary sampling unit).
    pub commune: String,
    pub weight: f64,
    /// Whether the commune's population was unknown (weight 1, flagged in the result).
    pub unweighted: bool,
    /// Per estimate of the survey: 1 counts, 0 does not, `None` outside the estimate's domain.
    pub y: Vec<Option<f64>>,
}

/// Everything estimated for one survey and period.
#[derive(Debug, Clone)]
pub struct Sample {
    pub survey: String,
    pub period: String,
    pub indicators: Vec<String>,
    pub respondents: Vec<Respondent>,
    /// (ancestor key, commune key) for every commune with respondents and each unit above it,
    /// itself included.
    pub tree: Vec<(String, String)>,
    pub min_respondents: u32,
    pub min_effective_sample: f64,
}

/// Population of a commune by area from form 01 row 01: (total (1), urban (2), rural (3)).
pub type Population = HashMap<String, (Option<i64>, Option<i64>, Option<i64>)>;

/// Design weights: the file's where it has them; else, per commune, its respondents post-stratified
/// to its urban and rural population when every respondent states an area whose population is
/// known, to its total population otherwise; weight 1 (flagged) for a commune without population.
pub fn weights(
    rows: &[pbgdpl_catalog::model::SurveyRow],
    population: &Population,
    units: &HashMap<String, String>,
) -> Vec<(f64, bool)> {
    let commune = |r: &pbgdpl_catalog::model::SurveyRow| units.get(&r.unit).cloned().unwrap_or_else(|| r.unit.clone());
    let mut by_commune: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_commune.entry(commune(r)).or_default().push(i);
    }
    let mut out = vec![(1.0, false); rows.len()];
    for (c, idx) in by_commune {
        if idx.iter().all(|&i| rows[i].weight.is_some()) {
            for &i in &idx {
                out[i] = (rows[i].weight.unwrap_or(1.0), false);
            }
            continue;
        }
        let pop = population.get(&c).copied().unwrap_or((None, None, None));
        let by_area = |a: &str| match a {
            "urban" => pop.1,
            "rural" => pop.2,
            _ => None,
        };
        let stratified = idx
            .iter()
            .all(|&i| rows[i].area.as_deref().and_then(by_area).is_some_and(|n| n > 0));
        if stratified {
            let mut n: BTreeMap<&str, usize> = BTreeMap::new();
            for &i in &idx {
                *n.entry(rows[i].area.as_deref().unwrap_or("")).or_default() += 1;
            }
            for &i in &idx {
                let a = rows[i].area.as_deref().unwrap_or("");
                out[i] = (by_area(a).unwrap_or(0) as f64 / n[a] as f64, false);
            }
        } else if let Some(total) = pop.0.filter(|&t| t > 0) {
            for &i in &idx {
                out[i] = (total as f64 / idx.len() as f64, false);
            }
        } else {
            for &i in &idx {
                out[i] = (1.0, true);
            }
        }
    }
    out
}

/// The respondents of a stored survey version as a sample: units resolved at the period's end,
/// answers scored by the catalog, weights from the file or post-stratified (population from the
/// engine's form 01 values of the same period).
pub async fn sample_of(engine: &Engine, survey: &Survey, version: &SurveyVersion) -> Result<Option<Sample>> {
    let catalog = engine.catalog();
    let Some(period) = Period::parse(&version.period) else {
        return Ok(None);
    };
    let end = period.end(&catalog.periods);
    let tree = catalog.units.tree(end);
    // The commune key of each code as of the period's end, and its ancestors then.
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut roots: Vec<String> = Vec::new();
    for r in &version.rows {
        if keys.contains_key(&r.unit) {
            continue;
        }
        let Some(u) = catalog.units.at(&r.unit, end) else {
            continue; // the catalog no longer knows the code: left out, the rest estimated
        };
        keys.insert(r.unit.clone(), u.key.clone());
        let chain = tree.ancestors(&u.key);
        if let Some(top) = chain.last()
            && !roots.contains(&top.key)
        {
            roots.push(top.key.clone());
        }
        pairs.extend(chain.iter().map(|a| (a.key.clone(), u.key.clone())));
    }
    let mut population: Population = HashMap::new();
    for root in &roots {
        let values = engine
            .unit_values_in(&PeriodSpec::Single(period), root, View::AsOf(end))
            .await?;
        for (unit, cells) in values {
            let cell = |c: u32| cells.get(&("F01".to_owned(), "01".to_owned(), c)).copied();
            population.insert(unit, (cell(1), cell(2), cell(3)));
        }
    }
    let rows: Vec<_> = version
        .rows
        .iter()
        .filter(|r| keys.contains_key(&r.unit))
        .cloned()
        .collect();
    let w = weights(&rows, &population, &keys);
    let respondents = rows
        .iter()
        .zip(w)
        .map(|(r, (weight, unweighted))| Respondent {
            commune: keys[&r.unit].clone(),
            weight,
            unweighted,
            y: survey
                .estimates
                .iter()
                .map(|e| {
                    let in_domain = e.area.is_none_or(|a| r.area.as_deref() == Some(a.id()));
                    let answer = r.answers.get(&e.indicator)?;
                    in_domain.then(|| if e.counts(answer) { 1.0 } else { 0.0 })
                })
                .collect(),
        })
        .collect();
    Ok(Some(Sample {
        survey: survey.code.clone(),
        period: version.period.clone(),
        indicators: survey.estimates.iter().map(|e| e.indicator.clone()).collect(),
        respondents,
        tree: pairs,
        min_respondents: survey.min_respondents,
        min_effective_sample: survey.min_effective_sample,
    }))
}

/// Column names of the estimates batch, the contract with `Engine::with_estimates`.
pub const COLUMNS: [&str; 13] = [
    "survey",
    "period",
    "indicator",
    "unit",
    "respondents",
    "counted",
    "communes",
    "estimate",
    "se",
    "effective",
    "publishable",
    "unweighted_communes",
    "clusters",
];

/// The estimates of one sample: one row per (indicator, unit with respondents in its subtree).
pub fn estimate_sample(s: &Sample) -> Result<DataFrame> {
    let n = s.respondents.len();
    let mut communes: Vec<&str> = s.respondents.iter().map(|r| r.commune.as_str()).collect();
    communes.sort_unstable();
    communes.dedup();
    let index: HashMap<&str, i64> = communes.iter().enumerate().map(|(i, c)| (*c, i as i64)).collect();
    let base = DataFrame::new_infer_height(vec![
        Column::new("id".into(), (0..n as i64).collect::<Vec<_>>()),
        Column::new(
            "commune".into(),
            s.respondents.iter().map(|r| r.commune.as_str()).collect::<Vec<_>>(),
        ),
        // Cluster ids: communes negative, respondents (for a one-commune unit) non-negative.
        Column::new(
            "cidx".into(),
            s.respondents
                .iter()
                .map(|r| -1 - index[r.commune.as_str()])
                .collect::<Vec<_>>(),
        ),
        Column::new("w".into(), s.respondents.iter().map(|r| r.weight).collect::<Vec<_>>()),
        Column::new(
            "nopop".into(),
            s.respondents.iter().map(|r| r.unweighted).collect::<Vec<_>>(),
        ),
    ])?;
    let tree = DataFrame::new_infer_height(vec![
        Column::new("anc".into(), s.tree.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>()),
        Column::new(
            "commune".into(),
            s.tree.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
        ),
    ])?;
    let mut out: Option<DataFrame> = None;
    for (k, indicator) in s.indicators.iter().enumerate() {
        let y = Column::new("y".into(), s.respondents.iter().map(|r| r.y[k]).collect::<Vec<_>>());
        let mut resp = base.clone();
        resp.with_column(y)?;
        let d = resp
            .lazy()
            .inner_join(tree.clone().lazy(), col("commune"), col("commune"))
            .with_columns([
                when(col("y").is_not_null())
                    .then(col("w"))
                    .otherwise(lit(0.0))
                    .alias("wd"),
                col("y").fill_null(lit(0.0)).alias("y0"),
            ]);
        let per_anc = d.clone().group_by([col("anc")]).agg([
            col("wd").sum().alias("W"),
            (col("wd") * col("y0")).sum().alias("S"),
            (col("wd") * col("wd")).sum().alias("W2"),
            col("y").count().cast(DataType::Int64).alias("respondents"),
            col("y0").sum().cast(DataType::Int64).alias("counted"),
            col("commune")
                .filter(col("y").is_not_null())
                .n_unique()
                .cast(DataType::Int64)
                .alias("communes"),
            col("commune")
                .filter(col("nopop").and(col("y").is_not_null()))
                .n_unique()
                .cast(DataType::Int64)
                .alias("unweighted_communes"),
            col("commune").n_unique().cast(DataType::Int64).alias("all_communes"),
        ]);
        let clusters = d
            .join(
                per_anc
                    .clone()
                    .select([col("anc"), col("W"), col("S"), col("all_communes")]),
                [col("anc")],
                [col("anc")],
                JoinArgs::new(JoinType::Inner),
            )
            .with_columns([
                when(col("W").gt(lit(0.0)))
                    .then(col("wd") * (col("y0") - col("S") / col("W")) / col("W"))
                    .otherwise(lit(0.0))
                    .alias("z"),
                when(col("all_communes").eq(lit(1i64)))
                    .then(col("id"))
                    .otherwise(col("cidx"))
                    .alias("cluster"),
            ])
            .group_by([col("anc"), col("cluster")])
            .agg([col("z").sum().alias("Z")])
            .group_by([col("anc")])
            .agg([
                (col("Z") * col("Z")).sum().alias("SZ2"),
                col("cluster").count().cast(DataType::Int64).alias("clusters"),
            ]);
        let m = col("clusters").cast(DataType::Float64);
        let p = col("S") / col("W");
        let var = when(col("clusters").gt(lit(1i64)))
            .then(m.clone() / (m - lit(1.0)) * col("SZ2"))
            .otherwise(lit(NULL).cast(DataType::Float64));
        let est = per_anc
            .join(clusters, [col("anc")], [col("anc")], JoinArgs::new(JoinType::Inner))
            .filter(col("respondents").gt(lit(0i64)))
            .with_columns([
                p.clone().alias("estimate"),
                var.clone().sqrt().alias("se"),
                // The sample size a simple random sample would need for this precision; Kish's
                // (Σw)²/Σw² where the variance is zero (every answer alike).
                when(var.clone().gt(lit(0.0)))
                    .then(p.clone() * (lit(1.0) - p.clone()) / var.clone())
                    .otherwise(col("W") * col("W") / col("W2"))
                    .alias("effective"),
            ])
            .with_columns([
                (col("respondents").gt_eq(lit(s.min_respondents as i64)))
                    .and(col("effective").gt_eq(lit(s.min_effective_sample)))
                    .and(col("se").is_not_null())
                    .alias("publishable"),
                lit(s.survey.as_str()).alias("survey"),
                lit(s.period.as_str()).alias("period"),
                lit(indicator.as_str()).alias("indicator"),
                col("anc").alias("unit"),
            ])
            .select(COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .sort(["unit"], SortMultipleOptions::default())
            .collect()?;
        match &mut out {
            None => out = Some(est),
            Some(o) => {
                o.vstack_mut(&est)?;
            }
        }
    }
    Ok(out.unwrap_or_default())
}

/// The samples of every stored survey version the catalog defines (the async part: population
/// figures come from the engine's DataFusion queries).
pub async fn samples(engine: &Engine, versions: &[SurveyVersion]) -> Result<Vec<Sample>> {
    let mut out = Vec::new();
    for v in versions {
        let Some(survey) = engine.catalog().survey(&v.survey) else {
            continue; // a survey the catalog no longer defines is kept in the store, not estimated
        };
        if let Some(sample) = sample_of(engine, survey, v).await?
            && !sample.respondents.is_empty()
        {
            out.push(sample);
        }
    }
    Ok(out)
}

/// Estimates of the samples as one Arrow batch (columns [`COLUMNS`]); `None` without samples.
/// polars runs on a thread of its own: its engine must not find itself inside a caller's async
/// runtime (it would try to block a runtime thread).
pub fn estimate(samples: &[Sample]) -> Result<Option<RecordBatch>> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut all: Option<DataFrame> = None;
                for s in samples {
                    let df = estimate_sample(s)?;
                    match &mut all {
                        None => all = Some(df),
                        Some(a) => {
                            a.vstack_mut(&df)?;
                        }
                    }
                }
                all.map(|df| bridge::to_record_batch(&df)).transpose()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Polars(PolarsError::ComputeError(
                    "survey estimation panicked".into(),
                )))
            })
    })
}

/// The engine with the estimates of the samples attached.
pub fn attach(engine: Engine, samples: &[Sample]) -> Result<Engine> {
    match estimate(samples)? {
        Some(batch) => Ok(engine.with_estimates(&batch)?),
        None => Ok(engine),
    }
}

/// Whether the catalog has surveys at all (engines of catalogs without skip the work).
pub fn any(catalog: &Catalog) -> bool {
    !catalog.surveys.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbgdpl_catalog::model::SurveyRow;

    fn respondent(commune: &str, weight: f64, y: &[Option<f64>]) -> Respondent {
        Respondent {
            commune: commune.into(),
            weight,
            unweighted: false,
            y: y.to_vec(),
        }
    }

    /// Reads one estimate row of the frame: (estimate, se, effective, respondents, clusters).
    fn row(df: &DataFrame, indicator: &str, unit: &str) -> (f64, Option<f64>, f64, i64, i64) {
        let ind = df.column("indicator").unwrap().str().unwrap();
        let un = df.column("unit").unwrap().str().unwrap();
        let i = (0..df.height())
            .find(|&i| ind.get(i) == Some(indicator) && un.get(i) == Some(unit))
            .unwrap_or_else(|| panic!("no estimate of {indicator} for {unit}"));
        let f = |c: &str| df.column(c).unwrap().f64().unwrap().get(i);
        let n = |c: &str| df.column(c).unwrap().i64().unwrap().get(i).unwrap();
        (
            f("estimate").unwrap(),
            f("se"),
            f("effective").unwrap(),
            n("respondents"),
            n("clusters"),
        )
    }

    /// Two communes A (weights 2) and B (weights 1) under province P; by hand:
    /// P: W = 10, Σwy = 5, p̂ = 0.5; z = w(y − p̂)/W gives Z_A = 0.1, Z_B = −0.1;
    /// V̂ = 2/1 · (0.01 + 0.01) = 0.04, se = 0.2, effective = 0.25 / 0.04 = 6.25.
    /// A alone (respondents as units): p̂ = 2/3, z = 1/9, 1/9, −2/9, V̂ = 3/2 · 6/81 = 1/9, se = 1/3.
    /// B alone: p̂ = 1/4, V̂ = 4/3 · 0.046875 = 0.0625, se = 0.25.
    /// Domain (second question, blanks out of it): P: p̂ = 3/4 over A1, B1, B2; Z_A = 0.125,
    /// Z_B = −0.125, V̂ = 2 · 0.03125 = 0.0625, se = 0.25.
    #[test]
    fn ratio_estimator_and_its_linearised_variance_by_hand() {
        let s = Sample {
            survey: "KS".into(),
            period: "2026S1".into(),
            indicators: vec!["CDS-5".into(), "CDS-1".into()],
            respondents: vec![
                respondent("A", 2.0, &[Some(1.0), Some(1.0)]),
                respondent("A", 2.0, &[Some(1.0), None]),
                respondent("A", 2.0, &[Some(0.0), None]),
                respondent("B", 1.0, &[Some(1.0), Some(0.0)]),
                respondent("B", 1.0, &[Some(0.0), Some(1.0)]),
                respondent("B", 1.0, &[Some(0.0), None]),
                respondent("B", 1.0, &[Some(0.0), None]),
            ],
            tree: vec![
                ("A".into(), "A".into()),
                ("P".into(), "A".into()),
                ("B".into(), "B".into()),
                ("P".into(), "B".into()),
            ],
            min_respondents: 5,
            min_effective_sample: 5.0,
        };
        let df = estimate_sample(&s).unwrap();
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} ≠ {b}");
        let (p, se, eff, n, m) = row(&df, "CDS-5", "P");
        close(p, 0.5);
        close(se.unwrap(), 0.2);
        close(eff, 6.25);
        assert_eq!((n, m), (7, 2));
        let (p, se, _, n, m) = row(&df, "CDS-5", "A");
        close(p, 2.0 / 3.0);
        close(se.unwrap(), 1.0 / 3.0);
        assert_eq!((n, m), (3, 3));
        let (p, se, _, _, _) = row(&df, "CDS-5", "B");
        close(p, 0.25);
        close(se.unwrap(), 0.25);
        let (p, se, _, n, m) = row(&df, "CDS-1", "P");
        close(p, 0.75);
        close(se.unwrap(), 0.25);
        assert_eq!((n, m), (3, 2));
        // Publishable: P has 7 respondents ≥ 5 and 6.25 effective ≥ 5; A has 3 < 5.
        let publishable = df.column("publishable").unwrap().bool().unwrap();
        let units = df.column("unit").unwrap().str().unwrap();
        let inds = df.column("indicator").unwrap().str().unwrap();
        let of = |ind: &str, unit: &str| {
            (0..df.height())
                .find(|&i| inds.get(i) == Some(ind) && units.get(i) == Some(unit))
                .and_then(|i| publishable.get(i))
        };
        assert_eq!(of("CDS-5", "P"), Some(true));
        assert_eq!(of("CDS-5", "A"), Some(false));
    }

    fn srow(unit: &str, area: Option<&str>, weight: Option<f64>) -> SurveyRow {
        SurveyRow {
            line: 2,
            respondent: None,
            unit: unit.into(),
            area: area.map(str::to_owned),
            weight,
            date: None,
            answers: Default::default(),
        }
    }

    /// Post-stratification: A has 600 urban and 400 rural people and 3 + 2 respondents → weights
    /// 200 and 200; B states no area for one respondent → its total 900 over 3 respondents = 300;
    /// C has no population → weight 1, flagged; D's file weights are kept.
    #[test]
    fn weights_are_post_stratified_to_the_population_by_area() {
        let rows = vec![
            srow("A", Some("urban"), None),
            srow("A", Some("urban"), None),
            srow("A", Some("urban"), None),
            srow("A", Some("rural"), None),
            srow("A", Some("rural"), None),
            srow("B", Some("urban"), None),
            srow("B", None, None),
            srow("B", Some("rural"), None),
            srow("C", Some("rural"), None),
            srow("D", None, Some(7.5)),
        ];
        let mut pop = Population::new();
        pop.insert("A".into(), (Some(1000), Some(600), Some(400)));
        pop.insert("B".into(), (Some(900), Some(500), Some(400)));
        let units = ["A", "B", "C", "D"]
            .iter()
            .map(|u| (u.to_string(), u.to_string()))
            .collect();
        let w = weights(&rows, &pop, &units);
        let got: Vec<f64> = w.iter().map(|(w, _)| *w).collect();
        assert_eq!(
            got,
            vec![200.0, 200.0, 200.0, 200.0, 200.0, 300.0, 300.0, 300.0, 1.0, 7.5]
        );
        assert_eq!(w.iter().filter(|(_, flagged)| *flagged).count(), 1);
    }
}
