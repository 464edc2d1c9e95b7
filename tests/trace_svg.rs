//! `callflow trace --svg` end to end on a teaching lesson: the drawing is
//! written whole, parses as XML, and marks the drop exactly when the lesson
//! is the broken one.

use assert_cmd::Command;

fn callflow() -> Command {
    Command::cargo_bin("callflow").expect("the binary builds")
}

fn lesson(name: &str) -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    (
        format!("{root}/topologies/teaching/{name}.toml"),
        format!("{root}/scenarios/teaching/{name}.toml"),
    )
}

fn trace_svg(name: &str, dir: &std::path::Path) -> String {
    let (t, s) = lesson(name);
    let path = dir.join(format!("{name}.svg"));
    let out = callflow()
        .args(["trace", &t, &s, "--svg"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("verdict:"),
        "the text trace is still printed"
    );
    let svg = std::fs::read_to_string(&path).expect("the drawing is written");
    let doc = roxmltree::Document::parse(&svg).expect("the drawing is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    svg
}

#[test]
fn the_broken_lesson_is_drawn_with_its_drop_and_the_fixed_one_without() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let broken = trace_svg("asymmetric-b", dir.path());
    assert!(
        broken.contains("class=\"drop-marker\""),
        "the drop is marked"
    );
    assert!(broken.contains("✕ return-dropped"), "with its verdict");
    for lane in [
        "Your network",
        "Internet",
        "ExpressRoute",
        "Microsoft network",
    ] {
        assert!(broken.contains(&format!(">{lane}</text>")), "lane {lane}");
    }
    let fixed = trace_svg("asymmetric-b-fixed", dir.path());
    assert!(!fixed.contains("class=\"drop-marker\""), "nothing breaks");
    assert!(fixed.contains("class=\"request\""), "the path is drawn");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".svg"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn an_unwritable_svg_path_is_a_runtime_failure() {
    let (t, s) = lesson("asymmetric-a");
    let out = callflow()
        .args(["trace", &t, &s, "--svg", "/nonexistent-dir/x/trace.svg"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trace.svg"));
}
