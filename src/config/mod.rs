//! Raw configuration: the TOML files exactly as written.
//!
//! Owns reading topology and scenario files into plain serde structs
//! ([`topology::RawTopology`], [`scenario::RawScenario`]) that keep the byte
//! span of every name, reference and quantity, and applying a scenario's
//! variants (what-if patches) to the parsed documents.
//!
//! Reading never stops at the first problem: syntax errors are recovered,
//! each top-level section and each element of an array of tables is
//! deserialized on its own, and unknown keys are collected rather than
//! rejected, so one run reports every problem it can see.
//!
//! Leaves out meaning: quantities stay strings and references stay names
//! until [`crate::validate`] turns the raw structs into the model.

mod keys;
pub mod patch;
pub mod scenario;
pub mod topology;

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostics, SourceFile, did_you_mean};

/// A parsed document: the root table with spans into its file.
pub type Tree<'a> = Spanned<DeTable<'a>>;

/// Parses a file's text, reporting every syntax error it can recover from.
pub fn parse(file: &SourceFile) -> Result<Tree<'_>, Diagnostics> {
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    if errors.is_empty() {
        return Ok(root);
    }
    let mut diags = Diagnostics::new();
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        diags.error(file, &span, None, format!("invalid TOML: {}", e.message()));
    }
    Err(diags)
}

/// Reads one section or element into `T`, recording unknown keys and type
/// errors against `element`. Returns `None` when the value could not be
/// read at all.
pub(crate) fn read<T: DeserializeOwned>(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    element: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut unknown = Vec::new();
    let deserializer = ValueDeserializer::from(value.clone());
    let result: Result<T, _> = serde_ignored::deserialize(deserializer, |path| {
        unknown.push(path_segments(&path));
    });
    for path in unknown {
        let Some((key, table)) = path.split_last() else {
            continue;
        };
        let span = locate(value, &path);
        let d = diags.error(
            file,
            &span,
            element.map(str::to_string),
            format!("unknown key `{key}`"),
        );
        if let Some(near) = did_you_mean(key, keys::known_keys::<T>(table)) {
            d.help = Some(format!("did you mean `{near}`?"));
        }
    }
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or_else(|| value.span());
            diags.error(
                file,
                &span,
                element.map(str::to_string),
                e.message().to_string(),
            );
            None
        }
    }
}

/// Reads an array of tables (`[[link]]`), each element on its own, so a
/// broken element does not hide problems in the others. Elements that could
/// not be read are skipped; their names (when readable) are returned so
/// later checks do not report them as missing.
pub(crate) fn read_array<T: DeserializeOwned>(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    kind: &str,
    diags: &mut Diagnostics,
    broken_names: &mut Vec<String>,
) -> Vec<T> {
    let Some(items) = value.get_ref().as_array() else {
        diags.error(
            file,
            &value.span(),
            None,
            format!("`{kind}` must be an array of tables (write `[[{kind}]]`)"),
        );
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let name = item
            .get_ref()
            .get("name")
            .and_then(|n| n.get_ref().as_str())
            .map(str::to_string);
        let label = name
            .as_deref()
            .map(|n| crate::diag::element(kind, n))
            .unwrap_or_else(|| format!("a {kind}"));
        match read::<T>(file, item, Some(&label), diags) {
            Some(v) => out.push(v),
            None => broken_names.extend(name),
        }
    }
    out
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn path_segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    let mut out = Vec::new();
    let mut p = path;
    loop {
        match p {
            Path::Root => break,
            Path::Seq { parent, index } => {
                out.push(index.to_string());
                p = parent;
            }
            // A span wrapper is no table of the file.
            Path::Map { parent, key } if key == keys::SPANNED_VALUE => p = parent,
            Path::Map { parent, key } => {
                out.push(key.clone());
                p = parent;
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => p = parent,
        }
    }
    out.reverse();
    out
}

/// The span of the key at `path` inside `value`. Falls back to the deepest
/// span reached.
fn locate(value: &Spanned<DeValue<'_>>, path: &[String]) -> Range<usize> {
    let mut current = value;
    let mut span = value.span();
    for step in path {
        let segment = match step.parse::<usize>() {
            Ok(i) if current.get_ref().is_array() => Segment::Index(i),
            _ => Segment::Key(step.clone()),
        };
        match (segment, current.get_ref()) {
            (Segment::Key(k), DeValue::Table(t)) => {
                let Some((key, v)) = t.get_key_value(k.as_str()) else {
                    break;
                };
                span = key.span();
                current = v;
            }
            (Segment::Index(i), DeValue::Array(a)) => {
                let Some(v) = a.get(i) else { break };
                span = v.span();
                current = v;
            }
            _ => break,
        }
    }
    span
}

/// Reports a top-level key the file format does not have.
pub(crate) fn unknown_section(
    file: &SourceFile,
    key: &Spanned<toml::de::DeString<'_>>,
    known: &[&str],
    diags: &mut Diagnostics,
) {
    let name = key.get_ref().as_ref();
    let d = diags.error(file, &key.span(), None, format!("unknown key `{name}`"));
    if let Some(near) = did_you_mean(name, known.iter().copied()) {
        d.help = Some(format!("did you mean `{near}`?"));
    }
}
