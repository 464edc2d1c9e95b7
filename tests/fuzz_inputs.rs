//! Never a panic: whatever bytes a user hands `callflow`, loading returns a
//! model or a list of problems, and every problem points inside its file.
//!
//! Three generators feed the library (`topology_from_source`,
//! `study_from_sources`, and the file loaders for bytes that are not UTF-8):
//! random bytes; random TOML-shaped documents built from the formats' own
//! keys and typical values; and random mutations of every committed
//! example (delete, duplicate or swap lines, retype a value, truncate,
//! insert keys, extreme numbers, empty strings). A mutated topology is
//! checked with its example scenario, and a mutated scenario with its
//! topology, so scenario validation and variant building run too.
//!
//! The runs are deterministic (a fixed seed, unless `PROPTEST_RNG_SEED` is
//! set) and sized to finish in well under 30 s; set `PROPTEST_CASES` for a
//! deeper search.
//!
//! Two crashes this search once stepped around (a huge `duration`, and a
//! failure whose `at` + `for` overflowed) are fixed; their regression
//! tests are in tests/validation.rs, and nothing is skipped any more.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use callflow::diag::{Diagnostic, Diagnostics, SourceFile};
use callflow::validate::{LoadError, load_study, load_topology, study_from_sources};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// ----- the examples ----------------------------------------------------------------

/// A committed file.
#[derive(Debug, Clone)]
struct Source {
    path: String,
    text: String,
}

/// What a mutation is applied to: a topology (checked with the scenario
/// that names it, if any) or a scenario (checked with its topology).
#[derive(Debug, Clone)]
struct Target {
    mutate: Source,
    /// The unmutated partner: the scenario for a topology, the topology
    /// for a scenario.
    partner: Option<Source>,
    mutate_is_topology: bool,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Source {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let path = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    Source { path, text }
}

/// The topology a scenario names with its `topology` key, relative to it.
fn topology_of(scenario: &Path) -> Option<PathBuf> {
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(scenario).ok()?).ok()?;
    let rel = doc.get("topology")?.as_str()?;
    let path = scenario.parent()?.join(rel);
    path.canonicalize().ok()
}

/// Every committed example as a mutation target: each scenario (with its
/// topology) and each topology (with the first scenario naming it).
fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let root = root();
        let mut topologies = toml_files(&root.join("topologies"));
        topologies.extend(toml_files(&root.join("topologies/teaching")));
        let scenarios = toml_files(&root.join("scenarios"));
        let pairs: Vec<(PathBuf, PathBuf)> = scenarios
            .iter()
            .filter_map(|s| Some((topology_of(s)?, s.clone())))
            .collect();
        let mut out = Vec::new();
        for (t, s) in &pairs {
            out.push(Target {
                mutate: read(s),
                partner: Some(read(t)),
                mutate_is_topology: false,
            });
        }
        for t in &topologies {
            let canonical = t.canonicalize().expect("a committed file");
            let scenario = pairs.iter().find(|(pt, _)| *pt == canonical);
            out.push(Target {
                mutate: read(t),
                partner: scenario.map(|(_, s)| read(s)),
                mutate_is_topology: true,
            });
        }
        assert!(
            out.len() >= 14,
            "expected every example; found {} targets",
            out.len()
        );
        out
    })
}

/// A valid topology to pair with random scenarios.
fn online_topology() -> &'static Source {
    static ONLINE: OnceLock<Source> = OnceLock::new();
    ONLINE.get_or_init(|| read(&root().join("topologies/online.toml")))
}

// ----- the property ------------------------------------------------------------------

/// Checks one input: loading must return (no panic, which proptest
/// catches), and a failure must list at least one problem, each inside the
/// file it names.
fn check(topology: &Source, scenario: Option<&Source>) -> Result<(), TestCaseError> {
    let t = SourceFile::new(topology.path.clone(), topology.text.clone());
    let result = match scenario {
        None => callflow::validate::topology_from_source(&t).map(|_| ()),
        Some(s) => {
            study_from_sources(t, SourceFile::new(s.path.clone(), s.text.clone())).map(|_| ())
        }
    };
    if let Err(problems) = result {
        let files: Vec<&Source> = std::iter::once(topology).chain(scenario).collect();
        check_problems(&problems, &files)?;
    }
    Ok(())
}

fn check_problems(problems: &Diagnostics, files: &[&Source]) -> Result<(), TestCaseError> {
    prop_assert!(!problems.is_empty(), "failed without naming a problem");
    for d in problems.iter() {
        check_position(d, files)?;
    }
    Ok(())
}

/// The problem names one of the files, and its line and column (if any)
/// exist in that file; a position just past a final newline counts.
fn check_position(d: &Diagnostic, files: &[&Source]) -> Result<(), TestCaseError> {
    let file = files.iter().find(|f| f.path == d.location.file);
    prop_assert!(file.is_some(), "a problem in an unknown file: {d}");
    let Some(p) = d.location.position else {
        return Ok(());
    };
    let lines: Vec<&str> = file.unwrap().text.split('\n').collect();
    prop_assert!(
        p.line >= 1 && p.line <= lines.len(),
        "line {} of {}: {d}",
        p.line,
        lines.len()
    );
    let width = lines[p.line - 1].chars().count();
    prop_assert!(
        p.column >= 1 && p.column <= width + 1,
        "column {} of {}: {d}",
        p.column,
        width
    );
    Ok(())
}

fn config(cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x00ca_11f1_0e5e_ed00);
    }
    // Failures are kept as named tests, not regression files.
    c.failure_persistence = None;
    c
}

// ----- mutations -----------------------------------------------------------------------

/// Values of every kind, including ones no field accepts.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "7",
    "1.5",
    "-0.0",
    "nan",
    "inf",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "\"\"",
    "\"x\"",
    "\"internet\"",
    "\"0Mbps\"",
    "\"-5ms\"",
    "\"150%\"",
    "\"10.0.0.0/8\"",
    "\"0.0.0.0/0\"",
    "\"::/0\"",
    "\"12076:5030\"",
    "\"99999999999999999999999h\"",
    "\"4294967296h\"",
    "\"18446744073709549568us\"",
    "[]",
    "[1, \"a\"]",
    "[\"office\", \"office\", \"office\"]",
    "{}",
    "{ name = \"x\" }",
    "[{ name = \"x\" }]",
    "1979-05-27T07:32:00Z",
];

/// Keys the formats have (in any section) and a few they do not.
const KEYS: &[&str] = &[
    "name",
    "kind",
    "at",
    "ends",
    "capacity",
    "latency",
    "loss",
    "outside",
    "pool",
    "subnets",
    "prefixes",
    "address",
    "route_filter",
    "advertise",
    "sku",
    "bandwidth",
    "customer_edge",
    "microsoft_edge",
    "peering_location",
    "home_region",
    "tenant",
    "region",
    "link",
    "circuit",
    "count",
    "persona",
    "homed",
    "duration",
    "bin",
    "seed",
    "replications",
    "failure",
    "group",
    "probe",
    "variant",
    "set",
    "remove",
    "add",
    "scenario",
    "meeting_size",
    "participants",
    "hourly",
    "via",
    "for",
    "nonsense",
    "\"quoted key\"",
    "a.b.c",
];

/// Replacements for a run of digits: edges of every integer type and
/// beyond.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "-999999",
    "65536",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999999",
    "1e308",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replace a value by one of another type.
    Retype(usize, usize),
    /// Cut the file at a byte offset.
    Truncate(usize),
    /// Insert `key = value` before a line.
    InsertKey(usize, usize, usize),
    /// Replace a run of digits (in a number, a quantity, an address) by an extreme.
    Extreme(usize, usize),
    /// Replace a string value by `""`.
    EmptyString(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = any::<usize>;
    prop_oneof![
        n().prop_map(Mutation::DeleteLine),
        n().prop_map(Mutation::DuplicateLine),
        (n(), n()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (n(), n()).prop_map(|(a, b)| Mutation::Retype(a, b)),
        n().prop_map(Mutation::Truncate),
        (n(), 0..KEYS.len(), 0..VALUES.len()).prop_map(|(a, k, v)| Mutation::InsertKey(a, k, v)),
        (n(), 0..EXTREMES.len()).prop_map(|(a, b)| Mutation::Extreme(a, b)),
        n().prop_map(Mutation::EmptyString),
    ]
}

/// What a value in a TOML text is, by its first character.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ValueKind {
    String,
    Number,
    Array,
    Other,
}

/// The values in a TOML text: strings, numbers, booleans and one-line
/// arrays that follow `=`, `[` or `,` and are not themselves keys.
/// Approximate by design: it only has to find most values, not parse TOML.
fn values(text: &str) -> Vec<(Range<usize>, ValueKind)> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || b"-+._:".contains(&c);
    let mut out = Vec::new();
    let mut i = 0;
    let mut last = b'\n';
    while i < b.len() {
        let c = b[i];
        // Comments and table headers hold no values.
        if c == b'#' || (c == b'[' && last == b'\n') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if matches!(c, b' ' | b'\t' | b'\r') {
            i += 1;
            continue;
        }
        let (end, kind) = match c {
            b'"' | b'\'' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != c && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                ((j + 1).min(b.len()), Some(ValueKind::String))
            }
            b'[' => match b[i..].iter().position(|&x| x == b']' || x == b'\n') {
                Some(k) if b[i + k] == b']' => (i + k + 1, Some(ValueKind::Array)),
                _ => (i + 1, None),
            },
            b'0'..=b'9' | b'-' | b'+' => {
                let n = b[i..].iter().take_while(|&&x| word(x)).count();
                (i + n, Some(ValueKind::Number))
            }
            _ if c.is_ascii_alphabetic() => {
                let n = b[i..].iter().take_while(|&&x| word(x)).count();
                (i + n, Some(ValueKind::Other))
            }
            // Punctuation, or any byte of a non-ASCII character.
            _ => (i + 1, None),
        };
        let rest = &b[end..];
        let spaces = rest
            .iter()
            .take_while(|&&x| x == b' ' || x == b'\t')
            .count();
        let is_key = rest.get(spaces) == Some(&b'=');
        if let Some(kind) = kind
            && matches!(last, b'=' | b'[' | b',')
            && !is_key
        {
            out.push((i..end, kind));
        }
        // An array's values are found inside it too.
        let step = if c == b'[' { i + 1 } else { end };
        last = b[step - 1];
        i = step;
    }
    out
}

fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn apply(text: &str, m: &Mutation) -> String {
    let ls = lines(text);
    let pick = |n: usize, len: usize| if len == 0 { 0 } else { n % len };
    match *m {
        Mutation::DeleteLine(n) => {
            let i = pick(n, ls.len());
            ls.iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, l)| *l)
                .collect()
        }
        Mutation::DuplicateLine(n) => {
            let i = pick(n, ls.len());
            let mut out: Vec<&str> = ls.clone();
            if let Some(l) = ls.get(i) {
                out.insert(i, l);
            }
            out.concat()
        }
        Mutation::SwapLines(a, b) => {
            let mut out = ls.clone();
            if !out.is_empty() {
                let (i, j) = (pick(a, out.len()), pick(b, out.len()));
                out.swap(i, j);
            }
            // A last line without a newline must not run into the next.
            out.iter()
                .map(|l| l.trim_end_matches('\n').to_string() + "\n")
                .collect()
        }
        Mutation::Retype(n, k) => {
            let vs = values(text);
            let Some((span, kind)) = vs.get(pick(n, vs.len())).cloned() else {
                return text.to_string();
            };
            let choices: &[&str] = match kind {
                ValueKind::String => &["42", "[\"a\", 1]"],
                ValueKind::Number => &["\"42\"", "[42]"],
                ValueKind::Array => &["\"a\"", "7"],
                ValueKind::Other => &["\"yes\"", "[]"],
            };
            splice(text, span, choices[k % choices.len()])
        }
        Mutation::Truncate(n) => {
            let mut at = pick(n, text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_string()
        }
        Mutation::InsertKey(n, key, value) => {
            let i = pick(n, ls.len() + 1);
            let line = format!("{} = {}\n", KEYS[key], VALUES[value]);
            let mut out: Vec<&str> = ls.clone();
            out.insert(i.min(out.len()), &line);
            out.concat()
        }
        Mutation::Extreme(n, k) => {
            let runs: Vec<Range<usize>> = digit_runs(text);
            match runs.get(pick(n, runs.len())) {
                Some(r) => splice(text, r.clone(), EXTREMES[k]),
                None => text.to_string(),
            }
        }
        Mutation::EmptyString(n) => {
            let strings: Vec<Range<usize>> = values(text)
                .into_iter()
                .filter(|(_, k)| *k == ValueKind::String)
                .map(|(r, _)| r)
                .collect();
            match strings.get(pick(n, strings.len())) {
                Some(r) => splice(text, r.clone(), "\"\""),
                None => text.to_string(),
            }
        }
    }
}

/// Runs of ASCII digits outside comments.
fn digit_runs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in lines(text) {
        let code = line.split('#').next().unwrap_or("");
        let b = code.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(offset + start..offset + i);
            } else {
                i += 1;
            }
        }
        offset += line.len();
    }
    out
}

fn splice(text: &str, span: Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &text[..span.start], &text[span.end..])
}

fn mutated(target: &Target, mutations: &[Mutation]) -> Source {
    let mut text = target.mutate.text.clone();
    for m in mutations {
        text = apply(&text, m);
    }
    Source {
        path: target.mutate.path.clone(),
        text,
    }
}

fn check_target(target: &Target, mutations: &[Mutation]) -> Result<(), TestCaseError> {
    let changed = mutated(target, mutations);
    let (topology, scenario) = if target.mutate_is_topology {
        (&changed, target.partner.as_ref())
    } else {
        (
            target.partner.as_ref().expect("a scenario has a topology"),
            Some(&changed),
        )
    };
    check(topology, scenario)
}

// ----- random documents -----------------------------------------------------------------

const HEADERS: &[&str] = &[
    "[tenant]",
    "[internet]",
    "[[region]]",
    "[[region.service]]",
    "[[site]]",
    "[[router]]",
    "[[nat]]",
    "[[firewall]]",
    "[[proxy]]",
    "[[pac]]",
    "[[edge]]",
    "[[server]]",
    "[[remote]]",
    "[[organization]]",
    "[[link]]",
    "[[circuit]]",
    "[[address_set]]",
    "[profile]",
    "[[group]]",
    "[[persona]]",
    "[[probe]]",
    "[[failure]]",
    "[[variant]]",
    "[sweep]",
];

/// A TOML-shaped document: sections from the formats' vocabulary, each a
/// header and `key = value` lines (distinct keys, and each `[table]` once,
/// so most documents parse and reach validation).
fn document() -> impl Strategy<Value = String> {
    let pairs = || prop::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..8);
    (
        pairs(),
        prop::collection::vec((0..HEADERS.len(), pairs()), 0..12),
    )
        .prop_map(|(top, sections)| {
            let mut out = String::new();
            let mut tables = std::collections::BTreeSet::new();
            let body = |out: &mut String, pairs: &[(usize, usize)]| {
                let mut keys = std::collections::BTreeSet::new();
                for &(k, v) in pairs {
                    if keys.insert(k) {
                        out.push_str(&format!("{} = {}\n", KEYS[k], VALUES[v]));
                    }
                }
            };
            body(&mut out, &top);
            for (h, pairs) in sections {
                let header = HEADERS[h];
                if !header.starts_with("[[") && !tables.insert(h) {
                    continue;
                }
                out.push_str(header);
                out.push('\n');
                body(&mut out, &pairs);
            }
            out
        })
}

// ----- the tests --------------------------------------------------------------------------

/// Writes `bytes` to a file and loads it through the file API, which
/// also checks the text is UTF-8.
fn load_bytes(bytes: &[u8], as_topology: bool) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.toml");
    std::fs::write(&path, bytes).expect("writable");
    let online = root().join("topologies/online.toml");
    let result = if as_topology {
        load_topology(&path).map(|_| ())
    } else {
        load_study(&online, &path).map(|_| ())
    };
    match result {
        Ok(()) => Ok(()),
        Err(LoadError::Read { path, source }) => Err(TestCaseError::fail(format!(
            "could not read {path}: {source}"
        ))),
        Err(LoadError::Invalid(invalid)) => {
            prop_assert!(!invalid.0.is_empty(), "invalid without a problem");
            // The file API names files by the paths given to it.
            let input = Source {
                path: path.display().to_string(),
                text: String::from_utf8_lossy(bytes).into_owned(),
            };
            let topology = Source {
                path: online.display().to_string(),
                text: online_topology().text.clone(),
            };
            for d in &invalid.0 {
                check_position(d, &[&input, &topology])?;
            }
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (a) Random bytes, UTF-8 or not, as a topology and as a scenario.
    #[test]
    fn random_bytes_are_rejected_cleanly(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        as_topology in any::<bool>(),
    ) {
        load_bytes(&bytes, as_topology)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let input = Source { path: "random.toml".into(), text };
        check(&input, None)?;
        check(online_topology(), Some(&input))?;
    }

    /// Random documents in the formats' own vocabulary get past the parser
    /// and into validation.
    #[test]
    fn random_documents_are_rejected_cleanly(topology in document(), scenario in document()) {
        let t = Source { path: "t.toml".into(), text: topology };
        let s = Source { path: "s.toml".into(), text: scenario };
        check(&t, None)?;
        check(&t, Some(&s))?;
        check(online_topology(), Some(&s))?;
    }
}

proptest! {
    #![proptest_config(config(1024))]

    /// (b) One to three random mutations of a committed example, checked
    /// with the example it pairs with.
    #[test]
    fn mutated_examples_are_accepted_or_rejected_cleanly(
        target in 0..targets().len(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        check_target(&targets()[target], &mutations)?;
    }
}

/// Every example, and every kind of mutation at a few places in it, is
/// checked at least once whatever the random search picks.
#[test]
fn every_example_takes_every_kind_of_mutation() {
    for target in targets() {
        check_target(target, &[]).unwrap_or_else(|e| panic!("{}: {e}", target.mutate.path));
        for n in [0, 1, 7, 23, 101] {
            let all = [
                Mutation::DeleteLine(n),
                Mutation::DuplicateLine(n),
                Mutation::SwapLines(n, n * 3 + 1),
                Mutation::Retype(n, n),
                Mutation::Retype(n, n + 1),
                Mutation::Truncate(n * 37),
                Mutation::InsertKey(n, n % KEYS.len(), n % VALUES.len()),
                Mutation::Extreme(n, n % EXTREMES.len()),
                Mutation::EmptyString(n),
            ];
            for m in all {
                if let Err(e) = check_target(target, std::slice::from_ref(&m))
                    && !matches!(e, TestCaseError::Reject(_))
                {
                    panic!("{} with {m:?}: {e}", target.mutate.path);
                }
            }
        }
    }
}

// ----- the mutation helpers themselves ----------------------------------------------------

#[test]
fn values_are_found_and_keys_are_not() {
    let text = "a = \"x\" # \"comment\"\n[[t]]\nb = [1, \"y\"]\nc = { \"4\" = 0.5, d = true }\n";
    let found: Vec<(&str, ValueKind)> = values(text)
        .into_iter()
        .map(|(r, k)| (&text[r], k))
        .collect();
    assert_eq!(
        found,
        vec![
            ("\"x\"", ValueKind::String),
            ("[1, \"y\"]", ValueKind::Array),
            ("1", ValueKind::Number),
            ("\"y\"", ValueKind::String),
            ("0.5", ValueKind::Number),
            ("true", ValueKind::Other),
        ]
    );
}

#[test]
fn mutations_change_what_they_say() {
    let text = "a = \"x\"\nb = 12\n";
    assert_eq!(apply(text, &Mutation::DeleteLine(1)), "a = \"x\"\n");
    assert_eq!(
        apply(text, &Mutation::DuplicateLine(1)),
        "a = \"x\"\nb = 12\nb = 12\n"
    );
    assert_eq!(
        apply(text, &Mutation::SwapLines(0, 1)),
        "b = 12\na = \"x\"\n"
    );
    assert_eq!(apply(text, &Mutation::Retype(0, 0)), "a = 42\nb = 12\n");
    assert_eq!(
        apply(text, &Mutation::Retype(1, 1)),
        "a = \"x\"\nb = [42]\n"
    );
    assert_eq!(apply(text, &Mutation::Truncate(5)), "a = \"");
    assert_eq!(
        apply(text, &Mutation::InsertKey(1, 0, 1)),
        "a = \"x\"\nname = -1\nb = 12\n"
    );
    assert_eq!(
        apply(text, &Mutation::Extreme(0, 5)),
        "a = \"x\"\nb = 9223372036854775807\n"
    );
    assert_eq!(apply(text, &Mutation::EmptyString(0)), "a = \"\"\nb = 12\n");
    // Truncation never splits a character.
    assert_eq!(apply("é", &Mutation::Truncate(1)), "");
}
