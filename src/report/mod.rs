//! `callflow report`: one self-contained HTML page from a results
//! directory.
//!
//! Owns reading a results directory's files ([`ResultsDir`]) and turning
//! them into a page a planner can open anywhere: the topology in its four
//! lanes, traffic over time per segment and for the busiest links
//! ([`chart`]), the tables, the scenario's probes as a call-flow table in
//! the source document's terms, and findings with their fixes
//! ([`findings`]); [`html`] assembles the page. Everything is inline (SVG,
//! CSS); the page loads nothing and runs no script.
//!
//! Leaves out simulation and tracing: the page is built only from the
//! directory's files, so a report can be made again, or elsewhere, without
//! the inputs.

pub mod chart;
pub mod findings;
pub mod html;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The files a report reads, in the order the page lists them.
pub const KNOWN_FILES: [&str; 9] = [
    "manifest.json",
    "summary.json",
    "links.csv",
    "segments.csv",
    "calls.csv",
    "timeseries.csv",
    "topology.svg",
    "trace.json",
    "compare.json",
];

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read (fatal).
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The directory has no `summary.json`, so it is not a results directory (fatal).
    #[error("{0} has no summary.json: not a callflow results directory")]
    NotResults(String),
    /// A file is not what callflow writes (fatal).
    #[error("{file}: {why}")]
    Malformed {
        /// The file.
        file: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// A results directory's files, by name: read from disk, or the files a run
/// is about to write.
#[derive(Debug, Clone, Default)]
pub struct ResultsDir {
    files: BTreeMap<String, Vec<u8>>,
}

impl ResultsDir {
    /// The files a run produced (name and contents).
    pub fn from_files(files: &[(String, Vec<u8>)]) -> ResultsDir {
        ResultsDir {
            files: files.iter().cloned().collect(),
        }
    }

    /// Reads the files of [`KNOWN_FILES`] that `dir` has.
    pub fn read(dir: &Path) -> Result<ResultsDir, ReportError> {
        let mut files = BTreeMap::new();
        for name in KNOWN_FILES {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    files.insert(name.to_string(), bytes);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ReportError::Read {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
        if !files.contains_key("summary.json") {
            return Err(ReportError::NotResults(dir.display().to_string()));
        }
        Ok(ResultsDir { files })
    }

    /// A file's bytes.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// The files present, with their sizes, in [`KNOWN_FILES`] order.
    pub fn listing(&self) -> Vec<(&'static str, usize)> {
        KNOWN_FILES
            .iter()
            .filter_map(|n| self.files.get(*n).map(|b| (*n, b.len())))
            .collect()
    }

    /// A JSON file, parsed; `None` when the directory does not have it.
    fn json(&self, name: &'static str) -> Result<Option<Value>, ReportError> {
        self.get(name)
            .map(|bytes| {
                serde_json::from_slice(bytes).map_err(|e| ReportError::Malformed {
                    file: name,
                    why: e.to_string(),
                })
            })
            .transpose()
    }
}

/// A time bin of `timeseries.csv`: when it starts, its clock label, and
/// the mean bitrate in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Seconds from the start of the simulated day.
    pub at_s: f64,
    /// The bin's start as a time of day (`09:15:00`).
    pub time_of_day: String,
    /// Mean bitrate over the bin, bits per second.
    pub mean_bps: f64,
}

/// The all-class series of `timeseries.csv`, keyed by (scope, name,
/// direction), each in time order.
pub type Series = BTreeMap<(String, String, String), Vec<Sample>>;

/// Reads the all-class rows of `timeseries.csv`.
fn timeseries(dir: &ResultsDir) -> Result<Series, ReportError> {
    let mut out = Series::new();
    let Some(bytes) = dir.get("timeseries.csv") else {
        return Ok(out);
    };
    let malformed = |why: String| ReportError::Malformed {
        file: "timeseries.csv",
        why,
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| malformed(e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| malformed(format!("no column {name}")))
    };
    let (at, tod, scope, name, dir_col, class, mean) = (
        col("bin_start_s")?,
        col("time_of_day")?,
        col("scope")?,
        col("name")?,
        col("direction")?,
        col("class")?,
        col("mean_bps")?,
    );
    for record in reader.records() {
        let r = record.map_err(|e| malformed(e.to_string()))?;
        let field = |i: usize| r.get(i).unwrap_or("");
        if field(class) != "all" {
            continue;
        }
        let number = |i: usize| {
            field(i)
                .parse::<f64>()
                .map_err(|_| malformed(format!("not a number: {:?}", field(i))))
        };
        out.entry((
            field(scope).to_string(),
            field(name).to_string(),
            field(dir_col).to_string(),
        ))
        .or_default()
        .push(Sample {
            at_s: number(at)?,
            time_of_day: field(tod).to_string(),
            mean_bps: number(mean)?,
        });
    }
    for samples in out.values_mut() {
        samples.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    }
    Ok(out)
}

/// Builds the report page for a results directory.
pub fn render(dir: &ResultsDir) -> Result<String, ReportError> {
    let summary = dir
        .json("summary.json")?
        .ok_or_else(|| ReportError::NotResults("the results".into()))?;
    let inputs = html::Inputs {
        manifest: dir.json("manifest.json")?,
        trace: dir.json("trace.json")?,
        compare: dir.json("compare.json")?,
        topology_svg: dir
            .get("topology.svg")
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        series: timeseries(dir)?,
        listing: dir.listing(),
        summary,
    };
    Ok(html::page(&inputs))
}

/// A bitrate for people: `850 kbps`, `12.4 Mbps`, `1.25 Gbps`.
pub fn rate(bps: f64) -> String {
    let bps = bps.max(0.0);
    if bps >= 1e9 {
        format!("{:.2} Gbps", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbps", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.0} kbps", bps / 1e3)
    } else {
        format!("{bps:.0} bps")
    }
}

/// A fraction as a percentage with one decimal.
pub fn percent(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_naturally() {
        assert_eq!(rate(850_000.0), "850 kbps");
        assert_eq!(rate(12_400_000.0), "12.4 Mbps");
        assert_eq!(rate(1_250_000_000.0), "1.25 Gbps");
        assert_eq!(rate(12.0), "12 bps");
        assert_eq!(percent(0.8123), "81.2%");
    }

    #[test]
    fn timeseries_keeps_the_all_class_rows_in_time_order() {
        let csv = "bin_start_s,time_of_day,scope,name,direction,class,dscp,bytes,mean_bps\n\
                   900.0,09:15:00,link,wan,a -> b,all,,1,2000.0\n\
                   0.0,09:00:00,link,wan,a -> b,all,,1,1000.0\n\
                   0.0,09:00:00,link,wan,a -> b,audio,46,1,500.0\n";
        let dir = ResultsDir::from_files(&[("timeseries.csv".into(), csv.as_bytes().to_vec())]);
        let series = timeseries(&dir).expect("parses");
        let wan = &series[&("link".into(), "wan".into(), "a -> b".into())];
        assert_eq!(wan.len(), 2);
        assert_eq!(wan[0].mean_bps, 1000.0);
        assert_eq!(wan[1].time_of_day, "09:15:00");
    }

    #[test]
    fn a_directory_without_a_summary_is_refused() {
        let tmp = tempfile::tempdir().expect("temporary directory");
        match ResultsDir::read(tmp.path()) {
            Err(ReportError::NotResults(_)) => {}
            other => panic!("expected NotResults, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        let dir = ResultsDir::from_files(&[("summary.json".into(), b"{ nope".to_vec())]);
        assert!(matches!(
            render(&dir),
            Err(ReportError::Malformed {
                file: "summary.json",
                ..
            })
        ));
    }
}
