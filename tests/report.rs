//! `callflow run --report` and `callflow report` end to end: the results
//! directory describes itself (topology.svg, trace.json), the page is the
//! same either way, loads nothing, and renders in headless Chromium without
//! console errors.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn callflow() -> Command {
    Command::cargo_bin("callflow").expect("the binary builds")
}

fn root(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(topology: &str, scenario: &str, dir: &Path, extra: &[&str]) {
    let out = callflow()
        .args([
            "run",
            &root(topology),
            &root(scenario),
            "--quiet",
            "--report",
        ])
        .args(extra)
        .arg("--out")
        .arg(dir)
        .output()
        .expect("runs");
    ok(&out);
}

#[test]
fn run_report_writes_a_self_describing_directory() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("lesson-a");
    let (t, s) = (
        "topologies/teaching/asymmetric-a.toml",
        "scenarios/teaching/asymmetric-a.toml",
    );
    run(t, s, &dir, &[]);
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));

    let trace = callflow()
        .args(["trace", &root(t), &root(s), "--format", "json"])
        .output()
        .expect("runs");
    ok(&trace);
    assert_eq!(
        read("trace.json"),
        trace.stdout,
        "trace.json is trace --format json"
    );
    let graph = callflow().args(["graph", &root(t)]).output().expect("runs");
    ok(&graph);
    assert_eq!(
        read("topology.svg"),
        graph.stdout,
        "topology.svg is graph's drawing"
    );

    let page = String::from_utf8(read("report.html")).expect("UTF-8");
    assert!(page.contains("Asymmetric routing: probe media (staff)"));
    assert!(page.contains("return-dropped: no session on inet-fw"));
    assert!(page.contains("<div class=\"topology\">\n<svg"));
    for needle in ["<script", "https://", "<link", "@import", "src=\""] {
        assert!(!page.contains(needle), "the page loads or runs {needle}");
    }

    // The same page from the directory alone.
    let again = tmp.path().join("again.html");
    let out = callflow()
        .arg("report")
        .arg(&dir)
        .arg("--out")
        .arg(&again)
        .output()
        .expect("runs");
    ok(&out);
    assert_eq!(std::fs::read(&again).expect("written"), page.as_bytes());
}

#[test]
fn report_refuses_a_directory_that_is_not_results() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let out = callflow()
        .arg("report")
        .arg(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no summary.json"));
    assert!(!tmp.path().join("report.html").exists());
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        let out = Process::new("which").arg(name).output().ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

#[test]
fn the_report_renders_in_headless_chromium_without_errors() {
    let Some(browser) = chromium() else {
        println!("chromium not installed: skipping");
        return;
    };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("multi-site");
    run(
        "topologies/multi-site.toml",
        "scenarios/multi-site.toml",
        &dir,
        &["--replications", "1"],
    );
    let page = dir.join("report.html");
    let url = format!("file://{}", page.display());
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-multi-site.png");
    let chrome = |args: &[&str]| {
        Process::new("timeout")
            .arg("120")
            .arg(&browser)
            .args([
                "--headless=new",
                "--disable-gpu",
                "--no-sandbox",
                "--window-size=1280,4000",
                &format!("--user-data-dir={}", tmp.path().join("profile").display()),
            ])
            .args(args)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };

    let shot_arg = format!("--screenshot={}", shot.display());
    let out = chrome(&[&shot_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(png.len() > 50_000, "the screenshot shows something");

    let out = chrome(&["--dump-dom", "--enable-logging=stderr", "--v=0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    for line in log.lines() {
        let console = line.contains("CONSOLE") || line.contains("Uncaught");
        let blocked = line.contains("net::ERR_") || line.contains("Refused to");
        assert!(!console && !blocked, "browser complained: {line}");
    }
    let charts = dom.matches("class=\"chart\"").count();
    assert!(
        charts >= 5 + 2,
        "segment and link charts in the DOM: {charts}"
    );
    assert!(dom.contains("class=\"series\""), "the charts have lines");
    for id in [
        "findings",
        "topology",
        "segments",
        "links",
        "calls",
        "call-flows",
        "files",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
    }
}
