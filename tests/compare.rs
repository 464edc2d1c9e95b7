//! `callflow compare` on the multi-site example, shortened to 20 minutes
//! and two replications so the runs stay small: what the variants move,
//! common random numbers, the flows that cannot move, and byte-identical
//! output whatever the thread count.

use std::path::Path;
use std::sync::OnceLock;

use callflow::compare::{CompareError, CompareRequest, CompareResult, VariantComparison, compare};
use callflow::diag::SourceFile;
use callflow::validate::{Study, study_from_sources};

/// The multi-site study, 20 minutes long, the circuit's failure moved
/// inside the run.
fn study() -> Study {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("the example is readable");
    let scenario = read("scenarios/multi-site.toml");
    let mut short = scenario.clone();
    for (from, to) in [
        ("duration = \"8h\"", "duration = \"20m\""),
        ("at = \"4h\"", "at = \"10m\""),
        ("for = \"30m\"", "for = \"5m\""),
    ] {
        assert!(short.contains(from), "the example still says {from}");
        short = short.replacen(from, to, 1);
    }
    study_from_sources(
        SourceFile::new(
            "topologies/multi-site.toml",
            read("topologies/multi-site.toml"),
        ),
        SourceFile::new("scenarios/multi-site.toml", short),
    )
    .expect("the shortened example validates")
}

fn request(variants: &[&str], jobs: usize) -> CompareRequest {
    CompareRequest {
        variants: variants.iter().map(|v| v.to_string()).collect(),
        seed: Some(7),
        replications: Some(2),
        jobs: Some(jobs),
        progress: false,
    }
}

/// One comparison shared by the tests: no circuit, a bigger circuit, and
/// the baseline against itself.
fn shared() -> &'static CompareResult {
    static RESULT: OnceLock<CompareResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        compare(
            &study(),
            &request(&["no-expressroute", "er-500", "baseline"], 2),
        )
        .expect("the comparison runs")
    })
}

fn variant(name: &str) -> &'static VariantComparison {
    shared()
        .comparison
        .variants
        .iter()
        .find(|v| v.name == name)
        .expect("the variant was compared")
}

#[test]
fn without_expressroute_the_circuits_bytes_move_to_the_internet() {
    let v = variant("no-expressroute");
    assert!(
        v.same_workload,
        "removing the circuit leaves the calls alone"
    );
    let er = &v.segments["expressroute"].bytes;
    assert!(er.baseline > 0.0 && er.variant == 0.0, "{er:?}");
    assert!(er.difference < 0.0 && er.significant, "{er:?}");
    let internet = &v.segments["internet"].bytes;
    assert!(
        internet.difference > 0.0 && internet.significant,
        "{internet:?}"
    );
    // What the circuit carried is now Internet traffic that could move.
    let could = &v.cannot_move.could_move;
    assert_eq!(could.baseline, 0.0);
    assert!(could.variant > 0.0 && could.significant, "{could:?}");
    // Calls that used the circuit now take another path.
    assert!(v.path_changed.all.mean > 0.0);
    assert!(
        v.path_changed.changes.iter().any(|c| c
            .baseline
            .keys()
            .any(|l| l.contains("expressroute"))
            && c.variant.keys().all(|l| !l.contains("expressroute"))),
        "{:?}",
        v.path_changed.changes.first()
    );
    // The circuit's links exist only in the baseline.
    assert!(
        v.links
            .iter()
            .any(|l| l.link.starts_with("er-nyc") && l.present_in == "baseline")
    );
}

#[test]
fn a_bigger_circuit_changes_no_path_but_lowers_its_peak_utilization() {
    let v = variant("er-500");
    assert!(v.same_workload);
    assert_eq!(v.path_changed.all.mean, 0.0);
    for (segment, d) in &v.segments {
        assert_eq!(d.bytes.difference, 0.0, "{segment}");
        assert_eq!(d.bytes.baseline, d.bytes.variant, "{segment}");
    }
    let circuit: Vec<_> = v
        .links
        .iter()
        .filter(|l| l.link.starts_with("er-nyc"))
        .collect();
    assert!(!circuit.is_empty());
    let mut lower = 0;
    for l in circuit {
        assert_eq!(
            (l.baseline_capacity_bps, l.variant_capacity_bps),
            (200_000_000, 500_000_000),
            "{}",
            l.link
        );
        let u = l
            .peak_utilization
            .expect("both runs give the circuit a capacity");
        assert!(u.difference <= 0.0, "{}: {u:?}", l.link);
        if u.baseline > 0.0 {
            // The same peak over two and a half times the capacity.
            assert!((u.variant - u.baseline / 2.5).abs() < 1e-4, "{u:?}");
            lower += 1;
        }
    }
    assert!(lower > 0, "the circuit carried something");
}

#[test]
fn the_baseline_against_itself_differs_in_nothing() {
    let v = variant("baseline");
    assert!(v.same_workload);
    let zero = |d: &callflow::compare::Delta, what: &str| {
        assert_eq!(
            (d.difference, d.half_width, d.significant),
            (0.0, Some(0.0), false),
            "{what}"
        );
    };
    for (s, d) in &v.segments {
        zero(&d.bytes, s);
        zero(&d.peak_bps, s);
    }
    for (r, d) in &v.cannot_move.by_reason {
        zero(d, r);
    }
    for l in &v.links {
        zero(&l.bytes, &l.link);
        if let Some(u) = &l.peak_utilization {
            zero(u, &l.link);
        }
    }
    for (k, o) in &v.calls {
        zero(&o.offered, k);
        zero(&o.blocked, k);
        zero(&o.failed, k);
    }
    for (k, figures) in &v.quality {
        for (f, d) in figures {
            zero(d, &format!("{k} {f}"));
        }
    }
    assert_eq!(
        (v.path_changed.all.mean, v.path_changed.all.half_width),
        (0.0, Some(0.0))
    );
    assert!(v.path_changed.changes.is_empty());
}

#[test]
fn home_workers_and_dependencies_stay_on_the_internet() {
    let v = variant("no-expressroute");
    for reason in ["outside-users", "dependencies"] {
        let d = &v.cannot_move.by_reason[reason];
        assert!(d.baseline > 0.0 && d.variant > 0.0, "{reason}: {d:?}");
    }
    // Nothing in the scenario streams a broadcast or calls Skype consumer.
    for reason in ["broadcast-streaming", "consumer-federation"] {
        let d = &v.cannot_move.by_reason[reason];
        assert_eq!((d.baseline, d.variant), (0.0, 0.0), "{reason}");
    }
    // In the baseline, everything on the Internet is traffic that cannot move.
    let b = &shared().comparison.baseline;
    let internet_total: f64 = b.internet_by_reason.values().sum();
    assert_eq!(b.internet_by_reason["other"], 0.0);
    assert!((internet_total - b.segment_bytes["internet"]).abs() < 8.0);
}

#[test]
fn the_directory_holds_the_comparison_and_every_runs_files() {
    let names: Vec<&str> = shared().files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "manifest.json",
        "compare.json",
        "compare.csv",
        "baseline/summary.json",
        "no-expressroute/summary.json",
        "er-500/links.csv",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    // The baseline compared with itself is not written twice.
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "baseline/summary.json")
            .count(),
        1
    );
    let json: serde_json::Value =
        serde_json::from_slice(&shared().files[1].1).expect("compare.json is JSON");
    assert_eq!(json["schema"], "callflow-compare/1");
    assert_eq!(json["variants"][0]["name"], "no-expressroute");
    let summary: serde_json::Value = serde_json::from_slice(
        &shared()
            .files
            .iter()
            .find(|(n, _)| n == "baseline/summary.json")
            .expect("listed above")
            .1,
    )
    .expect("summary.json is JSON");
    assert!(summary["internet_by_reason"]["outside-users"]["bytes"].as_f64() > Some(0.0));
}

#[test]
fn output_is_byte_identical_for_one_and_two_threads() {
    let s = study();
    let one = compare(&s, &request(&["er-500"], 1)).expect("runs");
    let two = compare(&s, &request(&["er-500"], 2)).expect("runs");
    assert_eq!(one.files.len(), two.files.len());
    for ((n1, b1), (n2, b2)) in one.files.iter().zip(&two.files) {
        assert_eq!(n1, n2);
        assert!(b1 == b2, "{n1} differs between --jobs 1 and 2");
    }
}

#[test]
fn an_unknown_variant_is_refused_with_the_known_names() {
    let err = compare(&study(), &request(&["er-500", "er-9000"], 1)).unwrap_err();
    assert!(matches!(err, CompareError::NoVariant { .. }));
    assert_eq!(
        err.to_string(),
        "the scenario has no variant \"er-9000\" (it has: baseline, no-expressroute, er-500, standard-sku, second-circuit)"
    );
    let err = compare(&study(), &request(&[], 1)).unwrap_err();
    assert!(matches!(err, CompareError::NoVariants { .. }), "{err}");
}

#[test]
fn the_command_exits_2_on_an_unknown_variant_and_lists_the_known_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args([
            "compare",
            "topologies/multi-site.toml",
            "scenarios/multi-site.toml",
        ])
        .args(["--variant", "nope", "--quiet"])
        .current_dir(root)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no variant \"nope\" (it has: baseline, no-expressroute, er-500"),
        "{stderr}"
    );
}
