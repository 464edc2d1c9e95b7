//! One replication: simulated time, calls placed, admitted and streamed.
//!
//! Owns the event loop. Events — the next call arrival, a meeting
//! participant joining or leaving, a call ending, a link failing or coming
//! back — are taken from a pending-event set in (time, sequence) order. An
//! arrival's pieces are resolved (signaling, media, dependencies; cached),
//! admitted by call admission control, and turned into constant-bitrate
//! streams and one-shot transfers the recorder integrates. A session that
//! does not fit is rerouted as SfB does (§6.1): through the Internet and an
//! Edge (ICE told to avoid the full links), then PSTN, then voicemail, else
//! blocked. When a link fails or comes back, every call in progress that
//! crosses a changed link is resolved again under the new routing: moved,
//! or dropped if nothing works.
//!
//! The loop is bounded by a step budget, so a livelock is an error, never a
//! hang.
//!
//! Units: a conference or broadcast counts one offered "call" per
//! participant join (as SfB's CDR counts conference joins); a peer-to-peer,
//! federated or PSTN call counts once. Concurrency counts calls (a meeting is
//! one call from its start to its end).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::cac::{Cac, Demand, Refusal};
use super::call::{CallKind, CallRequest};
use super::path_quality::PathModel;
use super::queue::EventQueue;
use super::resolve::{Hops, HostKey, Key, Media, Path, Resolver, Value};
use super::workload::Workload;
use crate::calls::{Host, Planner};
use crate::codec::{Basis, Flow, Modality, file_transfer_size, signaling_budget, stream_rate};
use crate::metrics::{CallOutcome, Partial, Reason, Recorder, Reroute, Stream};
use crate::model::{CodecProfile, GroupId, LinkId, OrgKind, Place, PstnRoute, Scenario, Topology};
use crate::net::packet::TrafficClass;
use crate::time::{SimDuration, SimTime};
use crate::units::{Bitrate, DataSize};

/// Which reroutes call admission control may use, in SfB's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reroutes {
    /// Through the Internet and an Edge.
    pub internet: bool,
    /// Through the PSTN.
    pub pstn: bool,
    /// To voicemail.
    pub voicemail: bool,
}

/// What a run shares across its replications.
pub struct World<'a> {
    /// The topology.
    pub topology: &'a Topology,
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Cached resolution, per routing epoch.
    pub resolver: Resolver<'a>,
    /// When each routing epoch starts (the first at zero), its routing
    /// state's index, and the links down in it.
    pub epochs: Vec<(SimTime, usize, BTreeSet<LinkId>)>,
    /// Which figure of the codec tables streams use.
    pub basis: Basis,
    /// The reroutes allowed.
    pub reroutes: Reroutes,
    /// At most this many events per replication.
    pub step_budget: u64,
}

/// Why a replication could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// More events than the budget: a livelock, or a scenario far larger
    /// than intended.
    #[error(
        "replication {replication} exceeded its step budget of {budget} events at {at} of simulated time"
    )]
    StepBudget {
        /// Which replication.
        replication: u32,
        /// The budget.
        budget: u64,
        /// How far it got.
        at: SimTime,
    },
}

/// Counters of one replication beyond the recorder's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events processed.
    pub events: u64,
    /// Calls placed (requests from the workload).
    pub requests: u64,
    /// Calls in progress moved to another path when a link failed or came back.
    pub moved_by_failure: u64,
    /// Calls in progress dropped because nothing worked after a failure.
    pub dropped_by_failure: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Arrival,
    Join { call: u32, who: u16 },
    Leave { call: u32, who: u16 },
    End { call: u32 },
    Epoch(usize),
}

/// A constant-bitrate stream in progress, with what it books on CAC links
/// and the reason it is counted under.
#[derive(Debug, Clone)]
struct Active {
    stream: Stream,
    demand: Vec<Demand>,
    reason: Reason,
}

impl Active {
    /// Whether it crosses any of `links`.
    fn crosses(&self, links: &BTreeSet<LinkId>) -> bool {
        self.stream.hops.iter().any(|(l, _)| links.contains(l))
    }
}

/// A participant's streams.
#[derive(Debug, Clone)]
struct Leg {
    streams: Vec<Active>,
}

/// A call in progress.
#[derive(Debug, Clone)]
struct Call {
    request: CallRequest,
    host: Option<HostKey>,
    legs: Vec<Option<Leg>>,
}

/// Runs one replication, reporting simulated seconds done through `progress`.
pub fn replicate(
    world: &World<'_>,
    replication: u32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Partial, Counters), SimError> {
    let mut sim = Sim::new(world, replication);
    sim.run(progress)?;
    Ok((sim.recorder.finish(sim.end), sim.counters))
}

struct Sim<'w, 'a> {
    world: &'w World<'a>,
    replication: u32,
    end: SimTime,
    queue: EventQueue<Event>,
    workload: Workload,
    pending: Option<CallRequest>,
    recorder: Recorder,
    paths: PathModel,
    cac: Cac,
    calls: Vec<Option<Call>>,
    free: Vec<u32>,
    epoch: usize,
    counters: Counters,
}

/// How long a voicemail deposit lasts.
const VOICEMAIL: SimDuration = SimDuration::from_secs(30);

impl<'w, 'a> Sim<'w, 'a> {
    fn new(world: &'w World<'a>, replication: u32) -> Self {
        let (t, s) = (world.topology, world.scenario);
        Sim {
            world,
            replication,
            end: SimTime::ZERO + s.duration,
            queue: EventQueue::new(),
            workload: Workload::new(t, s, replication),
            pending: None,
            recorder: Recorder::new(t, s),
            paths: PathModel::new(t),
            cac: Cac::new(t),
            calls: Vec::new(),
            free: Vec::new(),
            epoch: 0,
            counters: Counters::default(),
        }
    }

    fn run(&mut self, progress: &(dyn Fn(u64) + Sync)) -> Result<(), SimError> {
        for (i, (at, _, _)) in self.world.epochs.iter().enumerate().skip(1) {
            self.queue.push(*at, Event::Epoch(i));
        }
        self.pull_arrival();
        let mut reported = 0u64;
        while let Some((now, event)) = self.queue.pop() {
            if now >= self.end {
                break;
            }
            self.counters.events += 1;
            if self.counters.events > self.world.step_budget {
                return Err(SimError::StepBudget {
                    replication: self.replication,
                    budget: self.world.step_budget,
                    at: now,
                });
            }
            let minute = now.as_micros() / 60_000_000;
            if minute > reported {
                progress((minute - reported) * 60);
                reported = minute;
            }
            match event {
                Event::Arrival => {
                    if let Some(req) = self.pending.take() {
                        self.arrive(now, req);
                    }
                    self.pull_arrival();
                }
                Event::Join { call, who } => self.join(now, call, who as usize),
                Event::Leave { call, who } => self.leave(now, call, who as usize),
                Event::End { call } => self.finish_call(now, call),
                Event::Epoch(e) => self.change_epoch(now, e),
            }
        }
        let total = self.world.scenario.duration.as_micros() / 1_000_000;
        progress(total.saturating_sub(reported * 60));
        Ok(())
    }

    fn pull_arrival(&mut self) {
        if let Some(req) = self.workload.next() {
            self.counters.requests += 1;
            self.queue.push(req.at, Event::Arrival);
            self.pending = Some(req);
        }
    }

    /// The routing state index of the current epoch.
    fn routing_state(&self) -> usize {
        self.world.epochs[self.epoch].1
    }

    fn resolve(&self, key: Key) -> Arc<Value> {
        self.world.resolver.get(self.routing_state(), &key)
    }

    fn profile(&self, g: GroupId) -> CodecProfile {
        let s = self.world.scenario;
        s.persona(s.group(g).persona).codec
    }

    // ----- arrivals -----------------------------------------------------------

    fn arrive(&mut self, now: SimTime, req: CallRequest) {
        match req.kind {
            CallKind::PeerToPeer | CallKind::Federated => self.two_party(now, req),
            CallKind::Pstn => self.pstn(now, req),
            CallKind::Conference | CallKind::Broadcast => self.meeting(now, req),
        }
    }

    fn store(&mut self, call: Call) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.calls[i as usize] = Some(call);
                i
            }
            None => {
                self.calls.push(Some(call));
                (self.calls.len() - 1) as u32
            }
        }
    }

    fn signaling(&self, key: Key) -> Result<Vec<Path>, String> {
        match &*self.resolve(key) {
            Value::Flows(f) => f.clone().map_err(|why| format!("signaling: {why}")),
            _ => unreachable!("signaling keys resolve to flows"),
        }
    }

    fn media(&self, key: Key) -> Result<Media, String> {
        match &*self.resolve(key) {
            Value::Media(m) => m.clone(),
            _ => unreachable!("media keys resolve to media"),
        }
    }

    fn host(&self, key: Key) -> Result<Host, String> {
        match &*self.resolve(key) {
            Value::Host(h) => h.clone(),
            _ => unreachable!("host keys resolve to hosts"),
        }
    }

    fn failed(&mut self, kind: CallKind, between: (GroupId, GroupId), reason: String) {
        let outcome = CallOutcome::Failed { reason };
        self.recorder.call_path(kind, between, None, &outcome);
        self.recorder.call_outcome(kind, &outcome, None, None);
    }

    /// Counts a call that set up `media` with `outcome`.
    fn succeeded(
        &mut self,
        kind: CallKind,
        between: (GroupId, GroupId),
        media: &Media,
        outcome: &CallOutcome,
    ) {
        let m = Some((&media.path.forward[..], &media.path.back[..], media.kind));
        self.recorder.call_path(kind, between, m, outcome);
        self.recorder
            .call_outcome(kind, outcome, Some(media.setup), Some(media.kind));
    }

    /// Why streams serving the users of `groups` in a call of `kind` would
    /// cross the Internet whatever the circuit (see [`Reason`]): the first
    /// that applies.
    fn reason(&self, kind: CallKind, groups: &[GroupId]) -> Reason {
        if kind == CallKind::Broadcast {
            return Reason::BroadcastStreaming;
        }
        let (t, s) = (self.world.topology, self.world.scenario);
        let org_kind = |g: &GroupId| match s.group(*g).place {
            Place::Organization(o) => t.organizations.get(usize::from(o.0)).map(|o| o.kind),
            _ => None,
        };
        if groups
            .iter()
            .any(|g| org_kind(g) == Some(OrgKind::SkypeConsumer))
        {
            Reason::ConsumerFederation
        } else if groups.iter().any(|g| org_kind(g) == Some(OrgKind::OnPrem)) {
            Reason::PartnerOnPrem
        } else if groups
            .iter()
            .any(|g| matches!(s.group(*g).place, Place::Remote(_)))
        {
            Reason::OutsideUsers
        } else {
            Reason::Other
        }
    }

    fn two_party(&mut self, now: SimTime, req: CallRequest) {
        let (a, b) = (req.participants[0].group, req.participants[1].group);
        let kind = req.kind;
        let signaling = self
            .signaling(Key::Signaling(a))
            .and_then(|x| self.signaling(Key::Signaling(b)).map(|y| (x, y)));
        let (sig_a, sig_b) = match signaling {
            Ok(s) => s,
            Err(why) => return self.failed(kind, (a, b), why),
        };
        let media = match self.media(Key::PeerToPeer(a, b, vec![])) {
            Ok(m) => m,
            Err(why) => return self.failed(kind, (a, b), why),
        };
        let profile = self.profile(a);
        let build = |sim: &Self, m: &Media| sim.two_way_streams(profile, kind, m, &req);
        let again = |sim: &Self, avoid: &[LinkId]| sim.media(Key::PeerToPeer(a, b, avoid.to_vec()));
        let (media, streams, outcome) = match self.admit_with_reroutes(again, media, &build) {
            Ok(x) => x,
            Err(refusal) => match self.pstn_reroute(&req, profile) {
                Some(x) => x,
                None => return self.blocked(kind, (a, b), refusal),
            },
        };
        let duration = match outcome {
            CallOutcome::Rerouted {
                via: Reroute::Voicemail,
            } => req.duration.min(VOICEMAIL),
            _ => req.duration,
        };
        self.succeeded(kind, (a, b), &media, &outcome);
        let (both, only_a, only_b) = (
            self.reason(kind, &[a, b]),
            self.reason(kind, &[a]),
            self.reason(kind, &[b]),
        );
        let mut all = tagged(streams, both);
        all.extend(tagged(self.signaling_streams(&sig_a), only_a));
        all.extend(tagged(self.signaling_streams(&sig_b), only_b));
        self.start_streams(now, &all);
        let spoken = match outcome {
            CallOutcome::Rerouted {
                via: Reroute::Pstn | Reroute::Voicemail,
            } => CallKind::Pstn,
            _ => kind,
        };
        self.leg_quality(kind, spoken, profile, &media);
        self.signaling_transfers(now, &sig_a, only_a);
        self.signaling_transfers(now, &sig_b, only_b);
        if req.modalities.file_transfer {
            self.recorder.transfer_for(
                now,
                &media.path.forward,
                file_transfer_size(),
                TrafficClass::FileTransfer,
                both,
            );
        }
        self.dependencies(now, a);
        self.dependencies(now, b);
        self.recorder.call_started(now);
        let call = self.store(Call {
            request: req,
            host: None,
            legs: vec![Some(Leg { streams: all })],
        });
        self.queue.push(now + duration, Event::End { call });
    }

    fn pstn(&mut self, now: SimTime, req: CallRequest) {
        let g = req.participants[0].group;
        let kind = req.kind;
        let routing = self.world.resolver.routing(self.routing_state());
        let route = Planner::new(self.world.topology, self.world.scenario, routing, now)
            .pstn_route(g, None);
        let host = match self.host(Key::PstnHost(route)) {
            Ok(h) => HostKey::from(&h),
            Err(why) => return self.failed(kind, (g, g), why),
        };
        let sig = match self.signaling(Key::Signaling(g)) {
            Ok(s) => s,
            Err(why) => return self.failed(kind, (g, g), why),
        };
        let media = match self.media(Key::ToHost(g, host.clone(), vec![])) {
            Ok(m) => m,
            Err(why) => return self.failed(kind, (g, g), why),
        };
        let profile = self.profile(g);
        let build = |sim: &Self, m: &Media| sim.hosted_streams(profile, kind, m, &req);
        let h = host.clone();
        let again =
            |sim: &Self, avoid: &[LinkId]| sim.media(Key::ToHost(g, h.clone(), avoid.to_vec()));
        let (media, mut streams, outcome) = match self.admit_with_reroutes(again, media, &build) {
            Ok(x) => x,
            Err(refusal) => return self.blocked(kind, (g, g), refusal),
        };
        self.succeeded(kind, (g, g), &media, &outcome);
        let reason = self.reason(kind, &[g]);
        streams.extend(self.signaling_streams(&sig));
        let streams = tagged(streams, reason);
        self.start_streams(now, &streams);
        self.leg_quality(kind, kind, profile, &media);
        self.signaling_transfers(now, &sig, reason);
        self.dependencies(now, g);
        self.recorder.call_started(now);
        let duration = req.duration;
        let call = self.store(Call {
            request: req,
            host: Some(host),
            legs: vec![Some(Leg { streams })],
        });
        self.queue.push(now + duration, Event::End { call });
    }

    fn meeting(&mut self, now: SimTime, req: CallRequest) {
        let host = match req.kind {
            CallKind::Conference => {
                let organizer = req.participants[0].group;
                match self.host(Key::ConferenceHost(organizer, organizer)) {
                    Ok(h) => Some(HostKey::from(&h)),
                    Err(why) => {
                        for p in &req.participants {
                            self.failed(req.kind, (organizer, p.group), why.clone());
                        }
                        return;
                    }
                }
            }
            _ => None,
        };
        let n = req.participants.len();
        let schedule: Vec<(SimDuration, SimDuration)> = req
            .participants
            .iter()
            .map(|p| (p.joins, p.leaves))
            .collect();
        let duration = req.duration;
        let call = self.store(Call {
            request: req,
            host,
            legs: vec![None; n],
        });
        self.recorder.call_started(now);
        for (who, (joins, leaves)) in schedule.into_iter().enumerate() {
            if joins == SimDuration::ZERO {
                self.join(now, call, who);
            } else {
                self.queue.push(
                    now + joins,
                    Event::Join {
                        call,
                        who: who as u16,
                    },
                );
            }
            self.queue.push(
                now + leaves,
                Event::Leave {
                    call,
                    who: who as u16,
                },
            );
        }
        self.queue.push(now + duration, Event::End { call });
    }

    fn join(&mut self, now: SimTime, call: u32, who: usize) {
        let Some(c) = self.calls[call as usize].as_ref() else {
            return;
        };
        let kind = c.request.kind;
        let g = c.request.participants[who].group;
        let between = (c.request.organizer, g);
        let host = c.host.clone();
        let req = c.request.clone();
        let profile = self.profile(g);
        let resolved = match &host {
            Some(h) => self
                .signaling(Key::ConferenceSignaling(g, h.clone()))
                .and_then(|sig| {
                    self.media(Key::ToHost(g, h.clone(), vec![]))
                        .map(|m| (sig, m))
                }),
            None => self.media(Key::Broadcast(g)).map(|m| (vec![], m)),
        };
        let (sig, media) = match resolved {
            Ok(x) => x,
            Err(why) => return self.failed(kind, between, why),
        };
        let build = |sim: &Self, m: &Media| sim.hosted_streams(profile, kind, m, &req);
        let admitted = match &host {
            Some(h) => {
                let h = h.clone();
                let again = |sim: &Self, avoid: &[LinkId]| {
                    sim.media(Key::ToHost(g, h.clone(), avoid.to_vec()))
                };
                self.admit_with_reroutes(again, media, &build)
            }
            None => {
                let mut streams = build(self, &media);
                self.fit(&mut streams)
                    .map(|()| (media, streams, CallOutcome::Completed))
            }
        };
        let (media, mut streams, outcome) = match admitted {
            Ok(x) => x,
            Err(refusal) => return self.blocked(kind, between, refusal),
        };
        self.succeeded(kind, between, &media, &outcome);
        let reason = self.reason(kind, &[g]);
        streams.extend(self.signaling_streams(&sig));
        let streams = tagged(streams, reason);
        self.start_streams(now, &streams);
        self.leg_quality(kind, kind, profile, &media);
        self.signaling_transfers(now, &sig, reason);
        self.dependencies(now, g);
        if let Some(c) = self.calls[call as usize].as_mut() {
            c.legs[who] = Some(Leg { streams });
        }
    }

    fn leave(&mut self, now: SimTime, call: u32, who: usize) {
        let leg = self.calls[call as usize]
            .as_mut()
            .and_then(|c| c.legs[who].take());
        if let Some(leg) = leg {
            self.stop_streams(now, &leg.streams);
        }
    }

    fn finish_call(&mut self, now: SimTime, call: u32) {
        let Some(c) = self.calls[call as usize].take() else {
            return;
        };
        for leg in c.legs.into_iter().flatten() {
            self.stop_streams(now, &leg.streams);
        }
        self.recorder.call_ended(now);
        self.free.push(call);
    }

    fn blocked(&mut self, kind: CallKind, between: (GroupId, GroupId), refusal: Refusal) {
        let t = self.world.topology;
        let reason = format!(
            "{} bandwidth policy on {}{}",
            if refusal.class == TrafficClass::Video {
                "video"
            } else {
                "audio"
            },
            t.link(refusal.link).name,
            if refusal.per_session {
                " (per-session limit)"
            } else {
                ""
            }
        );
        let outcome = CallOutcome::Blocked { reason };
        self.recorder.call_path(kind, between, None, &outcome);
        self.recorder.call_outcome(kind, &outcome, None, None);
    }

    // ----- admission --------------------------------------------------------

    /// Admits streams for `media`; when audio does not fit, asks ICE again
    /// to avoid the full links (the Internet and an Edge), up to three links.
    /// Video that does not fit is dropped from the call, which goes on audio only.
    fn admit_with_reroutes(
        &self,
        again: impl Fn(&Self, &[LinkId]) -> Result<Media, String>,
        media: Media,
        build: &dyn Fn(&Self, &Media) -> Vec<Active>,
    ) -> Result<(Media, Vec<Active>, CallOutcome), Refusal> {
        let mut streams = build(self, &media);
        let refusal = match self.fit(&mut streams) {
            Ok(()) => return Ok((media, streams, CallOutcome::Completed)),
            Err(refusal) => refusal,
        };
        if !self.world.reroutes.internet {
            return Err(refusal);
        }
        let mut avoid = vec![refusal.link];
        let mut last = refusal;
        for _ in 0..3 {
            avoid.sort();
            let Ok(m) = again(self, &avoid) else { break };
            let mut s = build(self, &m);
            match self.fit(&mut s) {
                Ok(()) => {
                    let via = Reroute::InternetEdge;
                    return Ok((m, s, CallOutcome::Rerouted { via }));
                }
                Err(r) => {
                    last = r;
                    avoid.push(r.link);
                }
            }
        }
        Err(last)
    }

    /// Checks streams against the policies, dropping video that does not fit.
    fn fit(&self, streams: &mut Vec<Active>) -> Result<(), Refusal> {
        loop {
            match self.cac.check(&demands(streams)) {
                Ok(()) => return Ok(()),
                Err(r) if r.class == TrafficClass::Video => {
                    streams.retain(|s| s.stream.class != TrafficClass::Video)
                }
                Err(r) => return Err(r),
            }
        }
    }

    /// A call that found no room: both parties through the PSTN, else the
    /// caller to voicemail.
    fn pstn_reroute(
        &self,
        req: &CallRequest,
        profile: CodecProfile,
    ) -> Option<(Media, Vec<Active>, CallOutcome)> {
        let host = self
            .host(Key::PstnHost(PstnRoute::PhoneSystem))
            .ok()
            .map(|h| HostKey::from(&h))?;
        let parties: Vec<GroupId> = req.participants.iter().map(|p| p.group).collect();
        if self.world.reroutes.pstn {
            let mut all = Vec::new();
            let mut first = None;
            for &g in &parties {
                let m = self.media(Key::ToHost(g, host.clone(), vec![])).ok()?;
                all.extend(self.hosted_streams(profile, CallKind::Pstn, &m, req));
                first.get_or_insert(m);
            }
            if let Some(m) = first
                && self.cac.check(&demands(&all)).is_ok()
            {
                let via = Reroute::Pstn;
                return Some((m, all, CallOutcome::Rerouted { via }));
            }
        }
        if self.world.reroutes.voicemail {
            let m = self.media(Key::ToHost(parties[0], host, vec![])).ok()?;
            let streams: Vec<Active> = self
                .hosted_streams(profile, CallKind::Pstn, &m, req)
                .into_iter()
                .filter(|s| s.stream.class == TrafficClass::Audio)
                .collect();
            if self.cac.check(&demands(&streams)).is_ok() {
                let via = Reroute::Voicemail;
                return Some((m, streams, CallOutcome::Rerouted { via }));
            }
        }
        None
    }

    // ----- streams ------------------------------------------------------------

    fn modalities(req: &CallRequest) -> Vec<Modality> {
        let mut v = vec![Modality::Audio];
        if req.modalities.video {
            v.push(Modality::Video);
        }
        if req.modalities.sharing {
            v.push(Modality::Sharing);
        }
        v
    }

    fn active(&self, hops: &Hops, rate: Bitrate, class: TrafficClass) -> Active {
        let demand = match class {
            TrafficClass::Audio | TrafficClass::Video if self.cac.active() => hops
                .iter()
                .map(|&(link, dir)| Demand {
                    link,
                    dir,
                    class,
                    rate,
                })
                .collect(),
            _ => vec![],
        };
        let stream = Stream {
            hops: hops.clone(),
            rate,
            class,
        };
        Active {
            stream,
            demand,
            reason: Reason::Other,
        }
    }

    /// Peer-to-peer: each modality both ways along the media path.
    fn two_way_streams(
        &self,
        profile: CodecProfile,
        kind: CallKind,
        m: &Media,
        req: &CallRequest,
    ) -> Vec<Active> {
        self.streams_for(profile, kind, m, &Self::modalities(req))
    }

    /// Client and server: the client's send rate up, its receive rate down.
    fn hosted_streams(
        &self,
        profile: CodecProfile,
        kind: CallKind,
        m: &Media,
        req: &CallRequest,
    ) -> Vec<Active> {
        let modalities = if kind == CallKind::Broadcast {
            vec![Modality::Audio, Modality::Video]
        } else {
            Self::modalities(req)
        };
        self.streams_for(profile, kind, m, &modalities)
    }

    fn streams_for(
        &self,
        profile: CodecProfile,
        kind: CallKind,
        m: &Media,
        modalities: &[Modality],
    ) -> Vec<Active> {
        let mut out = Vec::new();
        for &modality in modalities {
            for (flow, hops) in [(Flow::Up, &m.path.forward), (Flow::Down, &m.path.back)] {
                if let Some(rate) = stream_rate(profile, kind, modality, flow, self.world.basis) {
                    out.push(self.active(hops, rate, modality.class()));
                }
            }
        }
        out
    }

    /// Keep-alive streams on every signaling path.
    fn signaling_streams(&self, paths: &[Path]) -> Vec<Active> {
        let rate = signaling_budget().keepalive;
        paths
            .iter()
            .flat_map(|p| {
                [
                    self.active(&p.forward, rate, TrafficClass::Signaling),
                    self.active(&p.back, rate, TrafficClass::Signaling),
                ]
            })
            .collect()
    }

    fn start_streams(&mut self, now: SimTime, streams: &[Active]) {
        for s in streams {
            self.cac.add(&s.demand);
            self.recorder.stream_start_for(now, &s.stream, s.reason);
        }
    }

    /// Records a leg's predicted audio quality at its start, with its own
    /// streams already on the links: counted under the call's `kind`,
    /// predicted with the codec of `spoken` (a call rerouted to the PSTN
    /// speaks G.711).
    fn leg_quality(&mut self, kind: CallKind, spoken: CallKind, profile: CodecProfile, m: &Media) {
        let Some(codec) = crate::quality::audio_codec(profile, spoken) else {
            return;
        };
        let (streams, n) = self
            .paths
            .leg(&m.path.forward, &m.path.back, codec, &self.recorder);
        self.recorder.leg_quality(kind, &streams[..n]);
    }

    fn stop_streams(&mut self, now: SimTime, streams: &[Active]) {
        for s in streams {
            self.cac.remove(&s.demand);
            self.recorder.stream_end_for(now, &s.stream, s.reason);
        }
    }

    fn signaling_transfers(&mut self, now: SimTime, paths: &[Path], reason: Reason) {
        let setup = signaling_budget().setup;
        let class = TrafficClass::Signaling;
        for p in paths {
            self.recorder
                .transfer_for(now, &p.forward, setup, class, reason);
            self.recorder
                .transfer_for(now, &p.back, setup, class, reason);
        }
    }

    /// DNS (half each way), revocation lists (down) and telemetry (up).
    fn dependencies(&mut self, now: SimTime, g: GroupId) {
        let d = self.world.scenario.dependencies;
        if !d.enabled {
            return;
        }
        let value = self.resolve(Key::Dependencies(g));
        let Value::Flows(Ok(paths)) = &*value else {
            return;
        };
        let half = |x: DataSize| DataSize::bytes(x.as_bytes() / 2);
        for (i, p) in paths.iter().enumerate() {
            let (up, down) = match i {
                0 => (half(d.dns), half(d.dns)),
                1 => (DataSize::ZERO, d.crl),
                _ => (d.telemetry, DataSize::ZERO),
            };
            let (class, reason) = (TrafficClass::Dependency, Reason::Dependencies);
            self.recorder
                .transfer_for(now, &p.forward, up, class, reason);
            self.recorder
                .transfer_for(now, &p.back, down, class, reason);
        }
    }

    // ----- failures -------------------------------------------------------------

    /// A link failed or came back: calls in progress crossing a link whose
    /// state changed are resolved again under the new routing.
    fn change_epoch(&mut self, now: SimTime, epoch: usize) {
        let before = &self.world.epochs[self.epoch].2;
        let after = &self.world.epochs[epoch].2;
        let changed: BTreeSet<LinkId> = before.symmetric_difference(after).copied().collect();
        self.epoch = epoch;
        for i in 0..self.calls.len() {
            let crosses = self.calls[i].as_ref().is_some_and(|c| {
                c.legs
                    .iter()
                    .flatten()
                    .flat_map(|l| l.streams.iter())
                    .any(|s| s.crosses(&changed))
            });
            if crosses {
                self.move_call(now, i as u32, &changed);
            }
        }
    }

    fn move_call(&mut self, now: SimTime, call: u32, changed: &BTreeSet<LinkId>) {
        let Some(c) = self.calls[call as usize].clone() else {
            return;
        };
        let kind = c.request.kind;
        for (who, leg) in c.legs.iter().enumerate() {
            let Some(leg) = leg else { continue };
            let g = c.request.participants[who].group;
            let (signaling, media): (Vec<Active>, Vec<Active>) = leg
                .streams
                .iter()
                .cloned()
                .partition(|s| s.stream.class == TrafficClass::Signaling);
            let fresh: Option<Media> = match (kind, &c.host) {
                (CallKind::PeerToPeer | CallKind::Federated, _) => {
                    let b = c.request.participants[1].group;
                    self.media(Key::PeerToPeer(g, b, vec![])).ok()
                }
                (_, Some(h)) => self.media(Key::ToHost(g, h.clone(), vec![])).ok(),
                (_, None) => self.media(Key::Broadcast(g)).ok(),
            };
            self.stop_streams(now, &media);
            let profile = self.profile(g);
            // Media is the leg's first stream; its reason carries over.
            let reason = media.first().map_or(Reason::Other, |s| s.reason);
            let streams = match &fresh {
                Some(m) if matches!(kind, CallKind::PeerToPeer | CallKind::Federated) => {
                    self.two_way_streams(profile, kind, m, &c.request)
                }
                Some(m) => self.hosted_streams(profile, kind, m, &c.request),
                None => vec![],
            };
            let mut streams = tagged(streams, reason);
            if streams.is_empty() {
                self.stop_streams(now, &signaling);
                self.counters.dropped_by_failure += 1;
            } else {
                self.counters.moved_by_failure += 1;
                self.start_streams(now, &streams);
                streams.extend(self.follow_signaling(now, &c, who, reason, signaling, changed));
            }
            if let Some(cc) = self.calls[call as usize].as_mut() {
                cc.legs[who] = (!streams.is_empty()).then_some(Leg { streams });
            }
        }
    }

    /// A moved leg's signaling keepalives. Those clear of the changed links
    /// carry on; if any crosses one, the leg's signaling is resolved again
    /// under the new routing, each flow counted under the reason it was
    /// (a two-party call's under each party's own, a hosted leg's under
    /// its media's `reason`). Signaling that no longer resolves stops.
    fn follow_signaling(
        &mut self,
        now: SimTime,
        c: &Call,
        who: usize,
        reason: Reason,
        streams: Vec<Active>,
        changed: &BTreeSet<LinkId>,
    ) -> Vec<Active> {
        if !streams.iter().any(|s| s.crosses(changed)) {
            return streams;
        }
        self.stop_streams(now, &streams);
        let kind = c.request.kind;
        let g = c.request.participants[who].group;
        let keys: Vec<(Key, Reason)> = match (kind, &c.host) {
            (CallKind::PeerToPeer | CallKind::Federated, _) => c
                .request
                .participants
                .iter()
                .map(|p| (Key::Signaling(p.group), self.reason(kind, &[p.group])))
                .collect(),
            (CallKind::Pstn, _) => vec![(Key::Signaling(g), reason)],
            (_, Some(h)) => vec![(Key::ConferenceSignaling(g, h.clone()), reason)],
            (_, None) => vec![],
        };
        let mut out = Vec::new();
        for (key, reason) in keys {
            if let Ok(paths) = self.signaling(key) {
                out.extend(tagged(self.signaling_streams(&paths), reason));
            }
        }
        self.start_streams(now, &out);
        out
    }
}

/// `streams`, every one counted under `reason`.
fn tagged(mut streams: Vec<Active>, reason: Reason) -> Vec<Active> {
    for s in &mut streams {
        s.reason = reason;
    }
    streams
}

fn demands(streams: &[Active]) -> Vec<Demand> {
    streams
        .iter()
        .flat_map(|s| s.demand.iter().copied())
        .collect()
}
