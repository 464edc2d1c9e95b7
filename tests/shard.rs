//! Sharded runs against the real engine: `callflow run --shard`, `merge`,
//! `sweep`, job-array environments and GNU parallel.
//!
//! Every comparison is byte for byte between a merged results directory and
//! the directory the unsharded run writes. The scenarios are the examples
//! with a twentieth of the users each, so the tests take seconds; the
//! engine, the topology and the call mix are the examples' own.
//!
//! Exit codes asserted: merge refusals and impossible splits are invalid
//! input (2); a shard that cannot write its part is a failure (1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory holding `t.toml` (an example topology) and `s.toml` (its
/// scenario with a twentieth of the users, `edit` applied).
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(example: &str, edit: impl Fn(String) -> String) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let topology =
            std::fs::read_to_string(root().join(format!("topologies/{example}.toml"))).unwrap();
        let scenario =
            std::fs::read_to_string(root().join(format!("scenarios/{example}.toml"))).unwrap();
        std::fs::write(dir.path().join("t.toml"), topology).unwrap();
        std::fs::write(dir.path().join("s.toml"), edit(fewer_users(&scenario))).unwrap();
        Fixture { dir }
    }

    fn multi_site() -> Fixture {
        Fixture::new("multi-site", |s| s)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `callflow ARGS` in the fixture's directory, with `callflow` on PATH
    /// for the job lines run through a shell.
    fn callflow(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("callflow").unwrap();
        c.current_dir(self.dir.path()).args(args);
        c
    }

    fn ok(&self, args: &[&str]) {
        self.callflow(args).assert().success();
    }

    /// A shell in the fixture's directory with `callflow` on PATH.
    fn shell(&self, script: &str) -> Command {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_callflow"));
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new("sh");
        c.current_dir(self.dir.path())
            .env("PATH", path)
            .arg("-c")
            .arg(script);
        c
    }
}

/// Every `count = N` of a scenario divided by 20 (at least 1).
fn fewer_users(scenario: &str) -> String {
    scenario
        .lines()
        .map(|line| match line.strip_prefix("count = ") {
            Some(n) => format!("count = {}", (n.trim().parse::<u64>().unwrap() / 20).max(1)),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A directory's files, name to contents.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn assert_same_dir(expected: &Path, found: &Path) {
    let (a, b) = (files(expected), files(found));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        expected.display(),
        found.display()
    );
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between {} and {}",
            expected.display(),
            found.display()
        );
    }
}

fn parts(prefix: &str, n: u32) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}/part-{i}")).collect()
}

/// Runs shards 0..n of `args` into `<prefix>/part-I`.
fn run_shards(f: &Fixture, args: &[&str], prefix: &str, n: u32) {
    for (i, out) in parts(prefix, n).iter().enumerate() {
        let shard = format!("{i}/{n}");
        let mut all = args.to_vec();
        all.extend(["--shard", &shard, "--out", out, "--quiet", "--jobs", "1"]);
        f.ok(&all);
    }
}

fn merge(f: &Fixture, prefix: &str, n: u32, out: &str) {
    let parts = parts(prefix, n);
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["--out", out, "--quiet"]);
    f.ok(&args);
}

const RUN: [&str; 5] = ["run", "t.toml", "s.toml", "--replications", "7"];

#[test]
fn one_two_three_and_seven_shards_merge_into_the_unsharded_directory() {
    let f = Fixture::multi_site();
    let mut whole = RUN.to_vec();
    whole.extend(["--out", "whole", "--quiet"]);
    f.ok(&whole);
    assert!(files(&f.path("whole")).contains_key("summary.json"));
    for n in [1, 2, 3, 7] {
        let prefix = format!("n{n}");
        run_shards(&f, &RUN, &prefix, n);
        let part0: serde_json::Value = serde_json::from_slice(
            &std::fs::read(f.path(&format!("{prefix}/part-0/partial.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(part0["split"], "replications");
        let expected: Vec<u32> = (0..7).filter(|r| r % n == 0).collect();
        assert_eq!(part0["work"]["replications"], serde_json::json!(expected));
        let out = format!("{prefix}/merged");
        merge(&f, &prefix, n, &out);
        assert_same_dir(&f.path("whole"), &f.path(&out));
    }
}

#[test]
fn a_sweep_of_three_variants_and_four_seeds_merges_into_the_direct_runs() {
    let f = Fixture::new("multi-site", |s| {
        let head = s.split("[sweep]").next().unwrap().to_string();
        head + "[sweep]\nvariants = [\"baseline\", \"no-expressroute\", \"er-500\"]\nseeds = [1, 2, 3, 4]\n"
    });
    let out = f
        .callflow(&[
            "sweep",
            "t.toml",
            "s.toml",
            "--shards",
            "2",
            "--replications",
            "2",
            "--out",
            "sw",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let jobs = String::from_utf8(out.stdout).unwrap();
    let jobs: Vec<&str> = jobs.lines().collect();
    assert_eq!(jobs.len(), 3 * 4 * 2);
    assert_eq!(
        jobs[0],
        "callflow run t.toml s.toml --variant baseline --seed 1 --replications 2 --shard 0/2 --quiet --out sw/baseline/seed-1/part-0"
    );
    let merges = f
        .callflow(&[
            "sweep",
            "t.toml",
            "s.toml",
            "--shards",
            "2",
            "--replications",
            "2",
            "--out",
            "sw",
            "--merges",
        ])
        .output()
        .unwrap();
    let merges = String::from_utf8(merges.stdout).unwrap();
    assert_eq!(merges.lines().count(), 12);
    f.shell(&format!("set -e\n{}\n{merges}", jobs.join("\n")))
        .assert()
        .success();
    for variant in ["baseline", "no-expressroute", "er-500"] {
        for seed in 1..=4 {
            let direct = format!("direct-{variant}-{seed}");
            let seed_s = seed.to_string();
            let mut args = vec![
                "run",
                "t.toml",
                "s.toml",
                "--seed",
                &seed_s,
                "--replications",
                "2",
                "--out",
                &direct,
                "--quiet",
            ];
            if variant != "baseline" {
                args.extend(["--variant", variant]);
            }
            f.ok(&args);
            assert_same_dir(
                &f.path(&direct),
                &f.path(&format!("sw/{variant}/seed-{seed}/results")),
            );
        }
    }
}

#[test]
fn a_sweep_through_gnu_parallel_matches_the_single_machine_runs() {
    if Command::new("parallel").arg("--version").output().is_err() {
        eprintln!("skipped: GNU parallel is not installed (Debian package `parallel`)");
        return;
    }
    let f = Fixture::new("multi-site", |s| {
        let head = s.split("[sweep]").next().unwrap().to_string();
        head + "[sweep]\nvariants = [\"baseline\", \"er-500\"]\nseeds = [7, 8]\n"
    });
    let sweep = "callflow sweep t.toml s.toml --shards 3 --replications 3 --out sw";
    f.shell(&format!(
        "set -e\n{sweep} > jobs.txt\nparallel --will-cite --halt now,fail=1 -j 2 < jobs.txt\n{sweep} --merges > merges.txt\nparallel --will-cite --halt now,fail=1 -j 2 < merges.txt"
    ))
    .assert()
    .success();
    for (variant, seed) in [
        ("baseline", "7"),
        ("baseline", "8"),
        ("er-500", "7"),
        ("er-500", "8"),
    ] {
        let direct = format!("direct-{variant}-{seed}");
        f.ok(&[
            "run",
            "t.toml",
            "s.toml",
            "--variant",
            variant,
            "--seed",
            seed,
            "--replications",
            "3",
            "--out",
            &direct,
            "--quiet",
        ]);
        assert_same_dir(
            &f.path(&direct),
            &f.path(&format!("sw/{variant}/seed-{seed}/results")),
        );
    }
}

#[test]
fn a_split_by_user_groups_is_refused_where_quality_couples_the_shards() {
    // online: no bandwidth policy anywhere, but every call's predicted
    // quality reads the load on the Microsoft network's links, which calls
    // placed by groups in different shards share.
    let f = Fixture::new("online", |s| s);
    f.callflow(&[
        "run",
        "t.toml",
        "s.toml",
        "--replications",
        "2",
        "--shard",
        "1/5",
        "--out",
        "g",
    ])
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("shard 1/5")
            .and(predicate::str::contains("sets the queueing delay")),
    );
    assert!(!f.path("g").exists());
}

#[test]
fn a_split_by_user_groups_is_refused_naming_the_link_that_couples_the_shards() {
    let f = Fixture::multi_site();
    f.callflow(&[
        "run",
        "t.toml",
        "s.toml",
        "--replications",
        "2",
        "--shard",
        "5/7",
        "--out",
        "p",
    ])
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("shard 5/7").and(predicate::str::contains(
            "link \"chicago-wan\" has a bandwidth policy",
        )),
    );
    assert!(!f.path("p").exists());
    // The sweep checks every job before printing any.
    f.callflow(&[
        "sweep",
        "t.toml",
        "s.toml",
        "--shards",
        "7",
        "--replications",
        "2",
    ])
    .assert()
    .code(2)
    .stdout("")
    .stderr(predicate::str::contains("chicago-wan"));
}

fn merge_fails(f: &Fixture, parts: &[&str], needles: &[&str]) {
    let mut args = vec!["merge"];
    args.extend(parts);
    args.extend(["--out", "refused"]);
    let mut pred = predicate::str::contains("error:").boxed();
    for n in needles {
        pred = pred.and(predicate::str::contains(n.to_string())).boxed();
    }
    f.callflow(&args).assert().code(2).stderr(pred);
    assert!(!f.path("refused").exists());
}

#[test]
fn a_merge_refuses_parts_that_do_not_belong_together() {
    let f = Fixture::multi_site();
    let base = ["run", "t.toml", "s.toml", "--replications", "3"];
    run_shards(&f, &base, "a", 3);

    // Missing: names the index and the command that makes it.
    merge_fails(
        &f,
        &["a/part-0", "a/part-2"],
        &[
            "shard 1/3 is missing",
            "callflow run t.toml s.toml --seed 5580 --replications 3 --shard 1/3 --out a/part-1",
        ],
    );
    // Duplicated: names both parts.
    std::fs::create_dir(f.path("copy")).unwrap();
    for name in ["partial.json", "manifest.json"] {
        std::fs::copy(f.path("a/part-1").join(name), f.path("copy").join(name)).unwrap();
    }
    merge_fails(
        &f,
        &["a/part-0", "a/part-1", "copy", "a/part-2"],
        &["shard 1/3 is given twice: a/part-1 and copy"],
    );

    // Another seed.
    let mut other = base.to_vec();
    other.extend(["--seed", "9"]);
    run_shards(&f, &other, "seed9", 3);
    merge_fails(
        &f,
        &["a/part-0", "seed9/part-1", "a/part-2"],
        &[
            "part seed9/part-1 is not of the same run as part a/part-0",
            "its seed is 9, not 5580",
        ],
    );

    // Another shard count.
    run_shards(&f, &base, "two", 2);
    merge_fails(
        &f,
        &["a/part-0", "two/part-1"],
        &["its shard count is 2, not 3"],
    );

    // Other inputs: a scenario that differs by one comment.
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    std::fs::write(f.path("s2.toml"), format!("{text}\n# another file\n")).unwrap();
    run_shards(
        &f,
        &["run", "t.toml", "s2.toml", "--replications", "3"],
        "s2",
        3,
    );
    merge_fails(
        &f,
        &["a/part-0", "s2/part-1", "a/part-2"],
        &["part s2/part-1 is not of the same run as part a/part-0: its inputs are"],
    );

    // Another version of callflow.
    let path = f.path("a/part-2/partial.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let version = format!("\"callflow_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(original.contains(&version));
    std::fs::write(
        &path,
        original.replace(&version, "\"callflow_version\":\"0.0.1\""),
    )
    .unwrap();
    merge_fails(
        &f,
        &["a/part-0", "a/part-1", "a/part-2"],
        &["part a/part-2 was written by callflow 0.0.1"],
    );
    std::fs::write(&path, &original).unwrap();

    // The inputs changed after the shards ran.
    std::fs::write(f.path("s.toml"), format!("{text}\n# edited later\n")).unwrap();
    merge_fails(
        &f,
        &["a/part-0", "a/part-1", "a/part-2"],
        &["input s.toml has changed"],
    );
    std::fs::write(f.path("s.toml"), &text).unwrap();

    // A shard index outside its count.
    let edited = original.replace(
        "\"shard\":{\"index\":2,\"count\":3}",
        "\"shard\":{\"index\":5,\"count\":3}",
    );
    assert_ne!(edited, original);
    std::fs::write(&path, edited).unwrap();
    merge_fails(
        &f,
        &["a/part-0", "a/part-1", "a/part-2"],
        &["cannot read part a/part-2: shard index 5 is not below the shard count 3"],
    );
    std::fs::write(&path, &original).unwrap();

    // Not a part at all.
    merge_fails(&f, &["a/part-0", "t.toml"], &["cannot read part t.toml"]);

    // With everything put back, the parts merge.
    f.ok(&[
        "merge", "a/part-0", "a/part-1", "a/part-2", "--out", "ok", "--quiet",
    ]);
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_indices() {
    let f = Fixture::multi_site();
    let base = ["run", "t.toml", "s.toml", "--replications", "4"];
    run_shards(&f, &base, "explicit", 4);
    let auto = |out: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(["--shard", "auto", "--out", out, "--quiet"]);
        args.extend(extra);
        let mut c = f.callflow(&args);
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_STEP",
            "SLURM_ARRAY_TASK_COUNT",
            "JOB_COMPLETION_INDEX",
        ] {
            c.env_remove(var);
        }
        c.envs(env.iter().copied());
        c
    };
    // --array=1-4: task 3 is shard 2.
    auto(
        "slurm",
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ],
        &[],
    )
    .assert()
    .success();
    assert_same_dir(&f.path("explicit/part-2"), &f.path("slurm"));
    auto("k8s", &[("JOB_COMPLETION_INDEX", "1")], &["--shards", "4"])
        .assert()
        .success();
    assert_same_dir(&f.path("explicit/part-1"), &f.path("k8s"));
    auto("none", &[("JOB_COMPLETION_INDEX", "1")], &[])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --shards N"));
    auto("none", &[], &["--shards", "4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SLURM_ARRAY_TASK_ID"));
}

#[test]
fn a_shard_that_cannot_write_is_reported_by_index_and_can_be_rerun_alone() {
    let f = Fixture::multi_site();
    let base = ["run", "t.toml", "s.toml", "--replications", "2"];
    let shard = |i: &str, out: &str| {
        let mut args = base.to_vec();
        args.extend(["--shard", i, "--out", out, "--quiet"]);
        f.callflow(&args)
    };
    shard("0/2", "p/part-0").assert().success();
    std::fs::write(f.path("blocker"), b"a file, not a directory").unwrap();
    shard("1/2", "blocker/part-1")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("shard 1/2 failed"));
    assert_eq!(
        std::fs::read(f.path("blocker")).unwrap(),
        b"a file, not a directory"
    );
    // Only the failed shard runs again; the set then merges.
    shard("1/2", "p/part-1").assert().success();
    f.ok(&["merge", "p/part-0", "p/part-1", "--out", "m", "--quiet"]);
    let mut whole = base.to_vec();
    whole.extend(["--out", "whole", "--quiet"]);
    f.ok(&whole);
    assert_same_dir(&f.path("whole"), &f.path("m"));
}

// ----- docs/scale-out.md and its example files --------------------------------------

/// The page's blocks marked `<!-- file: PATH -->`, with the path.
fn quoted_files(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- file: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        assert!(lines.next().unwrap().starts_with("```"));
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        out.push((path.to_string(), body.join("\n") + "\n"));
    }
    out
}

#[test]
fn the_scale_out_page_quotes_its_example_files_verbatim() {
    let page = std::fs::read_to_string(root().join("docs/scale-out.md")).unwrap();
    let quoted = quoted_files(&page);
    let names: Vec<&str> = quoted.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "docs/examples/slurm-array.sbatch",
            "docs/examples/slurm-sweep.sh",
            "docs/examples/k8s-indexed-job.yaml",
            "docs/examples/k8s-merge-job.yaml",
        ]
    );
    for (path, body) in quoted {
        let file = std::fs::read_to_string(root().join(&path)).unwrap();
        assert_eq!(body, file, "docs/scale-out.md quotes {path} out of date");
    }
}

/// The `args` of a Kubernetes manifest's container: the folded `- >-`
/// block joined into one line.
fn k8s_args(manifest: &str) -> String {
    let mut lines = manifest.lines().skip_while(|l| l.trim() != "- >-");
    lines.next().expect("a folded args block");
    lines
        .take_while(|l| l.starts_with("              "))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_slurm_array_script_and_the_kubernetes_jobs_run_as_written() {
    // A submit directory with the example's inputs at the paths the scripts
    // use, the users cut to a twentieth.
    let f = Fixture::multi_site();
    for dir in ["topologies", "scenarios", "logs"] {
        std::fs::create_dir(f.path(dir)).unwrap();
    }
    std::fs::copy(f.path("t.toml"), f.path("topologies/multi-site.toml")).unwrap();
    std::fs::copy(f.path("s.toml"), f.path("scenarios/multi-site.toml")).unwrap();
    let script = root().join("docs/examples/slurm-array.sbatch");
    // --array=1-8 as Slurm would run it, except task 5.
    for task in (1..=8).filter(|&t| t != 5) {
        f.shell(&format!("bash {}", script.display()))
            .env("SLURM_SUBMIT_DIR", f.path(""))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "8")
            .env("SLURM_CPUS_PER_TASK", "1")
            .assert()
            .success();
    }
    // Shard 4 (task 5) comes from the Kubernetes Indexed Job's command.
    let job = std::fs::read_to_string(root().join("docs/examples/k8s-indexed-job.yaml")).unwrap();
    let args = k8s_args(&job).replace("$(JOB_COMPLETION_INDEX)", "$JOB_COMPLETION_INDEX");
    f.shell(&args)
        .env("JOB_COMPLETION_INDEX", "4")
        .assert()
        .success();
    let merge = std::fs::read_to_string(root().join("docs/examples/k8s-merge-job.yaml")).unwrap();
    f.shell(&k8s_args(&merge)).assert().success();
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.path("results/multi-site/results/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["run"]["replications"], 8);
}
