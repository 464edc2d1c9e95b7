//! `callflow graph` end to end: both formats, files written atomically,
//! invalid input refused with exit code 2.

use assert_cmd::Command;

const TOPOLOGY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/multi-site.toml");

fn callflow() -> Command {
    Command::cargo_bin("callflow").expect("the binary builds")
}

/// Every element of the tenant's own network in the example.
const CUSTOMER_ELEMENTS: &[&str] = &[
    "hq",
    "hq-dmz",
    "hq-core",
    "hq-fw",
    "hq-ce",
    "hq-inet-nat",
    "hq-er-nat",
    "hq-er-ce",
    "hq-proxy",
    "chicago",
    "chicago-r",
    "boston",
    "boston-r",
    "london",
    "london-r",
    "london-nat",
];

#[test]
fn svg_on_stdout_shows_the_four_lanes_and_every_element() {
    let out = callflow().args(["graph", TOPOLOGY]).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(svg.starts_with("<svg "), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    for lane in [
        "Your network",
        "Internet",
        "ExpressRoute",
        "Microsoft network",
    ] {
        assert!(svg.contains(&format!(">{lane}</text>")), "lane {lane}");
    }
    for name in CUSTOMER_ELEMENTS {
        assert!(svg.contains(&format!(">{name}</text>")), "{name} is drawn");
    }
    assert!(svg.contains(">er-nyc</text>"), "the circuit is drawn");
    // XML-ish: the elements that hold others open and close in pairs.
    for tag in ["g", "text", "title"] {
        let open =
            svg.matches(&format!("<{tag}>")).count() + svg.matches(&format!("<{tag} ")).count();
        assert_eq!(
            open,
            svg.matches(&format!("</{tag}>")).count(),
            "<{tag}> balances"
        );
        assert!(open > 0, "<{tag}> is used");
    }
}

#[test]
fn dot_on_stdout_has_a_cluster_per_lane() {
    let out = callflow()
        .args(["graph", TOPOLOGY, "--format", "dot"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(dot.starts_with("graph \"multi-site\" {"));
    assert!(dot.trim_end().ends_with('}'));
    for lane in ["customer", "internet", "expressroute", "microsoft"] {
        assert!(
            dot.contains(&format!("subgraph \"cluster_{lane}\" {{")),
            "{lane}"
        );
    }
    for name in CUSTOMER_ELEMENTS {
        assert_eq!(
            dot.matches(&format!("\"{name}\" [label=")).count(),
            1,
            "{name} declared once"
        );
    }
    assert!(dot.contains("\"hq-inet-nat\" -- \"internet\" [color=\"#ef6c00\""));
}

#[test]
fn out_writes_the_file_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [("svg", "graph.svg"), ("dot", "graph.dot")] {
        let path = dir.path().join(file);
        let out = callflow()
            .args(["graph", TOPOLOGY, "--format", format, "--out"])
            .arg(&path)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty(), "nothing on stdout with --out");
        let stdout = callflow()
            .args(["graph", TOPOLOGY, "--format", format])
            .output()
            .unwrap()
            .stdout;
        assert_eq!(
            std::fs::read(&path).unwrap(),
            stdout,
            "same bytes either way"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["graph.dot", "graph.svg"], "no temporary files left");
}

#[test]
fn invalid_topology_exits_2_like_validate() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n[tenant]\nhome_region = \"nowhere\"\n\n[[site]]\nname = \"hq\"\nsubnets = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    let graph = callflow().arg("graph").arg(&bad).output().unwrap();
    let validate = callflow().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(graph.status.code(), Some(2));
    assert_eq!(validate.status.code(), Some(2));
    assert!(graph.stdout.is_empty());
    assert_eq!(graph.stderr, validate.stderr, "the same report");
    assert!(String::from_utf8_lossy(&graph.stderr).contains("nowhere"));

    let missing = callflow()
        .args(["graph", "no/such/topology.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn an_unwritable_output_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = callflow()
        .args(["graph", TOPOLOGY, "--out"])
        .arg(dir.path().join("missing-dir").join("g.svg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing"));
}
