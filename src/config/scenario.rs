//! The scenario file as written: people, personas, time, probes, variants.
//!
//! `docs/scenario.md` is the reference for the format. Every field that has a
//! default takes it from Microsoft's published capacity user model
//! (`crate::model::scenario` documents each value and its source), so a
//! short scenario works.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::topology::{Name, OneOrMany, Quantity};
use super::{Tree, read, read_array, unknown_section};
use crate::diag::{Diagnostics, SourceFile};

/// The whole scenario file.
#[derive(Debug, Clone, Default)]
pub struct RawScenario {
    /// The scenario's name (defaults to the file stem).
    pub name: Option<Name>,
    /// A sentence on what it shows.
    pub description: Option<String>,
    /// The topology file it is meant for, relative to the scenario file.
    pub topology: Option<Spanned<String>>,
    /// The master seed.
    pub seed: Option<Spanned<i64>>,
    /// Independent replications of the run.
    pub replications: Option<Spanned<i64>>,
    /// How much simulated time a run covers.
    pub duration: Option<Quantity>,
    /// The time of day the run starts at (`"08:00"`).
    pub start: Option<Spanned<String>>,
    /// Width of the time bins for time series and percentiles.
    pub bin: Option<Quantity>,
    /// `organizer` (the SfB rule) or `first-joiner` (the Teams rule).
    pub conference_rule: Option<Name>,
    /// Which codec-table figure streams use: `typical`, `max` (default) or `max-with-fec`.
    pub bitrate: Option<Name>,
    /// Call admission control behaviour.
    pub cac: Option<RawCac>,
    /// The time-of-day profile.
    pub profile: Option<RawProfile>,
    /// Internet-only dependency flows beside each call.
    pub dependencies: Option<RawDependencies>,
    /// Link and circuit failures during the run.
    pub failures: Vec<RawFailure>,
    /// Groups of users.
    pub groups: Vec<RawGroup>,
    /// Behaviour profiles.
    pub personas: Vec<RawPersona>,
    /// Named probes for `callflow trace`.
    pub probes: Vec<RawProbe>,
    /// Named what-if variants.
    pub variants: Vec<RawVariant>,
    /// A sweep over variants, seeds and sizes.
    pub sweep: Option<RawSweep>,
    /// Names of elements that could not be read.
    pub broken_names: Vec<String>,
}

/// The top-level keys of a scenario file.
pub const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "topology",
    "seed",
    "replications",
    "duration",
    "start",
    "bin",
    "conference_rule",
    "bitrate",
    "cac",
    "profile",
    "dependencies",
    "failure",
    "group",
    "persona",
    "probe",
    "variant",
    "sweep",
];

impl RawScenario {
    /// Reads a parsed scenario document, recording every problem in `diags`.
    pub fn read(file: &SourceFile, tree: &Tree<'_>, diags: &mut Diagnostics) -> RawScenario {
        let mut s = RawScenario::default();
        let mut broken = Vec::new();
        for (key, value) in tree.get_ref().iter() {
            let b = &mut broken;
            match key.get_ref().as_ref() {
                "name" => s.name = read(file, value, None, diags),
                "description" => s.description = read(file, value, None, diags),
                "topology" => s.topology = read(file, value, None, diags),
                "seed" => s.seed = read(file, value, None, diags),
                "replications" => s.replications = read(file, value, None, diags),
                "duration" => s.duration = read(file, value, None, diags),
                "start" => s.start = read(file, value, None, diags),
                "bin" => s.bin = read(file, value, None, diags),
                "conference_rule" => s.conference_rule = read(file, value, None, diags),
                "bitrate" => s.bitrate = read(file, value, None, diags),
                "cac" => s.cac = read(file, value, Some("cac"), diags),
                "profile" => s.profile = read(file, value, Some("profile"), diags),
                "dependencies" => s.dependencies = read(file, value, Some("dependencies"), diags),
                "failure" => s.failures = read_array(file, value, "failure", diags, b),
                "group" => s.groups = read_array(file, value, "group", diags, b),
                "persona" => s.personas = read_array(file, value, "persona", diags, b),
                "probe" => s.probes = read_array(file, value, "probe", diags, b),
                "variant" => s.variants = read_array(file, value, "variant", diags, b),
                "sweep" => s.sweep = read(file, value, Some("sweep"), diags),
                _ => unknown_section(file, key, SCENARIO_KEYS, diags),
            }
        }
        s.broken_names = broken;
        s
    }
}

/// `[cac]`: what call admission control does with a session that does not fit.
#[derive(Debug, Clone, Deserialize)]
pub struct RawCac {
    /// Reroutes to try, in SfB's order: `internet`, `pstn`, `voicemail`
    /// (default all three; `[]` blocks at once).
    pub reroute: Option<Vec<Name>>,
}

/// `[profile]`: how busy each hour is, relative to the others.
#[derive(Debug, Clone, Deserialize)]
pub struct RawProfile {
    /// One weight per hour from `start`; scaled so the day's total matches the rates.
    pub hourly: Spanned<Vec<f64>>,
}

/// `[dependencies]`: the small Internet-only flows beside each call.
#[derive(Debug, Clone, Deserialize)]
pub struct RawDependencies {
    /// Whether to simulate them (default true).
    pub enabled: Option<bool>,
    /// Data per call for DNS lookups.
    pub dns: Option<Quantity>,
    /// Data per call for certificate revocation checks.
    pub crl: Option<Quantity>,
    /// Data per call for telemetry.
    pub telemetry: Option<Quantity>,
}

/// `[[failure]]`: an element down for part of the run.
#[derive(Debug, Clone, Deserialize)]
pub struct RawFailure {
    /// A link or circuit name; `<circuit>:primary` / `<circuit>:secondary` for one connection.
    pub element: Name,
    /// When it fails, from the start of the run.
    pub at: Quantity,
    /// How long it stays down.
    #[serde(rename = "for")]
    pub lasts: Quantity,
}

/// `[[group]]`: users who sit in one place, are homed alike and behave alike.
#[derive(Debug, Clone, Deserialize)]
pub struct RawGroup {
    /// The group's name.
    pub name: Name,
    /// Where they sit: a site, a remote location or another organization.
    pub at: Name,
    /// `online` or `on-prem` (ignored for other organizations' users).
    pub homed: Option<Name>,
    /// Their persona (default: Microsoft's user model).
    pub persona: Option<Name>,
    /// How many users.
    pub count: Spanned<i64>,
    /// Whether their clients can use IPv6 (default false).
    #[serde(default)]
    pub ipv6: bool,
}

/// `[[persona]]`: what a kind of user does in a day.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPersona {
    /// The persona's name.
    pub name: Name,
    /// `sfb` or `teams` codec and bitrate tables.
    pub codec: Option<Name>,
    /// Calls and meetings per user per day.
    pub rates: Option<RawRates>,
    /// Shares of calls that add each modality to audio.
    pub modalities: Option<RawModalities>,
    /// Holding times per call kind.
    pub holding: Option<RawHolding>,
    /// Meeting sizes and their probabilities (`{ "4" = 0.85, "6" = 0.10, "11" = 0.05 }`).
    pub meeting_size: Option<Spanned<BTreeMap<String, f64>>>,
    /// Where meeting participants come from.
    pub participants: Option<RawParticipants>,
}

/// Per user per day.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRates {
    /// Peer-to-peer calls placed.
    pub peer_to_peer: Option<Spanned<f64>>,
    /// Meetings organized.
    pub meetings: Option<Spanned<f64>>,
    /// PSTN calls placed.
    pub pstn: Option<Spanned<f64>>,
    /// Calls to federated partners.
    pub federated: Option<Spanned<f64>>,
    /// Broadcasts attended.
    pub broadcast: Option<Spanned<f64>>,
}

/// Shares of calls (0–1) that add a modality to audio.
#[derive(Debug, Clone, Deserialize)]
pub struct RawModalities {
    /// Video.
    pub video: Option<Quantity>,
    /// Application or screen sharing.
    pub sharing: Option<Quantity>,
    /// File transfer.
    pub file_transfer: Option<Quantity>,
}

/// Holding-time distributions.
#[derive(Debug, Clone, Deserialize)]
pub struct RawHolding {
    /// Peer-to-peer calls.
    pub peer_to_peer: Option<RawDistribution>,
    /// Meetings.
    pub meeting: Option<RawDistribution>,
    /// PSTN calls.
    pub pstn: Option<RawDistribution>,
    /// Federated calls.
    pub federated: Option<RawDistribution>,
    /// Broadcasts.
    pub broadcast: Option<RawDistribution>,
}

/// A duration distribution.
#[derive(Debug, Clone, Deserialize)]
pub struct RawDistribution {
    /// `exponential` or `lognormal`.
    pub distribution: Name,
    /// The mean.
    pub mean: Quantity,
    /// The standard deviation (lognormal only).
    pub sd: Option<Quantity>,
}

/// Shares (summing to 1) of meeting participants by where they join from.
#[derive(Debug, Clone, Deserialize)]
pub struct RawParticipants {
    /// From the organizer's own network.
    pub internal: Option<Quantity>,
    /// Our users joining from outside the network.
    pub remote: Option<Quantity>,
    /// Users of federated organizations.
    pub federated: Option<Quantity>,
}

/// `[[probe]]`: a flow or a whole call to trace.
#[derive(Debug, Clone, Deserialize)]
pub struct RawProbe {
    /// The probe's name.
    pub name: Name,
    /// `flow`, `peer-to-peer`, `conference`, `pstn`, `federated` or `broadcast`.
    pub kind: Option<Name>,
    /// What the probe shows (printed with it).
    pub description: Option<String>,
    /// Flow: where it starts (a group or an element).
    pub from: Option<Name>,
    /// Flow: where it goes (an element or a group).
    pub to: Option<Name>,
    /// Flow: `udp` or `tcp`.
    pub protocol: Option<Name>,
    /// Flow: destination port.
    pub port: Option<Spanned<i64>>,
    /// Flow: `ipv4` (default) or `ipv6`.
    pub family: Option<Name>,
    /// Calls: who places the call (a group).
    pub caller: Option<Name>,
    /// Peer-to-peer: who is called (a group).
    pub callee: Option<Name>,
    /// Conference or broadcast: who organizes it (a group, or an organization for another company's meeting).
    pub organizer: Option<Name>,
    /// Conference: who joins, in joining order.
    pub participants: Option<OneOrMany>,
    /// Broadcast: who watches the stream.
    pub attendees: Option<OneOrMany>,
    /// PSTN: `phone-system`, `cloud-connector` or `gateway` (default: what the deployment offers).
    pub via: Option<Name>,
    /// Federated: the partner organization's user group.
    pub partner: Option<Name>,
    /// Modalities beyond audio (`video`, `sharing`, `file-transfer`).
    pub modalities: Option<OneOrMany>,
}

/// `[[variant]]`: a named what-if change.
#[derive(Debug, Clone, Deserialize)]
pub struct RawVariant {
    /// The variant's name.
    pub name: Name,
    /// What it changes, in a sentence.
    pub description: Option<String>,
    /// Topology elements to take out, by name.
    #[serde(default)]
    pub remove: Vec<Name>,
    /// Topology fields to change: `"<element>.<field>" = value`.
    #[serde(default)]
    pub set: BTreeMap<String, Spanned<toml::Value>>,
    /// Topology elements to add, by section: `{ circuit = [ { … } ] }`.
    #[serde(default)]
    pub add: BTreeMap<String, Spanned<Vec<toml::Table>>>,
    /// Scenario fields to change: `"<field>"` or `"<element>.<field>" = value`.
    #[serde(default)]
    pub scenario: BTreeMap<String, Spanned<toml::Value>>,
}

/// `[sweep]`: a grid of runs.
#[derive(Debug, Clone, Deserialize)]
pub struct RawSweep {
    /// Variants to run (`"baseline"` is the scenario as written).
    pub variants: Option<Vec<Name>>,
    /// Seeds to run each variant with.
    pub seeds: Option<Vec<Spanned<i64>>>,
}
