//! Keeps `docs/topology.md` and `docs/scenario.md` true to the code.
//!
//! - Every ```` ```toml ```` block is read by the real readers. A block that
//!   starts with `# complete` must validate: in the topology reference as a
//!   whole topology; in the scenario reference as a scenario together with
//!   the topology its `topology` key names, resolved relative to the
//!   repository root. Every other block must read with no problem at all, so
//!   a key the code does not know ("unknown key"), a missing required key or
//!   a value of the wrong type fails the test.
//! - Every key named in a reference table (`| key | type | default | … |`)
//!   must be used in some block, so the tables document only keys the
//!   readers accept.
//! - Every field of every raw struct, and every top-level section, must be
//!   named in its reference, so a new key cannot go undocumented.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use callflow::config::parse;
use callflow::config::scenario::{self as sc, RawScenario, SCENARIO_KEYS};
use callflow::config::topology::{self as tp, RawTopology, TOPOLOGY_KEYS};
use callflow::diag::{Diagnostics, SourceFile};
use callflow::validate::{read_source, study_from_sources, topology_from_source};
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc(name: &str) -> String {
    let path = root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fenced TOML block: the line its text starts on and the text.
struct Block {
    line: usize,
    text: String,
}

impl Block {
    fn complete(&self) -> bool {
        self.text.lines().next().map(str::trim) == Some("# complete")
    }

    fn source(&self, doc: &str) -> SourceFile {
        SourceFile::new(
            format!("docs/{doc} (block at line {})", self.line),
            self.text.clone(),
        )
    }
}

fn toml_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim() == "```toml" => {
                current = Some(Block {
                    line: i + 2,
                    text: String::new(),
                })
            }
            None => {}
            Some(_) if line.trim() == "```" => blocks.extend(current.take()),
            Some(b) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ```toml block");
    blocks
}

fn render(diags: &Diagnostics) -> String {
    diags
        .iter()
        .map(|d| format!("\n  {d}"))
        .collect::<Vec<_>>()
        .concat()
}

/// Reads a fragment with the raw reader of `doc`, returning every problem.
fn read_fragment(doc: &str, block: &Block) -> Diagnostics {
    let file = block.source(doc);
    let tree = match parse(&file) {
        Ok(t) => t,
        Err(d) => return d,
    };
    let mut diags = Diagnostics::new();
    if doc == "topology.md" {
        RawTopology::read(&file, &tree, &mut diags);
    } else {
        RawScenario::read(&file, &tree, &mut diags);
    }
    diags
}

fn check_blocks(doc_name: &str) -> (usize, usize) {
    let text = doc(doc_name);
    let blocks = toml_blocks(&text);
    assert!(
        blocks.len() >= 10,
        "{doc_name} has only {} blocks",
        blocks.len()
    );
    let mut complete = 0;
    let mut failures = Vec::new();
    for block in &blocks {
        let problems = if block.complete() {
            complete += 1;
            validate_complete(doc_name, block)
        } else {
            let d = read_fragment(doc_name, block);
            (!d.is_empty()).then(|| render(&d))
        };
        if let Some(p) = problems {
            failures.push(format!("docs/{doc_name}, block at line {}:{p}", block.line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (blocks.len(), complete)
}

fn validate_complete(doc_name: &str, block: &Block) -> Option<String> {
    let file = block.source(doc_name);
    if doc_name == "topology.md" {
        return topology_from_source(&file).err().map(|d| render(&d));
    }
    let doc: toml::Table = toml::from_str(&block.text).expect("a complete block is TOML");
    let Some(topology) = doc.get("topology").and_then(toml::Value::as_str) else {
        return Some(" a complete scenario needs a `topology` key".into());
    };
    let topology = match read_source(&root().join(topology)) {
        Ok(t) => t,
        Err(e) => return Some(format!(" {e}")),
    };
    study_from_sources(topology, file).err().map(|d| render(&d))
}

#[test]
fn topology_reference_blocks_read_and_complete_ones_validate() {
    let (blocks, complete) = check_blocks("topology.md");
    assert!(
        complete >= 2,
        "only {complete} complete topologies of {blocks}"
    );
}

#[test]
fn scenario_reference_blocks_read_and_complete_ones_validate() {
    let (blocks, complete) = check_blocks("scenario.md");
    assert!(
        complete >= 2,
        "only {complete} complete scenarios of {blocks}"
    );
}

#[test]
fn a_fragment_with_an_unknown_key_is_caught() {
    // The check the reference relies on must itself fail on a bad key,
    // nested or not.
    for (doc, text) in [
        (
            "topology.md",
            "[[site]]\nname = \"a\"\nsubnets = []\nsubnet = \"x\"\n",
        ),
        (
            "topology.md",
            "[[remote]]\nname = \"h\"\nkind = \"home\"\nsubnet = \"192.168.1.0/24\"\npublic = \"192.0.2.1\"\nnat = { preset = \"full-cone\", timeout = \"1m\" }\n",
        ),
        (
            "scenario.md",
            "[[group]]\nname = \"g\"\nat = \"x\"\ncount = 1\nhome = \"online\"\n",
        ),
    ] {
        let block = Block {
            line: 1,
            text: text.to_string(),
        };
        let d = read_fragment(doc, &block);
        assert!(
            d.iter().any(|d| d.message.contains("unknown key")),
            "{doc}: {text:?} gave{}",
            render(&d)
        );
    }
}

/// Keys named in the first column of the reference tables whose header
/// starts with `| key |`.
fn documented_keys(markdown: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut in_key_table = false;
    for line in markdown.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            in_key_table = false;
            continue;
        }
        if line.starts_with("| key |") {
            in_key_table = true;
            continue;
        }
        if !in_key_table || line.starts_with("|---") {
            continue;
        }
        let first = line.split('|').nth(1).unwrap_or_default().trim();
        if let Some(key) = first.strip_prefix('`').and_then(|k| k.strip_suffix('`')) {
            keys.insert(key.to_string());
        }
    }
    keys
}

/// Every key used anywhere in the TOML blocks, at any depth.
fn used_keys(markdown: &str) -> BTreeSet<String> {
    fn walk(v: &toml::Value, out: &mut BTreeSet<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    out.insert(k.clone());
                    walk(v, out);
                }
            }
            toml::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for b in toml_blocks(markdown) {
        let t: toml::Table = toml::from_str(&b.text)
            .unwrap_or_else(|e| panic!("block at line {} is not TOML: {e}", b.line));
        walk(&toml::Value::Table(t), &mut out);
    }
    out
}

#[test]
fn every_key_in_a_reference_table_is_used_in_an_example() {
    for name in ["topology.md", "scenario.md"] {
        let text = doc(name);
        let documented = documented_keys(&text);
        assert!(documented.len() > 40, "{name}: {documented:?}");
        let used = used_keys(&text);
        let unused: Vec<&String> = documented.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "{name}: keys documented but in no example: {unused:?}"
        );
    }
}

#[test]
fn every_top_level_section_has_a_row() {
    for (name, keys) in [
        ("topology.md", TOPOLOGY_KEYS),
        ("scenario.md", SCENARIO_KEYS),
    ] {
        let documented = documented_keys(&doc(name));
        let missing: Vec<&&str> = keys.iter().filter(|k| !documented.contains(**k)).collect();
        assert!(missing.is_empty(), "{name}: no row for {missing:?}");
    }
}

/// A deserializer that only answers "which fields does this struct have?".
struct FieldNames;

#[derive(Debug)]
enum Probe {
    Fields(&'static [&'static str]),
    Other,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Probe {}

impl serde::de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Probe::Other
    }
}

impl<'de> serde::Deserializer<'de> for FieldNames {
    type Error = Probe;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::Other)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(FieldNames) {
        Err(Probe::Fields(f)) => f,
        _ => panic!("{} is not a struct", std::any::type_name::<T>()),
    }
}

/// Whether the markdown names `key` in backticks anywhere.
fn mentions(markdown: &str, key: &str) -> bool {
    markdown.contains(&format!("`{key}`"))
}

fn assert_fields_mentioned(doc_name: &str, structs: &[(&str, &'static [&'static str])]) {
    let text = doc(doc_name);
    let missing: Vec<String> = structs
        .iter()
        .flat_map(|(s, f)| f.iter().map(move |k| (s, k)))
        .filter(|(_, k)| !mentions(&text, k))
        .map(|(s, k)| format!("{s}.{k}"))
        .collect();
    assert!(missing.is_empty(), "{doc_name} never names {missing:?}");
}

#[test]
fn every_topology_field_is_documented() {
    assert_fields_mentioned(
        "topology.md",
        &[
            ("tenant", fields::<tp::RawTenant>()),
            ("internet", fields::<tp::RawInternet>()),
            ("address_set", fields::<tp::RawAddressSet>()),
            ("region", fields::<tp::RawRegion>()),
            ("service", fields::<tp::RawService>()),
            ("link properties", fields::<tp::RawLinkProperties>()),
            ("site", fields::<tp::RawSite>()),
            ("router", fields::<tp::RawRouter>()),
            ("route", fields::<tp::RawRoute>()),
            ("firewall", fields::<tp::RawFirewall>()),
            ("rule", fields::<tp::RawRule>()),
            ("nat behaviour", fields::<tp::RawNatBehaviour>()),
            ("nat", fields::<tp::RawNat>()),
            ("static mapping", fields::<tp::RawStaticMapping>()),
            ("proxy", fields::<tp::RawProxy>()),
            ("pac", fields::<tp::RawPac>()),
            ("pac rule", fields::<tp::RawPacRule>()),
            ("edge side", fields::<tp::RawInterface>()),
            ("edge", fields::<tp::RawEdge>()),
            ("server", fields::<tp::RawServer>()),
            ("remote", fields::<tp::RawRemote>()),
            ("inline firewall", fields::<tp::RawInlineFirewall>()),
            ("organization", fields::<tp::RawOrganization>()),
            ("partner circuit", fields::<tp::RawPartnerCircuit>()),
            ("link", fields::<tp::RawLink>()),
            ("bandwidth policy", fields::<tp::RawBandwidthPolicy>()),
            ("circuit", fields::<tp::RawCircuit>()),
        ],
    );
}

#[test]
fn every_scenario_field_is_documented() {
    assert_fields_mentioned(
        "scenario.md",
        &[
            ("profile", fields::<sc::RawProfile>()),
            ("dependencies", fields::<sc::RawDependencies>()),
            ("failure", fields::<sc::RawFailure>()),
            ("group", fields::<sc::RawGroup>()),
            ("persona", fields::<sc::RawPersona>()),
            ("rates", fields::<sc::RawRates>()),
            ("modalities", fields::<sc::RawModalities>()),
            ("holding", fields::<sc::RawHolding>()),
            ("distribution", fields::<sc::RawDistribution>()),
            ("participants", fields::<sc::RawParticipants>()),
            ("probe", fields::<sc::RawProbe>()),
            ("variant", fields::<sc::RawVariant>()),
            ("sweep", fields::<sc::RawSweep>()),
        ],
    );
}

#[test]
fn the_field_probe_sees_renamed_keys() {
    // `match` and `for` are Rust keywords renamed by serde: the probe must
    // report the names written in files.
    assert!(fields::<tp::RawPacRule>().contains(&"match"));
    assert!(fields::<sc::RawFailure>().contains(&"for"));
    assert!(fields::<tp::RawCircuit>().contains(&"route_filter"));
}

#[test]
fn block_extraction_finds_fences_and_marks() {
    let md = "text\n```toml\n# complete\na = 1\n```\n\n```toml\nb = 2\n```\n```rust\nc\n```\n";
    let blocks = toml_blocks(md);
    assert_eq!(blocks.len(), 2);
    assert!(blocks[0].complete());
    assert_eq!(blocks[0].line, 3);
    assert!(!blocks[1].complete());
    assert_eq!(blocks[1].text, "b = 2\n");
}
