//! Validation: raw configuration in, immutable model out, in one place.
//!
//! Owns every check on the input and the construction of the model: name
//! resolution, units, prefixes and their overlaps, link ends, circuit reach
//! and route filters, probabilities and mixes, and whether each user group
//! has a way out of its site. Problems are collected, never thrown: a load
//! either returns a model that is valid throughout or every problem found,
//! each with file, line, column and the element's name.
//!
//! Also applies a scenario's variants, building and checking one model per
//! variant, so `callflow validate` finds a broken variant before a run does.
//!
//! Leaves out behaviour: nothing here routes a packet or places a call.

mod scenario;
mod topology;

use std::path::Path;

use crate::config::patch;
use crate::config::scenario::{RawScenario, RawVariant};
use crate::config::topology::RawTopology;
use crate::config::{self, Tree};
use crate::diag::{Diagnostic, Diagnostics, InvalidInput, SourceFile, element};
use crate::model::{Scenario, Topology};

pub use scenario::{MAX_BINS, MAX_DURATION, MAX_MEETING_SIZE, validate_scenario};
pub use topology::validate_topology;

/// A topology with the scenario meant for it, and every variant built.
#[derive(Debug, Clone)]
pub struct Study {
    /// The topology as written.
    pub topology: Topology,
    /// The scenario as written.
    pub scenario: Scenario,
    /// Each variant: its name, description and the models it yields.
    pub variants: Vec<Variant>,
    /// The input files, for manifests.
    pub inputs: Vec<SourceFile>,
}

/// One what-if variant, built and validated.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its name.
    pub name: String,
    /// What it changes.
    pub description: Option<String>,
    /// The topology with the variant's changes.
    pub topology: Topology,
    /// The scenario with the variant's changes.
    pub scenario: Scenario,
}

impl Study {
    /// The baseline (`"baseline"`) or a variant by name.
    pub fn models(&self, name: &str) -> Option<(&Topology, &Scenario)> {
        if name == "baseline" {
            return Some((&self.topology, &self.scenario));
        }
        self.variants
            .iter()
            .find(|v| v.name == name)
            .map(|v| (&v.topology, &v.scenario))
    }
}

/// Problems loading the input: every one found, or a file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The files were read but are not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

/// Reads a file into a [`SourceFile`].
pub fn read_source(path: &Path) -> Result<SourceFile, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let display = path.display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(display, text)),
        Err(_) => {
            let file = SourceFile::new(display, String::new());
            let mut d = Diagnostics::new();
            d.error_in_file(&file, None, "the file is not UTF-8 text");
            Err(InvalidInput::from(d).into())
        }
    }
}

/// Loads and validates a topology file alone.
pub fn load_topology(path: &Path) -> Result<Topology, LoadError> {
    let file = read_source(path)?;
    topology_from_source(&file).map_err(|d| InvalidInput::from(d).into())
}

/// Validates a topology held in memory.
pub fn topology_from_source(file: &SourceFile) -> Result<Topology, Diagnostics> {
    let tree = config::parse(file)?;
    let mut diags = Diagnostics::new();
    let raw = RawTopology::read(file, &tree, &mut diags);
    let topology = validate_topology(file, &raw, &mut diags);
    match topology {
        Some(t) if diags.is_empty() => Ok(t),
        _ => Err(diags),
    }
}

/// Loads and validates a topology and a scenario, with every variant.
pub fn load_study(topology_path: &Path, scenario_path: &Path) -> Result<Study, LoadError> {
    let topology_file = read_source(topology_path)?;
    let scenario_file = read_source(scenario_path)?;
    study_from_sources(topology_file, scenario_file).map_err(|d| InvalidInput::from(d).into())
}

/// Validates a topology and a scenario held in memory, with every variant.
pub fn study_from_sources(
    topology_file: SourceFile,
    scenario_file: SourceFile,
) -> Result<Study, Diagnostics> {
    let mut diags = Diagnostics::new();
    let topology_tree = config::parse(&topology_file);
    let scenario_tree = config::parse(&scenario_file);
    let (topology_tree, scenario_tree) = match (topology_tree, scenario_tree) {
        (Ok(t), Ok(s)) => (t, s),
        (t, s) => {
            if let Err(e) = t {
                diags.extend(e);
            }
            if let Err(e) = s {
                diags.extend(e);
            }
            return Err(diags);
        }
    };
    let raw_topology = RawTopology::read(&topology_file, &topology_tree, &mut diags);
    let raw_scenario = RawScenario::read(&scenario_file, &scenario_tree, &mut diags);
    let (topology, topology_broken) =
        topology::build_topology(&topology_file, &raw_topology, &mut diags);
    let scenario = topology.as_ref().and_then(|t| {
        scenario::check_scenario(
            &scenario_file,
            &raw_scenario,
            t,
            &topology_broken,
            &mut diags,
        )
    });
    let (Some(topology), Some(scenario)) = (topology, scenario) else {
        return Err(diags);
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    let variants = raw_scenario
        .variants
        .iter()
        .filter_map(|v| {
            build_variant(
                v,
                &topology_file,
                &topology_tree,
                &scenario_file,
                &scenario_tree,
                &mut diags,
            )
        })
        .collect();
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Study {
        topology,
        scenario,
        variants,
        inputs: vec![topology_file, scenario_file],
    })
}

/// Applies one variant to both documents and validates the results.
/// Problems are reported at the variant in the scenario file.
fn build_variant(
    variant: &RawVariant,
    topology_file: &SourceFile,
    topology_tree: &Tree<'_>,
    scenario_file: &SourceFile,
    scenario_tree: &Tree<'_>,
    diags: &mut Diagnostics,
) -> Option<Variant> {
    let name = variant.name.get_ref().clone();
    let label = element("variant", &name);
    let at = |span: std::ops::Range<usize>| scenario_file.locate(&span);
    let mut found = Diagnostics::new();
    let mut topo_doc = to_table(topology_tree);
    let mut scen_doc = to_table(scenario_tree);

    for r in &variant.remove {
        if let Err(e) = patch::remove_element(&mut topo_doc, r.get_ref()) {
            found.error(
                scenario_file,
                &r.span(),
                Some(label.clone()),
                format!("remove: {e}"),
            );
        }
    }
    for (path, value) in &variant.set {
        if let Err(e) = patch::set(&mut topo_doc, path, value.get_ref().clone()) {
            found.error(
                scenario_file,
                &value.span(),
                Some(label.clone()),
                format!("set: {e}"),
            );
        }
    }
    for (section, elements) in &variant.add {
        if let Err(e) = patch::add(&mut topo_doc, section, elements.get_ref().clone()) {
            found.error(
                scenario_file,
                &elements.span(),
                Some(label.clone()),
                format!("add: {e}"),
            );
        }
    }
    for (path, value) in &variant.scenario {
        if let Err(e) = patch::set(&mut scen_doc, path, value.get_ref().clone()) {
            found.error(
                scenario_file,
                &value.span(),
                Some(label.clone()),
                format!("scenario: {e}"),
            );
        }
    }
    // Variants do not nest: a variant's scenario has no variants of its own.
    scen_doc.remove("variant");
    scen_doc.remove("sweep");
    if !found.is_empty() {
        diags.extend(found);
        return None;
    }

    let variant_topology = SourceFile::new(
        format!("{} (variant {name})", topology_file.path),
        toml::to_string(&topo_doc).expect("a TOML table serializes"),
    );
    let variant_scenario = SourceFile::new(
        format!("{} (variant {name})", scenario_file.path),
        toml::to_string(&scen_doc).expect("a TOML table serializes"),
    );
    match study_from_sources(variant_topology, variant_scenario) {
        Ok(study) => Some(Variant {
            name,
            description: variant.description.clone(),
            topology: study.topology,
            scenario: study.scenario,
        }),
        Err(problems) => {
            for p in problems.sorted() {
                diags.push(Diagnostic {
                    location: at(variant.name.span()),
                    element: Some(label.clone()),
                    message: format!(
                        "{}{}",
                        p.element.map(|e| format!("{e}: ")).unwrap_or_default(),
                        p.message
                    ),
                    help: p.help,
                });
            }
            None
        }
    }
}

/// The document as an owned table (the text already parsed cleanly).
fn to_table(tree: &Tree<'_>) -> toml::Table {
    tree_to_table(tree.get_ref())
}

fn tree_to_table(t: &toml::de::DeTable<'_>) -> toml::Table {
    t.iter()
        .map(|(k, v)| (k.get_ref().to_string(), de_to_value(v.get_ref())))
        .collect()
}

fn de_to_value(v: &toml::de::DeValue<'_>) -> toml::Value {
    use toml::de::DeValue;
    match v {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(toml::Value::Integer)
            .unwrap_or_else(|_| toml::Value::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map(toml::Value::Float)
            .unwrap_or_else(|_| toml::Value::String(f.as_str().to_string())),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(a) => {
            toml::Value::Array(a.iter().map(|x| de_to_value(x.get_ref())).collect())
        }
        DeValue::Table(t) => toml::Value::Table(tree_to_table(t)),
    }
}
