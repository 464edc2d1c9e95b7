//! What-if variants as patches on a parsed document.
//!
//! Owns applying a variant's `remove`, `set` and `add` to a topology
//! document, and its `scenario` changes to a scenario document. A patch works
//! on element names (every element name is unique in a topology), so a
//! variant reads like the change a planner would make by hand:
//!
//! ```toml
//! [[variant]]
//! name = "bigger-circuit"
//! set = { "er-nyc.bandwidth" = "500Mbps" }
//! ```
//!
//! Leaves out checking the result: the patched document is validated like
//! any other, and the caller reports problems against the variant.

use toml::{Table, Value};

/// A patch that could not be applied, naming what it pointed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// `remove` or `set` named an element the document does not have.
    #[error("no element named \"{0}\"")]
    NoElement(String),
    /// `set` went through a key that is not a table.
    #[error("\"{path}\": `{key}` is not a table")]
    NotATable {
        /// The whole path as written.
        path: String,
        /// The step that is not a table.
        key: String,
    },
    /// `add` named a section the document cannot have more of.
    #[error("cannot add to `{0}`: it is not a list of elements")]
    NotAList(String),
    /// A `set` path had no field after the element name.
    #[error("\"{0}\" names no field: write \"<element>.<field>\"")]
    NoField(String),
}

/// Removes the element named `name` from whichever array of tables holds it.
pub fn remove_element(doc: &mut Table, name: &str) -> Result<(), PatchError> {
    for (_, value) in doc.iter_mut() {
        if let Value::Array(items) = value {
            let before = items.len();
            items.retain(|item| element_name(item) != Some(name));
            if items.len() != before {
                return Ok(());
            }
        }
    }
    Err(PatchError::NoElement(name.to_string()))
}

/// Sets `path` to `value`. The path is `<field>` for a top-level key, or
/// `<element>.<field>[.<field>…]` to reach into a named element.
pub fn set(doc: &mut Table, path: &str, value: Value) -> Result<(), PatchError> {
    let mut steps = path.split('.');
    let first = steps.next().unwrap_or_default();
    let rest: Vec<&str> = steps.collect();
    if rest.is_empty() {
        doc.insert(first.to_string(), value);
        return Ok(());
    }
    if doc.get(first).is_some_and(|v| !v.is_table()) {
        return Err(PatchError::NotATable {
            path: path.to_string(),
            key: first.to_string(),
        });
    }
    if let Some(Value::Table(t)) = doc.get_mut(first) {
        return set_in(t, &rest, value, path);
    }
    let element =
        find_element_mut(doc, first).ok_or_else(|| PatchError::NoElement(first.to_string()))?;
    set_in(element, &rest, value, path)
}

/// Appends elements to the array of tables `section`.
pub fn add(doc: &mut Table, section: &str, elements: Vec<Table>) -> Result<(), PatchError> {
    let entry = doc
        .entry(section.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = entry else {
        return Err(PatchError::NotAList(section.to_string()));
    };
    items.extend(elements.into_iter().map(Value::Table));
    Ok(())
}

fn set_in(table: &mut Table, steps: &[&str], value: Value, path: &str) -> Result<(), PatchError> {
    match steps {
        [] => Err(PatchError::NoField(path.to_string())),
        [last] => {
            table.insert((*last).to_string(), value);
            Ok(())
        }
        [head, tail @ ..] => {
            let next = table
                .entry((*head).to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            match next {
                Value::Table(t) => set_in(t, tail, value, path),
                _ => Err(PatchError::NotATable {
                    path: path.to_string(),
                    key: (*head).to_string(),
                }),
            }
        }
    }
}

fn find_element_mut<'a>(doc: &'a mut Table, name: &str) -> Option<&'a mut Table> {
    doc.iter_mut()
        .filter_map(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .flat_map(|items| items.iter_mut())
        .find_map(|item| match item {
            Value::Table(t) if t.get("name").and_then(Value::as_str) == Some(name) => Some(t),
            _ => None,
        })
}

fn element_name(item: &Value) -> Option<&str> {
    item.as_table()?.get("name")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Table {
        toml::from_str(
            r#"
            name = "t"
            [[circuit]]
            name = "er-nyc"
            bandwidth = "200Mbps"
            [[link]]
            name = "hq-isp"
            kind = "internet-access"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn set_changes_a_field_of_a_named_element() {
        let mut d = doc();
        set(&mut d, "er-nyc.bandwidth", Value::String("500Mbps".into())).unwrap();
        set(
            &mut d,
            "er-nyc.bandwidth_policy.audio",
            Value::String("2Mbps".into()),
        )
        .unwrap();
        let er = &d["circuit"].as_array().unwrap()[0];
        assert_eq!(er["bandwidth"].as_str(), Some("500Mbps"));
        assert_eq!(er["bandwidth_policy"]["audio"].as_str(), Some("2Mbps"));
        set(&mut d, "name", Value::String("u".into())).unwrap();
        assert_eq!(d["name"].as_str(), Some("u"));
    }

    #[test]
    fn remove_takes_an_element_out_by_name() {
        let mut d = doc();
        remove_element(&mut d, "er-nyc").unwrap();
        assert!(d["circuit"].as_array().unwrap().is_empty());
        assert_eq!(
            remove_element(&mut d, "er-nyc"),
            Err(PatchError::NoElement("er-nyc".into()))
        );
    }

    #[test]
    fn add_appends_to_a_section_creating_it_if_needed() {
        let mut d = doc();
        let extra: Table = toml::from_str("name = \"er-chi\"").unwrap();
        add(&mut d, "circuit", vec![extra.clone()]).unwrap();
        add(&mut d, "router", vec![extra]).unwrap();
        assert_eq!(d["circuit"].as_array().unwrap().len(), 2);
        assert_eq!(d["router"].as_array().unwrap().len(), 1);
        assert_eq!(
            add(&mut d, "name", vec![]),
            Err(PatchError::NotAList("name".into()))
        );
    }

    #[test]
    fn bad_paths_name_what_they_missed() {
        let mut d = doc();
        assert_eq!(
            set(&mut d, "er-chi.bandwidth", Value::Integer(1)),
            Err(PatchError::NoElement("er-chi".into()))
        );
        assert!(matches!(
            set(&mut d, "er-nyc.bandwidth.x", Value::Integer(1)),
            Err(PatchError::NotATable { .. })
        ));
    }
}
