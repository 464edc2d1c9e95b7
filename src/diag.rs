//! Problems in input files, located to file, line and column.
//!
//! Owns [`Diagnostic`] (one problem, with the element it concerns),
//! [`SourceFile`] (turns byte offsets into line and column) and
//! [`Diagnostics`] (the list a loader or validator fills, so every problem
//! is reported at once).
//!
//! Leaves out what the problems are: the config loader and the validator
//! decide that.

use std::fmt;
use std::ops::Range;

/// One input file, kept so byte offsets can be turned into positions.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (used in messages).
    pub path: String,
    /// The file's text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The location of a byte span's start in this file.
    pub fn locate(&self, span: &Range<usize>) -> Location {
        Location {
            file: self.path.clone(),
            position: Some(self.position(span.start)),
        }
    }

    /// A location naming only this file (for problems with no single place).
    pub fn whole(&self) -> Location {
        Location {
            file: self.path.clone(),
            position: None,
        }
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

/// Where a problem is: a file, and a position in it when there is one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file's path as the user gave it.
    pub file: String,
    /// Line and column, if the problem has a single place.
    pub position: Option<Position>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}", self.file, p.line, p.column),
            None => write!(f, "{}", self.file),
        }
    }
}

/// One problem in the input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Where it is.
    pub location: Location,
    /// The element it concerns, as `kind "name"` (e.g. `link "hq-wan"`), if any.
    pub element: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if there is a clear suggestion.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Adds a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: link "hq-wan": capacity must be above zero`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: ", self.location)?;
        if let Some(element) = &self.element {
            write!(f, "{element}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Problems collected while loading or validating, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No problems yet.
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Records a problem at a span of `file`.
    pub fn error(
        &mut self,
        file: &SourceFile,
        span: &Range<usize>,
        element: Option<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic {
            location: file.locate(span),
            element,
            message: message.into(),
            help: None,
        })
    }

    /// Records a problem with no single place in `file`.
    pub fn error_in_file(
        &mut self,
        file: &SourceFile,
        element: Option<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic {
            location: file.whole(),
            element,
            message: message.into(),
            help: None,
        })
    }

    /// Records a problem already built.
    pub fn push(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.0.push(d);
        self.0.last_mut().expect("just pushed")
    }

    /// Appends another list.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in file and position order.
    pub fn sorted(mut self) -> Vec<Diagnostic> {
        self.0.sort();
        self.0.dedup();
        self.0
    }

    /// The problems in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

/// Input that failed to load or validate: every problem found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem{} in the input", .0.len(), if .0.len() == 1 { "" } else { "s" })]
pub struct InvalidInput(pub Vec<Diagnostic>);

impl InvalidInput {
    /// Renders every problem, one per line (help lines indented below).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        out
    }
}

impl From<Diagnostics> for InvalidInput {
    fn from(d: Diagnostics) -> Self {
        InvalidInput(d.sorted())
    }
}

/// A `kind "name"` label for messages.
pub fn element(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\"")
}

/// The closest candidate to `name` by edit distance, if it is close enough
/// to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let f = SourceFile::new("t.toml", "a = 1\nnamé = \"x\"\n");
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(6), Position { line: 2, column: 1 });
        // "namé = " is 8 bytes but 7 characters.
        assert_eq!(f.position(6 + 8), Position { line: 2, column: 8 });
        assert_eq!(f.position(10_000).line, 3);
    }

    #[test]
    fn diagnostics_render_with_location_element_and_help() {
        let f = SourceFile::new("topo.toml", "x\n[[link]]\nname = \"hq-wan\"\n");
        let mut d = Diagnostics::new();
        d.error(
            &f,
            &(11..15),
            Some(element("link", "hq-wan")),
            "capacity must be above zero",
        )
        .help = Some("write e.g. \"100Mbps\"".into());
        let out = InvalidInput::from(d).render();
        assert_eq!(
            out,
            "topo.toml:3:1: error: link \"hq-wan\": capacity must be above zero\n  help: write e.g. \"100Mbps\"\n"
        );
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(did_you_mean("hq-cee", ["hq-ce", "br1-ce"]), Some("hq-ce"));
        assert_eq!(did_you_mean("zzz", ["hq-ce", "br1-ce"]), None);
    }
}
