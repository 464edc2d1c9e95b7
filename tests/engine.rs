//! The engine end to end, through the library and the binary: queueing
//! laws (Little, Erlang B), conservation of calls and bytes, determinism,
//! cached against uncached resolution, random small scenarios, the step
//! budget, and results directories that land whole or not at all.
//!
//! The scenarios are small (a few thousand calls) so the whole file runs in
//! well under half a minute in a debug build; the examples are run for an
//! hour with a tenth of their users.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use proptest::prelude::*;

use callflow::codec::{Basis, Flow, Modality, stream_rate};
use callflow::diag::SourceFile;
use callflow::engine::resolve::Resolver;
use callflow::engine::sim::{Reroutes, SimError, World, replicate};
use callflow::engine::{self, CallKind, RunOptions, RunOutput};
use callflow::metrics::{CLASSES, LinkDir, Partial, Summary, Volume, summarize};
use callflow::model::{CodecProfile, Owner, Scenario, Segment, Topology};
use callflow::net::routing::Routing;
use callflow::stats::{ConfidenceInterval, erlang_b};
use callflow::time::{SimDuration, SimTime};
use callflow::validate::{self, Study};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn study(topology: &str, scenario: &str) -> Study {
    validate::load_study(&root().join(topology), &root().join(scenario))
        .unwrap_or_else(|e| panic!("{scenario} validates: {e}"))
}

fn options(jobs: usize) -> RunOptions {
    RunOptions {
        jobs: Some(jobs),
        progress: false,
        replications: None,
        digest: "engine-tests".into(),
    }
}

fn run(t: &Topology, s: &Scenario) -> (RunOutput, Summary) {
    let out = engine::run(t, s, &options(2)).expect("the run finishes");
    let summary = summarize(t, s, &out.partials).expect("the partials summarize");
    (out, summary)
}

/// The committed example scenarios (`scenarios/*.toml`) with the topology
/// each names.
fn examples() -> Vec<(PathBuf, PathBuf)> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 7, "the examples are there: {v:?}");
    v.into_iter()
        .map(|scenario| {
            let text = std::fs::read_to_string(&scenario).unwrap();
            let table: toml::Table = toml::from_str(&text).unwrap();
            let topology = table["topology"].as_str().expect("a topology key");
            let topology = scenario.parent().unwrap().join(topology);
            (topology, scenario)
        })
        .collect()
}

/// An example made small: one replication, the first hour, a tenth of the
/// users (at least one per group).
fn small_example(topology: &Path, scenario: &Path) -> (Topology, Scenario) {
    let study = validate::load_study(topology, scenario)
        .unwrap_or_else(|e| panic!("{} validates: {e}", scenario.display()));
    let mut s = study.scenario;
    s.replications = 1;
    s.duration = SimDuration::from_hours(1);
    s.bin = s.bin.min(SimDuration::from_mins(15));
    for g in &mut s.groups {
        g.count = (g.count / 10).max(1);
    }
    (study.topology, s)
}

// ----- queueing laws ---------------------------------------------------------

#[test]
fn littles_law_mean_concurrency_is_rate_times_holding() {
    let st = study("topologies/online.toml", "scenarios/tests/littles-law.toml");
    let (t, s) = (&st.topology, &st.scenario);
    let (out, summary) = run(t, s);
    // Every call went through: concurrency counts all of them.
    assert_eq!(
        summary.calls.all.totals.offered,
        summary.calls.all.totals.completed
    );
    let offered = summary.calls.by_kind["peer-to-peer"].totals.offered;
    assert_eq!(
        offered, summary.calls.all.totals.offered,
        "one kind of call"
    );
    // 2000 users × 2 calls over 8 h, 6 min each.
    let rate_per_s = 2000.0 * 2.0 / (8.0 * 3600.0);
    let holding_s: f64 = 360.0;
    let run_s: f64 = 8.0 * 3600.0;
    // The day starts empty: E[N(t)] = λh(1 − e^{−t/h}), whose mean over
    // the run is λh(1 − (h/T)(1 − e^{−T/h})).
    let expected =
        rate_per_s * holding_s * (1.0 - holding_s / run_s * (1.0 - (-run_s / holding_s).exp()));
    // Per-replication means, from the partials' call-microseconds.
    let means: Vec<f64> = out
        .partials
        .iter()
        .map(|p| p.concurrency().iter().map(|&us| us as f64).sum::<f64>() / (run_s * 1e6))
        .collect();
    let ci = ConfidenceInterval::from_samples(&means).unwrap();
    let half = ci.half_width.expect("four replications");
    assert!(
        (ci.mean - expected).abs() <= half,
        "mean concurrency {:.3} ± {half:.3}, Little's law {expected:.3}",
        ci.mean
    );
    // The summary reports the same mean and interval.
    assert!((summary.concurrency.mean - ci.mean).abs() < 1e-3);
    assert!(half < 0.05 * expected, "the interval is tight: ± {half:.3}");
    // And the arrival rate is right: offered calls over the run.
    let arrivals = offered as f64 / s.replications as f64;
    assert!((arrivals - 4000.0).abs() < 4.0 * 4000f64.sqrt());
}

#[test]
fn erlang_b_blocking_with_fifteen_cac_slots() {
    let st = study(
        "topologies/tests/erlang-b.toml",
        "scenarios/tests/erlang-b.toml",
    );
    let (t, s) = (&st.topology, &st.scenario);
    // The policy admits exactly 15 calls' audio each way.
    let lan = t.links().find(|&l| t.link(l).name == "office-lan").unwrap();
    let limit = t.link(lan).bandwidth_policy.unwrap().audio.unwrap();
    for flow in [Flow::Up, Flow::Down] {
        let rate = stream_rate(
            CodecProfile::Sfb,
            CallKind::Pstn,
            Modality::Audio,
            flow,
            Basis::Max,
        )
        .unwrap();
        assert_eq!(limit.as_bps() / rate.as_bps(), 15);
    }
    assert!(!s.reroute.internet && !s.reroute.pstn && !s.reroute.voicemail);
    // 1000 users × 1.29728 calls per 8 h × 3 min.
    let offered_erlang = 1000.0 * 1.29728 / (8.0 * 60.0) * 3.0;
    assert!((offered_erlang - 8.108f64).abs() < 1e-9);
    let theory = erlang_b(offered_erlang, 15);
    assert!((theory - 0.01).abs() < 5e-4, "B(15, 8.108) = {theory}");

    let (out, summary) = run(t, s);
    let pstn = &summary.calls.by_kind["pstn"];
    assert_eq!(pstn.totals.offered, summary.calls.all.totals.offered);
    assert_eq!(pstn.totals.rerouted, 0);
    assert_eq!(pstn.totals.failed, 0);
    assert!(pstn.totals.blocked > 100, "enough blocked calls to measure");
    let per_replication: Vec<f64> = out
        .partials
        .iter()
        .map(|p| {
            let c = p.calls(CallKind::Pstn);
            c.blocked_total() as f64 / c.offered() as f64
        })
        .collect();
    let ci = ConfidenceInterval::from_samples(&per_replication).unwrap();
    let (low, high) = (ci.low().unwrap(), ci.high().unwrap());
    assert!(
        low <= theory && theory <= high,
        "simulated blocking {:.4} [{low:.4}, {high:.4}], Erlang B {theory:.4}",
        ci.mean
    );
    // Sharp enough to tell 15 slots from 14 or 16.
    for (servers, b) in [14, 16].map(|n| (n, erlang_b(offered_erlang, n))) {
        assert!(
            b < low || b > high,
            "B({servers}) = {b:.4} is outside [{low:.4}, {high:.4}]"
        );
    }
    // Every block names the policy that refused it.
    let reasons: Vec<&String> = pstn.blocked_by_reason.keys().collect();
    assert_eq!(reasons, ["audio bandwidth policy on office-lan"]);
}

// ----- conservation ----------------------------------------------------------

fn total(bins: &[Volume]) -> Volume {
    bins.iter().fold(Volume::ZERO, |mut sum, v| {
        sum.add(*v);
        sum
    })
}

/// Bytes per link equal the sum over classes; a segment carries at least
/// what its busiest link direction does and at most the sum of its links
/// (a stream counts once in a segment however many of its links it uses;
/// see `callflow::metrics`); other organizations' links count in no segment.
fn assert_bytes_conserved(name: &str, t: &Topology, p: &Partial) {
    for l in t.links() {
        for dir in LinkDir::ALL {
            let by_class = CLASSES.iter().fold(Volume::ZERO, |mut sum, &c| {
                sum.add(total(p.link_series(l, dir, c)));
                sum
            });
            assert_eq!(
                p.link_total(l, dir),
                by_class,
                "{name}: link {} {dir:?}: total against classes",
                t.link(l).name
            );
        }
    }
    for seg in Segment::ALL {
        let mut sum = Volume::ZERO;
        let mut busiest = Volume::ZERO;
        for l in t.links() {
            let link = t.link(l);
            if link.segment != seg || matches!(link.owner, Owner::Organization(_)) {
                continue;
            }
            for dir in LinkDir::ALL {
                let v = p.link_total(l, dir);
                sum.add(v);
                busiest = busiest.max(v);
            }
        }
        let carried = p.segment_total(seg);
        assert!(
            busiest <= carried && carried <= sum,
            "{name}: segment {seg:?} carried {carried:?}, links {busiest:?} (busiest) to {sum:?} (sum)"
        );
        let by_class = CLASSES.iter().fold(Volume::ZERO, |mut sum, &c| {
            sum.add(total(p.segment_series(seg, c)));
            sum
        });
        assert_eq!(carried, by_class, "{name}: segment {seg:?} against classes");
    }
}

/// offered = completed + rerouted + blocked + failed, per kind and in all,
/// exactly in the totals, and the kinds add up to all.
fn assert_calls_conserved(name: &str, s: &Summary) {
    let mut sum = [0u64; 5];
    for kind in CallKind::ALL {
        let c = &s.calls.by_kind[kind.word()];
        let t = c.totals;
        assert_eq!(
            t.offered,
            t.completed + t.rerouted + t.blocked + t.failed,
            "{name}: {} totals",
            kind.word()
        );
        let parts = c.completed + c.rerouted + c.blocked + c.failed;
        assert!((c.offered - parts).abs() < 5e-3, "{name}: {}", kind.word());
        for (acc, x) in
            sum.iter_mut()
                .zip([t.offered, t.completed, t.rerouted, t.blocked, t.failed])
        {
            *acc += x;
        }
    }
    let all = s.calls.all.totals;
    assert_eq!(
        sum,
        [
            all.offered,
            all.completed,
            all.rerouted,
            all.blocked,
            all.failed
        ],
        "{name}: kinds add up to all"
    );
    assert_eq!(
        all.offered,
        all.completed + all.rerouted + all.blocked + all.failed
    );
}

#[test]
fn every_example_conserves_calls_and_bytes() {
    for (topology, scenario) in examples() {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let (t, s) = small_example(&topology, &scenario);
        let (out, summary) = run(&t, &s);
        assert!(
            summary.calls.all.totals.offered > 0,
            "{name}: some calls were offered"
        );
        assert_calls_conserved(&name, &summary);
        for p in &out.partials {
            assert_bytes_conserved(&name, &t, p);
        }
        // The summary's link rows carry the partial's whole bytes.
        for row in &summary.links {
            let by_class: f64 = row.traffic.by_class.values().map(|c| c.bytes).sum();
            assert!(
                (row.traffic.bytes - by_class).abs() <= CLASSES.len() as f64,
                "{name}: {} {}: {} bytes, classes {by_class}",
                row.name,
                row.direction,
                row.traffic.bytes
            );
        }
    }
}

// ----- cached against uncached resolution -------------------------------------

#[test]
fn cached_and_uncached_resolution_give_identical_runs_on_every_example() {
    for (topology, scenario) in examples() {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let (t, mut s) = small_example(&topology, &scenario);
        // Uncached resolution negotiates ICE for every call: fewer users.
        for g in &mut s.groups {
            g.count = (g.count / 5).max(1);
        }
        let cached = engine::run(&t, &s, &options(2)).unwrap();
        let uncached = engine::run_uncached(&t, &s, &options(2)).unwrap();
        assert!(cached.resolved > 0, "{name}: the cache was used");
        assert_eq!(uncached.resolved, 0, "{name}: nothing cached");
        assert_eq!(cached.counters, uncached.counters, "{name}: counters");
        assert_eq!(cached.partials, uncached.partials, "{name}: partials");
        let a = summarize(&t, &s, &cached.partials).unwrap();
        let b = summarize(&t, &s, &uncached.partials).unwrap();
        assert_eq!(a.to_json().unwrap(), b.to_json().unwrap(), "{name}");
        assert_eq!(a.timeseries_csv().unwrap(), b.timeseries_csv().unwrap());
    }
}

/// With more than one thread, two-party media is resolved ahead in
/// parallel: the same runs, and exactly the pieces the simulation asks for.
#[test]
fn resolving_ahead_changes_no_result_and_resolves_only_what_is_asked() {
    for (topology, scenario) in examples() {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let (t, s) = small_example(&topology, &scenario);
        let alone = engine::run(&t, &s, &options(1)).unwrap();
        let ahead = engine::run(&t, &s, &options(2)).unwrap();
        assert_eq!(alone.resolved, ahead.resolved, "{name}: pieces resolved");
        assert_eq!(alone.counters, ahead.counters, "{name}: counters");
        assert_eq!(alone.partials, ahead.partials, "{name}: partials");
    }
}

// ----- link failures ------------------------------------------------------------------

/// Regression: a call moved off a failed circuit used to lose its signaling
/// keepalives for the rest of the call (only its media was restarted). The
/// customer network carries every call's signaling whichever way it leaves,
/// so with the failure moving calls rather than dropping them, its
/// signaling bytes must be those of the same day without the failure.
#[test]
fn calls_moved_by_a_failure_keep_their_signaling() {
    let st = study("topologies/multi-site.toml", "scenarios/multi-site.toml");
    let (t, mut s) = (st.topology, st.scenario);
    s.replications = 1;
    for g in &mut s.groups {
        g.count = (g.count / 10).max(1);
    }
    assert!(!s.failures.is_empty(), "the example fails its circuit");
    let with = engine::run(&t, &s, &options(2)).unwrap();
    assert!(with.counters[0].moved_by_failure > 0, "calls were moved");
    let signaling = |s: &Scenario, out: &RunOutput| {
        summarize(&t, s, &out.partials)
            .unwrap()
            .segments
            .customer
            .by_class["signaling"]
            .bytes
    };
    let moved = signaling(&s, &with);
    s.failures.clear();
    let without = engine::run(&t, &s, &options(2)).unwrap();
    let steady = signaling(&s, &without);
    assert!(
        (moved / steady - 1.0).abs() < 0.002,
        "signaling bytes in the customer network: {moved} with the failure, {steady} without"
    );
}

// ----- determinism, through the binary -------------------------------------------

fn run_cli(out: &Path, extra: &[&str]) {
    Command::cargo_bin("callflow")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "topologies/tests/erlang-b.toml",
            "scenarios/tests/erlang-b.toml",
            "--replications",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Every file of a results directory, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn results_are_byte_identical_for_a_seed_whatever_the_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |n: &str| tmp.path().join(n);
    run_cli(&dir("a"), &["--jobs", "1"]);
    run_cli(&dir("b"), &["--jobs", "1"]);
    run_cli(&dir("c"), &["--jobs", "2"]);
    run_cli(&dir("d"), &["--jobs", "2", "--seed", "16"]);
    let a = files(&dir("a"));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    for f in [
        "calls.csv",
        "links.csv",
        "manifest.json",
        "segments.csv",
        "summary.json",
        "timeseries.csv",
    ] {
        assert!(names.contains(&f), "{f} in {names:?}");
    }
    assert_eq!(a, files(&dir("b")), "the same seed twice");
    assert_eq!(a, files(&dir("c")), "--jobs 1 against --jobs 2");
    let summary = |v: &[(String, Vec<u8>)]| {
        v.iter()
            .find(|(n, _)| n == "summary.json")
            .unwrap()
            .1
            .clone()
    };
    assert_ne!(
        summary(&a),
        summary(&files(&dir("d"))),
        "another seed, other results"
    );
}

#[test]
fn a_results_directory_that_cannot_be_written_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"keep").unwrap();
    Command::cargo_bin("callflow")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "topologies/tests/erlang-b.toml",
            "scenarios/tests/erlang-b.toml",
            "--replications",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(blocker.join("results"))
        .assert()
        .code(1);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["not-a-dir"]);
    assert_eq!(std::fs::read(&blocker).unwrap(), b"keep");
}

/// Regression: `run --replications 0` used to write a results directory of
/// nothing; it is invalid input now, as it is for `compare`.
#[test]
fn zero_replications_is_invalid_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    Command::cargo_bin("callflow")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "topologies/tests/erlang-b.toml",
            "scenarios/tests/erlang-b.toml",
            "--replications",
            "0",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--replications must be at least 1",
        ));
    assert!(!out.exists());
}

// ----- the step budget -----------------------------------------------------------

#[test]
fn the_step_budget_turns_a_runaway_replication_into_an_error() {
    let st = study("topologies/online.toml", "scenarios/tests/littles-law.toml");
    let (t, s) = (&st.topology, &st.scenario);
    let world = |budget: u64| World {
        topology: t,
        scenario: s,
        resolver: Resolver::new(t, s, vec![Routing::compute(t, &BTreeSet::new())]),
        epochs: vec![(SimTime::ZERO, 0, BTreeSet::new())],
        basis: s.bitrate_basis,
        reroutes: Reroutes {
            internet: s.reroute.internet,
            pstn: s.reroute.pstn,
            voicemail: s.reroute.voicemail,
        },
        step_budget: budget,
    };
    match replicate(&world(100), 0, &|_| {}) {
        Err(SimError::StepBudget {
            replication,
            budget,
            at,
        }) => {
            assert_eq!((replication, budget), (0, 100));
            assert!(at > SimTime::ZERO && at < SimTime::ZERO + s.duration);
        }
        other => panic!("expected the step budget to stop it, got {other:?}"),
    }
    // With room enough the same replication finishes, and the run's own
    // budget matches what the library run does.
    let (p, c) = replicate(&world(u64::MAX), 0, &|_| {}).unwrap();
    assert!(c.events > 100);
    let whole = engine::run(t, s, &options(1)).unwrap();
    assert_eq!(whole.counters[0], c);
    assert_eq!(
        whole.partials[0].calls(CallKind::PeerToPeer),
        p.calls(CallKind::PeerToPeer)
    );
}

// ----- random small scenarios ------------------------------------------------------

/// A scenario on the Erlang-B office (a CAC-managed LAN) or the Online
/// example, with the given rates, holding times, reroutes and seed.
#[allow(clippy::too_many_arguments)]
fn random_scenario(
    online: bool,
    users: u32,
    p2p: f64,
    pstn: f64,
    meetings: f64,
    holding_min: u32,
    reroute: &[&str],
    seed: u64,
    minutes: u32,
) -> String {
    let topology = if online {
        "../topologies/online.toml"
    } else {
        "../topologies/tests/erlang-b.toml"
    };
    let reroute: Vec<String> = reroute.iter().map(|r| format!("\"{r}\"")).collect();
    format!(
        r#"
name = "random"
topology = "{topology}"
seed = {seed}
replications = 1
duration = "{minutes}m"
bin = "{minutes}m"

[cac]
reroute = [{}]

[[persona]]
name = "random"
rates = {{ peer_to_peer = {p2p}, meetings = {meetings}, pstn = {pstn} }}
modalities = {{ video = "40%", sharing = "20%", file_transfer = "5%" }}
holding = {{ peer_to_peer = {{ distribution = "exponential", mean = "{holding_min}m" }}, pstn = {{ distribution = "exponential", mean = "{holding_min}m" }} }}

[[group]]
name = "staff"
at = "office"
homed = "online"
persona = "random"
count = {users}
"#,
        reroute.join(", ")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_small_scenarios_conserve_calls(
        online in any::<bool>(),
        users in 1u32..300,
        p2p in 0.0f64..4.0,
        pstn in 0.0f64..4.0,
        meetings in prop_oneof![Just(0.0f64), 0.0f64..0.3],
        holding_min in 1u32..30,
        reroute in proptest::sample::subsequence(vec!["internet", "pstn", "voicemail"], 0..=3),
        seed in 0u64..(i64::MAX as u64),
        minutes in 10u32..120,
    ) {
        let topology_path = if online {
            "topologies/online.toml"
        } else {
            "topologies/tests/erlang-b.toml"
        };
        let topology = std::fs::read_to_string(root().join(topology_path)).unwrap();
        let text = random_scenario(
            online, users, p2p, pstn, meetings, holding_min, &reroute, seed, minutes,
        );
        let st = validate::study_from_sources(
            SourceFile::new(topology_path, topology),
            SourceFile::new("scenarios/random.toml", text),
        )
        .unwrap_or_else(|d| panic!("the random scenario validates: {d:?}"));
        let (t, s) = (&st.topology, &st.scenario);
        let (out, summary) = run(t, s);
        assert_calls_conserved("random", &summary);
        for p in &out.partials {
            assert_bytes_conserved("random", t, p);
        }
        // Every request the workload issued has an outcome: two-party and
        // PSTN calls exactly one, a meeting one per participant who joined
        // (its organizer at least).
        let offered = summary.calls.all.totals.offered;
        let requests = out.counters[0].requests;
        if meetings == 0.0 {
            prop_assert_eq!(offered, requests);
        } else {
            prop_assert!(offered >= requests, "{} offered, {} requests", offered, requests);
        }
        prop_assert!(summary.concurrency.mean >= 0.0);
    }
}
