//! The trace JSON is documented: every field `callflow trace --format json`
//! emits, for every probe of every committed example scenario, is listed in
//! docs/trace-json.md under the object it belongs to, and the page lists no
//! field the document does not emit. Adding a field without documenting it
//! fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use callflow::validate::load_study;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario under scenarios/, sorted.
fn scenarios() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "toml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("scenarios"), &mut out);
    out.sort();
    out
}

/// The topology a scenario names, relative to the scenario file.
fn topology_of(scenario: &Path) -> PathBuf {
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(scenario).unwrap()).unwrap();
    let rel = doc["topology"].as_str().expect("a `topology` key");
    scenario.parent().unwrap().join(rel)
}

/// The trace document of every probe of a scenario, as JSON.
fn trace_json(scenario: &Path) -> Value {
    let study = load_study(&topology_of(scenario), scenario)
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.display()));
    let (t, s) = (&study.topology, &study.scenario);
    let traces = callflow::trace::trace_probes(t, s, None);
    assert_eq!(traces.len(), s.probes.len(), "{}", scenario.display());
    serde_json::to_value(callflow::trace::document(t, s, &traces)).unwrap()
}

/// The documented object a field holds, by field name (lists of objects
/// hold the object named in the page).
fn child_object(field: &str) -> Option<&'static str> {
    match field {
        "probes" => Some("probe"),
        "legs" => Some("leg"),
        "hops" | "return_hops" | "signaling_hops" => Some("hop"),
        "route" => Some("route"),
        "ice" => Some("ice"),
        _ => None,
    }
}

/// Every (object, field) the value emits, starting at object `name`.
fn emitted(name: &str, v: &Value, out: &mut BTreeMap<String, BTreeSet<String>>) {
    let Value::Object(map) = v else {
        panic!("a {name} is not an object: {v}");
    };
    let fields = out.entry(name.to_string()).or_default();
    fields.extend(map.keys().cloned());
    for (field, value) in map {
        let Some(child) = child_object(field) else {
            assert!(
                !value.is_object()
                    && !value
                        .as_array()
                        .is_some_and(|a| a.iter().any(Value::is_object)),
                "{name}.{field} holds objects but names no documented object"
            );
            continue;
        };
        match value {
            Value::Array(items) => items.iter().for_each(|i| emitted(child, i, out)),
            Value::Null => {}
            one => emitted(child, one, out),
        }
    }
}

/// The fields the page documents: the first column (`` `name` ``) of the
/// table under each `` ## `object` `` heading.
fn documented(markdown: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut object: Option<String> = None;
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            object = heading
                .strip_prefix('`')
                .and_then(|h| h.split('`').next())
                .map(str::to_string);
            continue;
        }
        let (Some(object), Some(row)) = (&object, line.strip_prefix("| `")) else {
            continue;
        };
        let field = row.split('`').next().unwrap_or_default();
        out.entry(object.clone())
            .or_default()
            .insert(field.to_string());
    }
    out
}

#[test]
fn every_field_of_every_example_trace_is_documented_and_nothing_else() {
    let page = std::fs::read_to_string(root().join("docs/trace-json.md")).unwrap();
    let documented = documented(&page);
    let mut emitted_fields = BTreeMap::new();
    let files = scenarios();
    assert!(files.len() >= 19, "{files:?}");
    for scenario in &files {
        emitted("document", &trace_json(scenario), &mut emitted_fields);
    }
    // Each object was seen, with ICE detail and routes among them.
    let objects: Vec<&str> = emitted_fields.keys().map(String::as_str).collect();
    assert_eq!(objects, ["document", "hop", "ice", "leg", "probe", "route"]);
    for (object, fields) in &emitted_fields {
        let listed = documented.get(object).cloned().unwrap_or_default();
        let missing: Vec<&String> = fields.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "docs/trace-json.md does not document {object} fields {missing:?}"
        );
        let stale: Vec<&String> = listed.difference(fields).collect();
        assert!(
            stale.is_empty(),
            "docs/trace-json.md documents {object} fields the trace never emits: {stale:?}"
        );
    }
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        emitted_fields.keys().collect::<Vec<_>>(),
        "objects documented"
    );
}

#[test]
fn the_example_in_the_page_is_a_trace_document_with_documented_fields() {
    let page = std::fs::read_to_string(root().join("docs/trace-json.md")).unwrap();
    let block = page
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```json block");
    let example: Value = serde_json::from_str(block).expect("the example is JSON");
    let mut fields = BTreeMap::new();
    emitted("document", &example, &mut fields);
    let documented = documented(&page);
    for (object, fields) in &fields {
        assert_eq!(Some(fields), documented.get(object), "{object}");
    }
    // It is the probe the page says it is, traced for real.
    let real = trace_json(&root().join("scenarios/multi-site.toml"));
    let probe = real["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hq-media")
        .expect("the hq-media probe");
    assert_eq!(example["probes"][0]["name"], probe["name"]);
    assert_eq!(
        example["probes"][0]["legs"][0]["verdict"],
        probe["legs"][0]["verdict"]
    );
    assert_eq!(
        example["probes"][0]["legs"][0]["segments"],
        probe["legs"][0]["segments"]
    );
}

#[test]
fn the_documented_tables_are_read_by_object() {
    let page =
        "## `a`\n\n| field | type |\n|---|---|\n| `x` | string |\n\n## Example\n\n| `y` | no |\n";
    let d = documented(page);
    assert_eq!(d.len(), 1);
    assert_eq!(d["a"], BTreeSet::from(["x".to_string()]));
}

/// Lesson A with stateless firewalls that let the reply in: nothing drops
/// the media any more, but it still leaves over the circuit and comes back
/// over the Internet. A call's leg must say so (`asymmetric`, and the
/// return hops and segments), not only a flow probe's.
#[test]
fn a_call_whose_media_comes_back_another_way_is_asymmetric() {
    let lesson = root().join("topologies/teaching/asymmetric-a.toml");
    let mut topology = std::fs::read_to_string(&lesson).unwrap();
    for fw in ["inet-fw", "er-fw"] {
        let rule = format!(
            "name = \"{fw}\"\nsite = \"office\"\nrule = [{{ action = \"allow\", src = \"198.51.100.0/28\", note = \"the office's NAT pool goes out\" }}]"
        );
        assert!(topology.contains(&rule), "{fw} as the lesson writes it");
        topology = topology.replace(
            &rule,
            &format!(
                "name = \"{fw}\"\nsite = \"office\"\nstateful = false\nrule = [{{ action = \"allow\", src = \"198.51.100.0/28\" }}, {{ action = \"allow\", dst = \"198.51.100.0/28\" }}]"
            ),
        );
    }
    topology = topology.replace(
        "  { kind = \"registrar\", address = \"52.112.2.10\" },",
        "  { kind = \"registrar\", address = \"52.112.2.10\" },\n  { kind = \"conferencing\", address = \"52.112.3.10\" },",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("topology.toml"), topology).unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        "name = \"asymmetric-call\"\ntopology = \"topology.toml\"\n\n\
         [[group]]\nname = \"staff\"\nat = \"office\"\ncount = 100\n\n\
         [[probe]]\nname = \"meeting\"\nkind = \"conference\"\norganizer = \"staff\"\nparticipants = [\"staff\"]\n",
    )
    .unwrap();
    let doc = trace_json(&scenario);
    let leg = &doc["probes"][0]["legs"][0];
    assert_eq!(leg["participant"], "staff");
    assert_eq!(leg["media"], "ExpressRoute");
    assert_eq!(leg["verdict"], "ok");
    assert_eq!(leg["asymmetric"], true);
    let words = |field: &str| -> Vec<String> {
        leg[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(words("segments"), ["customer", "expressroute", "microsoft"]);
    assert_eq!(
        words("return_segments"),
        ["microsoft", "internet", "customer"]
    );
    let back: Vec<&str> = leg["return_hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["node"].as_str().unwrap())
        .collect();
    assert_eq!(back.first(), Some(&"us-east-online-edge"));
    assert!(
        back.contains(&"inet-fw") && !back.contains(&"er-fw"),
        "{back:?}"
    );
    assert_eq!(back.last(), Some(&"office"));
}

/// The online example's relayed and NATed calls come back the way they went.
#[test]
fn a_call_whose_media_comes_back_the_same_way_is_not_asymmetric() {
    let doc = trace_json(&root().join("scenarios/online.toml"));
    let legs: Vec<&Value> = doc["probes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["legs"].as_array().unwrap())
        .filter(|l| l["media_path"] != "none" && l["media_path"] != "direct")
        .collect();
    assert!(!legs.is_empty());
    for leg in legs {
        assert_eq!(leg["asymmetric"], false, "{leg}");
        assert!(!leg["return_hops"].as_array().unwrap().is_empty(), "{leg}");
    }
}
