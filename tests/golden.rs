//! Golden results: `results/` holds the committed outputs of the example
//! scenarios (a run of each, with its report) and of the multi-site
//! ExpressRoute comparison. These tests regenerate them with the same
//! commands as `scripts/regenerate-results.sh` and compare every file byte
//! for byte, so a change that moves any figure, chart or table shows up
//! here; if it is meant, run the script and commit the new results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The example scenarios with golden runs (`scripts/regenerate-results.sh`
/// reads this list).
const EXAMPLES: &[&str] = &[
    "broadcast",
    "cloud-connector",
    "federated",
    "hybrid",
    "multi-site",
    "online",
    "remote",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, by its path relative to `dir`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let name = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same(golden: &Path, fresh: &Path) {
    let (want, got) = (tree(golden), tree(fresh));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{} holds other files than the regenerated results",
        golden.display()
    );
    for (name, bytes) in &want {
        assert!(
            bytes == &got[name],
            "{}/{name} differs from the regenerated file (run scripts/regenerate-results.sh if the change is meant)",
            golden.display()
        );
    }
}

fn callflow(args: &[&str]) {
    Command::cargo_bin("callflow")
        .unwrap()
        .current_dir(root())
        .args(args)
        .assert()
        .success();
}

#[test]
fn every_example_run_reproduces_its_committed_results() {
    let tmp = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        let out = tmp.path().join(name);
        callflow(&[
            "run",
            &format!("topologies/{name}.toml"),
            &format!("scenarios/{name}.toml"),
            "--out",
            out.to_str().unwrap(),
            "--report",
            "--quiet",
        ]);
        assert_same(&root().join("results").join(name), &out);
    }
}

#[test]
fn the_multi_site_comparison_reproduces_its_committed_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("multi-site-compare");
    callflow(&[
        "compare",
        "topologies/multi-site.toml",
        "scenarios/multi-site.toml",
        "--variant",
        "no-expressroute",
        "--variant",
        "er-500",
        "--variant",
        "second-circuit",
        "--out",
        out.to_str().unwrap(),
        "--report",
        "--quiet",
    ]);
    assert_same(&root().join("results/multi-site-compare"), &out);
}

/// The golden runs are the examples' own: every committed example scenario
/// has one, and the results are what their manifests say.
#[test]
fn every_example_has_golden_results_with_its_manifest() {
    for name in EXAMPLES {
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(root().join("results").join(name).join("manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            manifest["inputs"][1]["path"],
            format!("scenarios/{name}.toml"),
            "{name}"
        );
    }
    let scenarios: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "seed-tables")
        .collect();
    for s in &scenarios {
        assert!(EXAMPLES.contains(&s.as_str()), "{s} has no golden results");
    }
}
