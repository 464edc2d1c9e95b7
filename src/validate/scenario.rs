//! Scenario validation: raw scenario and a validated topology in, [`Scenario`] out.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;
use toml::Spanned;

use crate::config::scenario::*;
use crate::config::topology::{Name, OneOrMany, Quantity};
use crate::diag::{Diagnostics, SourceFile, did_you_mean, element};
use crate::model::*;
use crate::time::SimDuration;
use crate::units::{DataSize, Ratio, parse_duration};

/// The longest span a scenario may state, for the run or anything in it:
/// one year (365 days). Longer is no planning question, and the cap bounds
/// everything sized or summed from a duration (hourly weights, bins, the
/// end of a failure) well inside the microsecond clock.
pub const MAX_DURATION: SimDuration = SimDuration::from_hours(365 * 24);

/// The most time-series bins a run may have (`duration / bin`): results
/// hold every link's traffic per bin, so the count is bounded up front.
/// A day in one-second bins fits.
pub const MAX_BINS: u64 = 100_000;

/// The largest meeting a persona may hold: Teams' limit on interactive
/// meeting attendees. Each simulated meeting lists its participants, so
/// the size is bounded up front.
pub const MAX_MEETING_SIZE: u32 = 1_000;

/// Validates a raw scenario against its topology. Returns `None` when it is
/// too broken to build; problems are added to `diags` either way.
pub fn validate_scenario(
    file: &SourceFile,
    raw: &RawScenario,
    topology: &Topology,
    diags: &mut Diagnostics,
) -> Option<Scenario> {
    check_scenario(file, raw, topology, &BTreeSet::new(), diags)
}

/// [`validate_scenario`] against a topology whose elements named in
/// `topology_broken` failed to build (and were reported there): references
/// to them are not reported again.
pub(crate) fn check_scenario(
    file: &SourceFile,
    raw: &RawScenario,
    topology: &Topology,
    topology_broken: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> Option<Scenario> {
    let mut v = Checker {
        file,
        topology,
        diags,
        broken: raw
            .broken_names
            .iter()
            .chain(topology_broken)
            .cloned()
            .collect(),
    };
    let seed = match &raw.seed {
        None => 1,
        Some(s) if *s.get_ref() >= 0 => *s.get_ref() as u64,
        Some(s) => {
            v.err(
                &s.span(),
                "scenario",
                "the seed must be a whole number from 0",
            );
            1
        }
    };
    let replications = match &raw.replications {
        None => 1,
        Some(r) if (1..=10_000).contains(r.get_ref()) => *r.get_ref() as u32,
        Some(r) => {
            v.err(
                &r.span(),
                "scenario",
                "replications must be between 1 and 10000",
            );
            1
        }
    };
    let duration = v.duration(&raw.duration, SimDuration::from_hours(8), "scenario");
    if duration == SimDuration::ZERO {
        v.err(
            &raw.duration.as_ref().map(|d| d.span()).unwrap_or(0..0),
            "scenario",
            "the duration must be above zero",
        );
    }
    let start = match &raw.start {
        None => SimDuration::from_hours(9),
        Some(s) => parse_clock(s.get_ref()).unwrap_or_else(|| {
            v.err(
                &s.span(),
                "scenario",
                format!("\"{}\" is not a time of day (e.g. \"09:00\")", s.get_ref()),
            );
            SimDuration::from_hours(9)
        }),
    };
    let bin = v.duration(&raw.bin, SimDuration::from_mins(15), "scenario");
    let bin_span = raw.bin.as_ref().map(|d| d.span()).unwrap_or(0..0);
    if bin == SimDuration::ZERO || bin > duration {
        v.err(
            &bin_span,
            "scenario",
            "the bin width must be above zero and at most the duration",
        );
    } else if duration.as_micros().div_ceil(bin.as_micros()) > MAX_BINS {
        v.err_help(
            &bin_span,
            "scenario",
            format!("a {bin} bin cuts the {duration} run into more than {MAX_BINS} bins"),
            format!(
                "use a bin of at least {}",
                SimDuration::from_micros(duration.as_micros().div_ceil(MAX_BINS))
            ),
        );
    }
    let conference_rule = match &raw.conference_rule {
        None => ConferenceRule::Organizer,
        Some(r) => v
            .word(
                r,
                "scenario",
                "conference rule",
                &[
                    ("organizer", ConferenceRule::Organizer),
                    ("first-joiner", ConferenceRule::FirstJoiner),
                ],
            )
            .unwrap_or(ConferenceRule::Organizer),
    };
    let bitrate_basis = match &raw.bitrate {
        None => crate::codec::Basis::Max,
        Some(b) => v
            .word(
                b,
                "scenario",
                "bitrate basis",
                &[
                    ("typical", crate::codec::Basis::Typical),
                    ("max", crate::codec::Basis::Max),
                    ("max-with-fec", crate::codec::Basis::MaxWithFec),
                ],
            )
            .unwrap_or(crate::codec::Basis::Max),
    };
    let reroute = v.reroute(raw.cac.as_ref());
    let hourly = v.profile(raw.profile.as_ref(), duration);
    let dependencies = v.dependencies(raw.dependencies.as_ref());
    let failures = raw
        .failures
        .iter()
        .filter_map(|f| v.failure(f, duration))
        .collect();

    let mut personas = vec![Persona::microsoft_user_model()];
    let mut persona_names = vec![(Persona::DEFAULT_NAME.to_string(), 0..0)];
    for p in &raw.personas {
        let label = element("persona", p.name.get_ref());
        if let Some((_, first)) = persona_names.iter().find(|(n, _)| n == p.name.get_ref()) {
            let msg = if first.is_empty() {
                "the name is the built-in persona's".to_string()
            } else {
                format!(
                    "the name is already taken (first used at {})",
                    file.locate(first)
                )
            };
            v.err(&p.name.span(), &label, msg);
            continue;
        }
        persona_names.push((p.name.get_ref().clone(), p.name.span()));
        personas.push(v.persona(p, &label));
    }

    let mut groups: Vec<Group> = Vec::new();
    let mut group_spans: Vec<Range<usize>> = Vec::new();
    for g in &raw.groups {
        let label = element("group", g.name.get_ref());
        if let Some(i) = groups.iter().position(|x| &x.name == g.name.get_ref()) {
            v.err(
                &g.name.span(),
                &label,
                format!(
                    "the name is already taken (first used at {})",
                    file.locate(&group_spans[i])
                ),
            );
            continue;
        }
        if topology.names.contains_key(g.name.get_ref()) {
            v.err(&g.name.span(), &label, "a group cannot share its name with a topology element (probes could not tell them apart)");
            continue;
        }
        let index_at_lan = |lan: NodeId| groups.iter().filter(|x| x.lan == lan).count();
        match v.group(g, &label, &personas, &index_at_lan) {
            Some(group) => {
                groups.push(group);
                group_spans.push(g.name.span());
            }
            // Reported here; probes naming it need not say it is missing.
            None => {
                v.broken.insert(g.name.get_ref().clone());
            }
        }
    }

    let scenario_names = ScenarioNames { groups: &groups };
    let mut probes: Vec<Probe> = Vec::new();
    for p in &raw.probes {
        let label = element("probe", p.name.get_ref());
        if probes.iter().any(|x| &x.name == p.name.get_ref()) {
            v.err(&p.name.span(), &label, "the name is already taken");
            continue;
        }
        if let Some(kind) = v.probe(p, &label, &scenario_names) {
            probes.push(Probe {
                name: p.name.get_ref().clone(),
                description: p.description.clone(),
                kind,
            });
        }
    }

    let mut variants: Vec<String> = Vec::new();
    for var in &raw.variants {
        let name = var.name.get_ref();
        if name == "baseline" || variants.contains(name) {
            v.err(
                &var.name.span(),
                &element("variant", name),
                "the name is already taken (`baseline` is the scenario as written)",
            );
            continue;
        }
        variants.push(name.clone());
    }
    v.distinct_names(raw);
    let sweep = raw.sweep.as_ref().map(|s| v.sweep(s, &variants, seed));

    let name = raw
        .name
        .as_ref()
        .map(|n| n.get_ref().clone())
        .unwrap_or_else(|| {
            let base = file.path.split(" (variant").next().unwrap_or(&file.path);
            std::path::Path::new(base)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into())
        });
    Some(Scenario {
        name,
        description: raw.description.clone(),
        seed,
        replications,
        duration,
        start,
        bin,
        conference_rule,
        bitrate_basis,
        reroute,
        hourly,
        dependencies,
        failures,
        groups,
        personas,
        probes,
        variants,
        sweep,
    })
}

struct ScenarioNames<'g> {
    groups: &'g [Group],
}

impl ScenarioNames<'_> {
    fn group(&self, name: &str) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(|i| GroupId(i as u32))
    }
}

struct Checker<'a> {
    file: &'a SourceFile,
    topology: &'a Topology,
    diags: &'a mut Diagnostics,
    broken: BTreeSet<String>,
}

impl Checker<'_> {
    fn err(&mut self, span: &Range<usize>, label: &str, message: impl Into<String>) {
        self.diags
            .error(self.file, span, Some(label.to_string()), message);
    }

    fn err_help(
        &mut self,
        span: &Range<usize>,
        label: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags
            .error(self.file, span, Some(label.to_string()), message)
            .help = Some(help.into());
    }

    fn word<T: Copy>(
        &mut self,
        w: &Name,
        label: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let text = w.get_ref().as_str();
        if let Some((_, v)) = options.iter().find(|(k, _)| *k == text) {
            return Some(*v);
        }
        let list: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        let msg = format!("\"{text}\" is not a {what} (expected {})", list.join(", "));
        match did_you_mean(text, list.iter().copied()) {
            Some(near) => self.err_help(&w.span(), label, msg, format!("did you mean \"{near}\"?")),
            None => self.err(&w.span(), label, msg),
        }
        None
    }

    fn duration(&mut self, q: &Option<Quantity>, default: SimDuration, label: &str) -> SimDuration {
        match q {
            None => default,
            Some(q) => self.checked_duration(q, label).unwrap_or(default),
        }
    }

    /// A duration of at most [`MAX_DURATION`], or `None` (reported).
    fn checked_duration(&mut self, q: &Quantity, label: &str) -> Option<SimDuration> {
        match parse_duration(q.get_ref()) {
            Ok(d) if d <= MAX_DURATION => Some(d),
            Ok(_) => {
                self.err_help(
                    &q.span(),
                    label,
                    format!(
                        "the duration \"{}\" is longer than callflow simulates",
                        q.get_ref()
                    ),
                    "durations are at most one year (\"365d\")",
                );
                None
            }
            Err(e) => {
                self.err(&q.span(), label, e.to_string());
                None
            }
        }
    }

    fn ratio(&mut self, q: &Option<Quantity>, default: Ratio, label: &str) -> Ratio {
        match q {
            None => default,
            Some(q) => q.get_ref().parse::<Ratio>().unwrap_or_else(|e| {
                self.err(&q.span(), label, e.to_string());
                default
            }),
        }
    }

    fn rate(&mut self, r: &Option<Spanned<f64>>, default: f64, label: &str) -> f64 {
        match r {
            None => default,
            Some(r) if r.get_ref().is_finite() && *r.get_ref() >= 0.0 => *r.get_ref(),
            Some(r) => {
                self.err(
                    &r.span(),
                    label,
                    "a rate must be a number from 0 (per user per day)",
                );
                default
            }
        }
    }

    fn profile(&mut self, p: Option<&RawProfile>, duration: SimDuration) -> Vec<f64> {
        let hours = duration.as_micros().div_ceil(3_600_000_000).max(1) as usize;
        let weights: Vec<f64> = match p {
            None if hours <= DEFAULT_HOURLY.len() => DEFAULT_HOURLY[..hours].to_vec(),
            None => DEFAULT_HOURLY
                .iter()
                .copied()
                .chain(std::iter::repeat(0.25))
                .take(hours)
                .collect(),
            Some(p) => {
                let w = p.hourly.get_ref();
                if w.iter().any(|x| !x.is_finite() || *x < 0.0) || !w.iter().any(|x| *x > 0.0) {
                    self.err(
                        &p.hourly.span(),
                        "profile",
                        "hourly weights must be numbers from 0, and at least one above 0",
                    );
                    return vec![1.0; hours];
                }
                if w.len() < hours {
                    self.err(
                        &p.hourly.span(),
                        "profile",
                        format!(
                            "the run covers {hours} hours but the profile gives {}",
                            w.len()
                        ),
                    );
                    return vec![1.0; hours];
                }
                w[..hours].to_vec()
            }
        };
        let mean = weights.iter().sum::<f64>() / weights.len() as f64;
        weights.iter().map(|w| w / mean).collect()
    }

    fn reroute(&mut self, cac: Option<&RawCac>) -> RerouteChoice {
        let Some(list) = cac.and_then(|c| c.reroute.as_ref()) else {
            return RerouteChoice {
                internet: true,
                pstn: true,
                voicemail: true,
            };
        };
        let mut r = RerouteChoice {
            internet: false,
            pstn: false,
            voicemail: false,
        };
        for w in list {
            match w.get_ref().as_str() {
                "internet" => r.internet = true,
                "pstn" => r.pstn = true,
                "voicemail" => r.voicemail = true,
                other => self.err(
                    &w.span(),
                    "cac",
                    format!("\"{other}\" is not a reroute (expected internet, pstn, voicemail)"),
                ),
            }
        }
        r
    }

    fn dependencies(&mut self, d: Option<&RawDependencies>) -> Dependencies {
        let mut size = |q: &Option<Quantity>, default: u64| match q {
            None => DataSize::bytes(default),
            Some(q) => q.get_ref().parse::<DataSize>().unwrap_or_else(|e| {
                self.diags.error(
                    self.file,
                    &q.span(),
                    Some("dependencies".into()),
                    e.to_string(),
                );
                DataSize::bytes(default)
            }),
        };
        let d = d.cloned().unwrap_or(RawDependencies {
            enabled: None,
            dns: None,
            crl: None,
            telemetry: None,
        });
        Dependencies {
            enabled: d.enabled.unwrap_or(true),
            dns: size(&d.dns, 2_000),
            crl: size(&d.crl, 20_000),
            telemetry: size(&d.telemetry, 50_000),
        }
    }

    fn failure(&mut self, f: &RawFailure, duration: SimDuration) -> Option<Failure> {
        let label = element("failure", f.element.get_ref());
        let name = f.element.get_ref();
        let link = match self.topology.names.get(name.as_str()) {
            Some(Named::Link(l)) => Some(*l),
            Some(Named::Circuit(c)) => self.topology.circuits.get(c.0 as usize).map(|c| c.primary),
            _ => None,
        };
        let Some(link) = link else {
            if self.broken.contains(name) {
                return None; // already reported where it is declared
            }
            let near = did_you_mean(name, self.topology.names.keys().map(String::as_str))
                .map(str::to_string);
            let msg = format!("\"{name}\" is not a link or circuit");
            match near {
                Some(n) => self.err_help(
                    &f.element.span(),
                    &label,
                    msg,
                    format!("did you mean \"{n}\"?"),
                ),
                None => self.err(&f.element.span(), &label, msg),
            }
            return None;
        };
        let at = self.checked_duration(&f.at, &label);
        let lasts = self.checked_duration(&f.lasts, &label);
        let (Some(at), Some(lasts)) = (at, lasts) else {
            return None;
        };
        if at >= duration || lasts == SimDuration::ZERO {
            self.err(
                &f.at.span(),
                &label,
                "a failure must start within the run and last more than zero",
            );
            return None;
        }
        Some(Failure {
            link,
            at,
            until: at + lasts,
        })
    }

    fn persona(&mut self, p: &RawPersona, label: &str) -> Persona {
        let mut persona = Persona::microsoft_user_model();
        persona.name = p.name.get_ref().clone();
        if let Some(c) = &p.codec {
            persona.codec = self
                .word(
                    c,
                    label,
                    "codec profile",
                    &[("sfb", CodecProfile::Sfb), ("teams", CodecProfile::Teams)],
                )
                .unwrap_or(CodecProfile::Sfb);
        }
        if let Some(r) = &p.rates {
            let d = persona.rates;
            persona.rates = Rates {
                peer_to_peer: self.rate(&r.peer_to_peer, d.peer_to_peer, label),
                meetings: self.rate(&r.meetings, d.meetings, label),
                pstn: self.rate(&r.pstn, d.pstn, label),
                federated: self.rate(&r.federated, d.federated, label),
                broadcast: self.rate(&r.broadcast, d.broadcast, label),
            };
        }
        if let Some(m) = &p.modalities {
            let d = persona.modalities;
            persona.modalities = ModalityMix {
                video: self.ratio(&m.video, d.video, label),
                sharing: self.ratio(&m.sharing, d.sharing, label),
                file_transfer: self.ratio(&m.file_transfer, d.file_transfer, label),
            };
        }
        if let Some(h) = &p.holding {
            let d = persona.holding;
            persona.holding = HoldingTimes {
                peer_to_peer: self.holding(&h.peer_to_peer, d.peer_to_peer, label),
                meeting: self.holding(&h.meeting, d.meeting, label),
                pstn: self.holding(&h.pstn, d.pstn, label),
                federated: self.holding(&h.federated, d.federated, label),
                broadcast: self.holding(&h.broadcast, d.broadcast, label),
            };
        }
        if let Some(sizes) = &p.meeting_size {
            let mut mix = Vec::new();
            for (k, w) in sizes.get_ref() {
                match k.parse::<u32>() {
                    Ok(n) if (2..=MAX_MEETING_SIZE).contains(&n) && w.is_finite() && (0.0..=1.0).contains(w) => mix.push((n, *w)),
                    _ => self.err(&sizes.span(), label, format!("meeting size \"{k}\" = {w}: sizes are whole numbers from 2 to {MAX_MEETING_SIZE}, probabilities between 0 and 1")),
                }
            }
            let total: f64 = mix.iter().map(|(_, w)| w).sum();
            if (total - 1.0).abs() > 1e-6 {
                self.err(
                    &sizes.span(),
                    label,
                    format!("meeting size probabilities sum to {total}, not 1"),
                );
            } else {
                mix.sort_by_key(|&(n, _)| n);
                persona.meeting_size = mix;
            }
        }
        if let Some(m) = &p.participants {
            let d = persona.participants;
            let mix = ParticipantMix {
                internal: self.ratio(&m.internal, d.internal, label),
                remote: self.ratio(&m.remote, d.remote, label),
                federated: self.ratio(&m.federated, d.federated, label),
            };
            let total = mix.internal.get() + mix.remote.get() + mix.federated.get();
            if (total - 1.0).abs() > 1e-6 {
                let span = [&m.internal, &m.remote, &m.federated]
                    .into_iter()
                    .flatten()
                    .next()
                    .map(|q| q.span())
                    .unwrap_or(p.name.span());
                self.err(
                    &span,
                    label,
                    format!("participant shares sum to {total}, not 1"),
                );
            } else {
                persona.participants = mix;
            }
        }
        persona
    }

    fn holding(&mut self, d: &Option<RawDistribution>, default: Holding, label: &str) -> Holding {
        let Some(d) = d else { return default };
        let mean = self.duration(&Some(d.mean.clone()), default.mean(), label);
        if mean == SimDuration::ZERO {
            self.err(
                &d.mean.span(),
                label,
                "a mean holding time must be above zero",
            );
            return default;
        }
        match d.distribution.get_ref().as_str() {
            "exponential" => {
                if d.sd.is_some() {
                    self.err(
                        &d.distribution.span(),
                        label,
                        "an exponential distribution takes only a `mean`",
                    );
                }
                Holding::Exponential { mean }
            }
            "lognormal" => match &d.sd {
                Some(sd) => {
                    let sd = self.duration(&Some(sd.clone()), SimDuration::ZERO, label);
                    Holding::Lognormal { mean, sd }
                }
                None => {
                    self.err(
                        &d.distribution.span(),
                        label,
                        "a lognormal distribution needs `sd`",
                    );
                    default
                }
            },
            other => {
                self.err(
                    &d.distribution.span(),
                    label,
                    format!("\"{other}\" is not a distribution (expected exponential, lognormal)"),
                );
                default
            }
        }
    }

    fn group(
        &mut self,
        g: &RawGroup,
        label: &str,
        personas: &[Persona],
        index_at_lan: &dyn Fn(NodeId) -> usize,
    ) -> Option<Group> {
        let t = self.topology;
        let at = g.at.get_ref();
        let place = match t.names.get(at.as_str()) {
            Some(Named::Node(n))
                if matches!(&t.node(*n).kind, NodeKind::Site(_))
                    && t.node(*n).domain == Domain::Customer =>
            {
                Place::Site(*n)
            }
            Some(Named::Remote(r)) => Place::Remote(*r),
            Some(Named::Organization(o)) => Place::Organization(*o),
            Some(_) => {
                self.err(
                    &g.at.span(),
                    label,
                    format!("\"{at}\" is not a site, remote location or organization"),
                );
                return None;
            }
            None => {
                if !self.broken.contains(at) {
                    let near =
                        did_you_mean(at, t.names.keys().map(String::as_str)).map(str::to_string);
                    let msg = format!("`at` \"{at}\" names no place");
                    match near {
                        Some(n) => self.err_help(
                            &g.at.span(),
                            label,
                            msg,
                            format!("did you mean \"{n}\"?"),
                        ),
                        None => self.err(&g.at.span(), label, msg),
                    }
                }
                return None;
            }
        };
        let lan = match place {
            Place::Site(n) => n,
            Place::Remote(r) => t.remotes[r.0 as usize].site,
            Place::Organization(o) => t.organizations[o.0 as usize].site,
        };
        let homing = match (place, &g.homed) {
            (Place::Organization(o), None) => Homing::Partner(o),
            (Place::Organization(_), Some(h)) => {
                self.err(
                    &h.span(),
                    label,
                    "users of another organization are homed by that organization; remove `homed`",
                );
                return None;
            }
            (_, None) => Homing::Online,
            (_, Some(h)) => self.word(
                h,
                label,
                "homing",
                &[("online", Homing::Online), ("on-prem", Homing::OnPrem)],
            )?,
        };
        if homing == Homing::OnPrem && t.tenant.front_end.is_none() {
            self.err_help(
                &g.homed.as_ref().map(|h| h.span()).unwrap_or(g.name.span()),
                label,
                "users are homed on-premises but the topology has no front-end server",
                "add a [[server]] with kind = \"front-end\" (a Hybrid deployment)",
            );
        }
        let persona = match &g.persona {
            None => PersonaId(0),
            Some(p) => match personas.iter().position(|x| &x.name == p.get_ref()) {
                Some(i) => PersonaId(i as u16),
                None => {
                    if !self.broken.contains(p.get_ref()) {
                        self.err(
                            &p.span(),
                            label,
                            format!("persona \"{}\" is not defined", p.get_ref()),
                        );
                    }
                    return None;
                }
            },
        };
        let count = match g.count.get_ref() {
            c if (1..=u32::MAX as i64).contains(c) => *c as u32,
            _ => {
                self.err(&g.count.span(), label, "a group needs at least one user");
                return None;
            }
        };
        let subnets = match &t.node(lan).kind {
            NodeKind::Site(s) => s.subnets.clone(),
            _ => vec![],
        };
        let k = index_at_lan(lan) as u64;
        let address =
            client_address(&subnets, false, k).or_else(|| client_address(&subnets, true, k));
        let Some(address) = address else {
            self.err(
                &g.at.span(),
                label,
                format!("\"{at}\" has no subnet with room for its clients"),
            );
            return None;
        };
        let address_v6 = if g.ipv6 {
            let a = client_address(&subnets, true, k);
            if a.is_none() {
                self.err(
                    &g.at.span(),
                    label,
                    format!("the group uses IPv6 but \"{at}\" has no IPv6 subnet"),
                );
            }
            a
        } else {
            None
        };
        if !has_way_out(t, lan) {
            self.err_help(&g.at.span(), label, format!("no path leads out of \"{at}\": its users cannot reach the Internet or Microsoft"), "link the site to a router that reaches an internet-access link or a circuit");
        }
        Some(Group {
            name: g.name.get_ref().clone(),
            place,
            lan,
            address,
            address_v6,
            homing,
            persona,
            count,
        })
    }

    fn group_ref(
        &mut self,
        n: &Name,
        label: &str,
        names: &ScenarioNames<'_>,
        role: &str,
    ) -> Option<GroupId> {
        match names.group(n.get_ref()) {
            Some(g) => Some(g),
            None => {
                if !self.broken.contains(n.get_ref()) {
                    let near =
                        did_you_mean(n.get_ref(), names.groups.iter().map(|g| g.name.as_str()))
                            .map(str::to_string);
                    let msg = format!("{role} \"{}\" is not a user group", n.get_ref());
                    match near {
                        Some(x) => {
                            self.err_help(&n.span(), label, msg, format!("did you mean \"{x}\"?"))
                        }
                        None => self.err(&n.span(), label, msg),
                    }
                }
                None
            }
        }
    }

    fn group_list(
        &mut self,
        list: &OneOrMany,
        label: &str,
        names: &ScenarioNames<'_>,
        role: &str,
    ) -> Option<Vec<GroupId>> {
        let mut out = Vec::new();
        let mut ok = true;
        for item in list.get_ref().items() {
            match self.group_ref(
                &Spanned::new(list.span(), item.to_string()),
                label,
                names,
                role,
            ) {
                Some(g) => out.push(g),
                None => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.err(&list.span(), label, format!("the {role} list is empty"));
            return None;
        }
        ok.then_some(out)
    }

    fn required<'n>(
        &mut self,
        field: &'n Option<Name>,
        name: &Name,
        label: &str,
        key: &str,
        kind: &str,
    ) -> Option<&'n Name> {
        if field.is_none() {
            self.err(&name.span(), label, format!("a {kind} probe needs `{key}`"));
        }
        field.as_ref()
    }

    fn probe(&mut self, p: &RawProbe, label: &str, names: &ScenarioNames<'_>) -> Option<ProbeKind> {
        let kinds = [
            ("flow", 0u8),
            ("peer-to-peer", 1),
            ("conference", 2),
            ("pstn", 3),
            ("federated", 4),
            ("broadcast", 5),
        ];
        let kind = match &p.kind {
            None if p.from.is_some() || p.to.is_some() => 0,
            None => {
                self.err(&p.name.span(), label, "a probe needs a `kind` (flow, peer-to-peer, conference, pstn, federated, broadcast)");
                return None;
            }
            Some(k) => self.word(k, label, "probe kind", &kinds)?,
        };
        let modalities = match &p.modalities {
            None => Modalities::default(),
            Some(list) => {
                let mut m = Modalities::default();
                for item in list.get_ref().items() {
                    match item {
                        "video" => m.video = true,
                        "sharing" => m.sharing = true,
                        "file-transfer" => m.file_transfer = true,
                        "audio" => {}
                        other => self.err(&list.span(), label, format!("\"{other}\" is not a modality (expected audio, video, sharing, file-transfer)")),
                    }
                }
                m
            }
        };
        match kind {
            0 => {
                let from = self.required(&p.from, &p.name, label, "from", "flow")?;
                let to = self.required(&p.to, &p.name, label, "to", "flow")?;
                let from = self.flow_end(from, label, names)?;
                let to = self.flow_end(to, label, names)?;
                let protocol = match &p.protocol {
                    None => Protocol::Udp,
                    Some(x) => self.word(
                        x,
                        label,
                        "protocol",
                        &[("udp", Protocol::Udp), ("tcp", Protocol::Tcp)],
                    )?,
                };
                let port = match &p.port {
                    Some(x) if (1..=65_535).contains(x.get_ref()) => *x.get_ref() as u16,
                    Some(x) => {
                        self.err(&x.span(), label, "a port must be between 1 and 65535");
                        return None;
                    }
                    None => {
                        self.err(
                            &p.name.span(),
                            label,
                            "a flow probe needs a destination `port`",
                        );
                        return None;
                    }
                };
                let ipv6 = match &p.family {
                    None => false,
                    Some(f) => self.word(
                        f,
                        label,
                        "address family",
                        &[("ipv4", false), ("ipv6", true)],
                    )?,
                };
                Some(ProbeKind::Flow {
                    from,
                    to,
                    protocol,
                    port,
                    ipv6,
                })
            }
            1 => {
                let caller = self.required(&p.caller, &p.name, label, "caller", "peer-to-peer")?;
                let callee = self.required(&p.callee, &p.name, label, "callee", "peer-to-peer")?;
                let caller = self.group_ref(caller, label, names, "caller")?;
                let callee = self.group_ref(callee, label, names, "callee")?;
                Some(ProbeKind::PeerToPeer {
                    caller,
                    callee,
                    modalities,
                })
            }
            2 => {
                let organizer =
                    self.required(&p.organizer, &p.name, label, "organizer", "conference")?;
                let Some(list) = &p.participants else {
                    self.err(
                        &p.name.span(),
                        label,
                        "a conference probe needs `participants`",
                    );
                    return None;
                };
                if let Some(Named::Organization(o)) =
                    self.topology.names.get(organizer.get_ref()).copied()
                {
                    if self.topology.organizations[o.0 as usize].kind != OrgKind::OnPrem {
                        self.err(
                            &organizer.span(),
                            label,
                            "only an on-prem organization hosts conferences on its own servers",
                        );
                        return None;
                    }
                    let participants = self.group_list(list, label, names, "participant")?;
                    return Some(ProbeKind::PartnerConference {
                        host: o,
                        participants,
                    });
                }
                let organizer = self.group_ref(organizer, label, names, "organizer")?;
                let mut participants = self.group_list(list, label, names, "participant")?;
                if !participants.contains(&organizer) {
                    participants.insert(0, organizer);
                }
                Some(ProbeKind::Conference {
                    organizer,
                    participants,
                    modalities,
                })
            }
            3 => {
                let caller = self.required(&p.caller, &p.name, label, "caller", "pstn")?;
                let caller = self.group_ref(caller, label, names, "caller")?;
                let via = match &p.via {
                    None => None,
                    Some(x) => Some(self.word(
                        x,
                        label,
                        "PSTN route",
                        &[
                            ("phone-system", PstnRoute::PhoneSystem),
                            ("cloud-connector", PstnRoute::CloudConnector),
                            ("gateway", PstnRoute::Gateway),
                        ],
                    )?),
                };
                Some(ProbeKind::Pstn { caller, via })
            }
            4 => {
                let caller = self.required(&p.caller, &p.name, label, "caller", "federated")?;
                let partner = self.required(&p.partner, &p.name, label, "partner", "federated")?;
                let caller = self.group_ref(caller, label, names, "caller")?;
                let partner_id = self.group_ref(partner, label, names, "partner")?;
                if !matches!(
                    names.groups[partner_id.0 as usize].place,
                    Place::Organization(_)
                ) {
                    self.err(
                        &partner.span(),
                        label,
                        format!(
                            "\"{}\" is not a group at another organization",
                            partner.get_ref()
                        ),
                    );
                    return None;
                }
                Some(ProbeKind::Federated {
                    caller,
                    partner: partner_id,
                })
            }
            _ => {
                let organizer =
                    self.required(&p.organizer, &p.name, label, "organizer", "broadcast")?;
                let organizer = self.group_ref(organizer, label, names, "organizer")?;
                let Some(list) = &p.attendees else {
                    self.err(&p.name.span(), label, "a broadcast probe needs `attendees`");
                    return None;
                };
                let attendees = self.group_list(list, label, names, "attendee")?;
                Some(ProbeKind::Broadcast {
                    organizer,
                    attendees,
                })
            }
        }
    }

    fn flow_end(&mut self, n: &Name, label: &str, names: &ScenarioNames<'_>) -> Option<FlowEnd> {
        if let Some(g) = names.group(n.get_ref()) {
            return Some(FlowEnd::Group(g));
        }
        match self.topology.node_named(n.get_ref()) {
            Some(node) => Some(FlowEnd::Node(node)),
            None => {
                let near = did_you_mean(
                    n.get_ref(),
                    names
                        .groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .chain(self.topology.names.keys().map(String::as_str)),
                )
                .map(str::to_string);
                let msg = format!("\"{}\" is neither a user group nor an element", n.get_ref());
                match near {
                    Some(x) => {
                        self.err_help(&n.span(), label, msg, format!("did you mean \"{x}\"?"))
                    }
                    None => self.err(&n.span(), label, msg),
                }
                None
            }
        }
    }

    /// Groups, personas, probes and variants share one namespace, so a
    /// variant's `"<name>.<field>"` patch can only mean one thing.
    fn distinct_names(&mut self, raw: &RawScenario) {
        let mut seen: std::collections::BTreeMap<&str, &'static str> =
            std::collections::BTreeMap::new();
        let named = raw
            .groups
            .iter()
            .map(|g| (&g.name, "group"))
            .chain(raw.personas.iter().map(|p| (&p.name, "persona")))
            .chain(raw.probes.iter().map(|p| (&p.name, "probe")))
            .chain(raw.variants.iter().map(|v| (&v.name, "variant")));
        for (name, kind) in named {
            match seen.get(name.get_ref().as_str()) {
                Some(first) if *first != kind => self.err(
                    &name.span(),
                    &element(kind, name.get_ref()),
                    format!("the name is already used by a {first}; groups, personas, probes and variants need distinct names"),
                ),
                Some(_) => {}
                None => {
                    seen.insert(name.get_ref().as_str(), kind);
                }
            }
        }
    }

    fn sweep(&mut self, s: &RawSweep, variants: &[String], seed: u64) -> Sweep {
        let mut names = Vec::new();
        for v in s.variants.iter().flatten() {
            if v.get_ref() == "baseline" || variants.contains(v.get_ref()) {
                names.push(v.get_ref().clone());
            } else {
                self.err(
                    &v.span(),
                    "sweep",
                    format!("\"{}\" is not a variant of this scenario", v.get_ref()),
                );
            }
        }
        if names.is_empty() {
            names.push("baseline".into());
        }
        let mut seeds = Vec::new();
        for x in s.seeds.iter().flatten() {
            if *x.get_ref() >= 0 {
                seeds.push(*x.get_ref() as u64);
            } else {
                self.err(&x.span(), "sweep", "seeds are whole numbers from 0");
            }
        }
        if seeds.is_empty() {
            seeds.push(seed);
        }
        Sweep {
            variants: names,
            seeds,
        }
    }
}

/// The `k`-th client address in the first subnet of the family: hosts start
/// at the tenth address so gateways and servers keep the first few.
fn client_address(subnets: &[IpNet], v6: bool, k: u64) -> Option<IpAddr> {
    let net = subnets.iter().find(|n| matches!(n, IpNet::V6(_)) == v6)?;
    let offset = 10 + k;
    match net {
        IpNet::V4(n) => {
            let size = 1u64 << (32 - n.prefix_len());
            (offset < size.saturating_sub(1)).then(|| {
                IpAddr::from(std::net::Ipv4Addr::from(
                    u32::from(n.network()) + offset as u32,
                ))
            })
        }
        IpNet::V6(n) => {
            let bits = 128 - n.prefix_len() as u32;
            let fits = bits >= 64 || offset < (1u64 << bits);
            fits.then(|| {
                IpAddr::from(std::net::Ipv6Addr::from(
                    u128::from(n.network()) + offset as u128,
                ))
            })
        }
    }
}

/// Whether some chain of forwarding elements leads from `lan` to the
/// Internet or a Microsoft region (routing policy aside).
fn has_way_out(t: &Topology, lan: NodeId) -> bool {
    let mut seen = BTreeSet::from([lan]);
    let mut queue = VecDeque::from([lan]);
    while let Some(n) = queue.pop_front() {
        let node = t.node(n);
        if matches!(node.kind, NodeKind::Internet | NodeKind::Region(_)) {
            return true;
        }
        if n != lan && !node.kind.forwards() && !matches!(node.kind, NodeKind::Site(_)) {
            continue;
        }
        for l in t.links_of(n) {
            let next = t.other_end(l, n);
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    false
}

/// `"09:00"` or `"9:30"` as an offset from midnight.
fn parse_clock(s: &str) -> Option<SimDuration> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then(|| SimDuration::from_mins(h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_parse() {
        assert_eq!(parse_clock("09:00"), Some(SimDuration::from_hours(9)));
        assert_eq!(parse_clock("9:30"), Some(SimDuration::from_mins(570)));
        assert_eq!(parse_clock("24:00"), None);
        assert_eq!(parse_clock("noon"), None);
    }

    #[test]
    fn client_addresses_skip_the_first_ten() {
        let subnets: Vec<IpNet> = vec![
            "10.1.0.0/24".parse().unwrap(),
            "2001:db8:1::/64".parse().unwrap(),
        ];
        assert_eq!(
            client_address(&subnets, false, 0),
            Some("10.1.0.10".parse().unwrap())
        );
        assert_eq!(
            client_address(&subnets, false, 2),
            Some("10.1.0.12".parse().unwrap())
        );
        assert_eq!(
            client_address(&subnets, true, 0),
            Some("2001:db8:1::a".parse().unwrap())
        );
        let tiny: Vec<IpNet> = vec!["10.1.0.0/30".parse().unwrap()];
        assert_eq!(client_address(&tiny, false, 0), None);
    }
}
