//! A reader that stops early (`callflow trace … | head -1`) is not a
//! failure: the command stops writing, prints no panic and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_callflow"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the callflow binary runs")
}

/// Waits for the child and checks it exited 0 with nothing on stderr.
fn assert_quiet_success(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().expect("the child ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
    assert!(stderr.is_empty(), "{what} wrote to stderr: {stderr}");
}

#[test]
fn trace_json_read_one_line_then_closed_exits_0_quietly() {
    let mut child = spawn(&[
        "trace",
        "topologies/multi-site.toml",
        "scenarios/multi-site.toml",
        "--format",
        "json",
    ]);
    // The document is far larger than a pipe holds (about 270 kB), so
    // closing after one line makes the writes that follow fail.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\n");
    assert_quiet_success(child, "trace --format json | head -1");
}

#[test]
fn trace_text_and_graph_into_a_closed_pipe_exit_0_quietly() {
    for args in [
        &[
            "trace",
            "topologies/multi-site.toml",
            "scenarios/multi-site.toml",
        ][..],
        &["graph", "topologies/multi-site.toml"][..],
        &["graph", "topologies/multi-site.toml", "--format", "dot"][..],
        &[
            "validate",
            "topologies/multi-site.toml",
            "scenarios/multi-site.toml",
        ][..],
    ] {
        let mut child = spawn(args);
        // Closed before the command has loaded its files, so its first
        // write finds no reader.
        drop(child.stdout.take());
        assert_quiet_success(child, &args.join(" "));
    }
}
