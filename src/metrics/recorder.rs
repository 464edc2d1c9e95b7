//! Streaming aggregation of one replication (or one shard of it).
//!
//! Owns [`Recorder`]. The engine tells it, in simulated-time order, when
//! constant-bitrate streams start and end, when one-shot transfers happen,
//! when calls start and end and how each offered call turned out. The
//! recorder keeps, for every accumulator (a link direction, a link
//! direction and class, a segment, a segment and class, the call count),
//! the current rate and the instant it last integrated to. A change of rate
//! first integrates the old rate up to now, exactly, into the bins it
//! spans, so the rate step function is integrated without sampling or
//! rounding (see [`Volume`]). Each interval between two changes is
//! integrated once, so the work is one step per event plus one per bin
//! boundary crossed, and memory is fixed when the recorder is made:
//! `links × 2 × (resolution bins + 9 × series bins)` volumes plus the
//! segments' and the concurrency's, whatever the number of calls.
//!
//! What is counted where is described in the [module docs](super).
//!
//! Leaves out deciding what streams exist (the engine) and any statistic
//! across bins (the summary).

use std::collections::BTreeMap;

use super::call_quality::StreamQuality;
use super::partial::{Bins, CallStats, PathKey, PathLabel, kind_index};
use super::{
    CLASSES, CallOutcome, Layout, LinkDir, MediaPath, Partial, Reason, Stream, Volume, class_index,
    link_dir_index, segment_index,
};
use crate::engine::call::CallKind;
use crate::model::{GroupId, LinkId, Owner, Scenario, Segment, Topology};
use crate::net::packet::TrafficClass;
use crate::queueing::QosClass;
use crate::time::{SimDuration, SimTime};
use crate::units::DataSize;

/// A call's media for [`Recorder::call_path`]: its hops each way and the
/// kind of path ICE settled.
pub type CallMedia<'a> = (&'a [(LinkId, LinkDir)], &'a [(LinkId, LinkDir)], MediaPath);

/// Integrates the streams and counts the calls of one replication; see the
/// module docs. Time only moves forward: every call passes the current
/// simulated instant, never earlier than the one before.
#[derive(Debug, Clone)]
pub struct Recorder {
    layout: Layout,
    /// Per link, the segment its traffic counts in, if any.
    segment_of: Vec<Option<usize>>,
    link_res: Binned<Volume>,
    link_class: Binned<Volume>,
    segment_res: Binned<Volume>,
    segment_class: Binned<Volume>,
    concurrency: Binned<u64>,
    /// Per (segment, reason), one bin: the whole run.
    reasons: Binned<Volume>,
    calls: Vec<CallStats>,
    /// Calls per (kind, groups, path label).
    paths: BTreeMap<PathKey, u64>,
    /// The latest instant seen, in µs.
    now: u64,
}

impl Recorder {
    /// A recorder for one replication of `scenario` on `topology`, every bin
    /// empty.
    pub fn new(topology: &Topology, scenario: &Scenario) -> Recorder {
        let layout = Layout::of(topology, scenario);
        let segment_of = topology
            .links()
            .map(|l| {
                let link = topology.link(l);
                counts_in_segment(link.owner).then(|| segment_index(link.segment))
            })
            .collect();
        let (res, bin, end) = (layout.resolution, layout.bin, layout.duration);
        let link_dirs = layout.link_dirs();
        let segments = Segment::ALL.len();
        Recorder {
            layout,
            segment_of,
            link_res: Binned::new(link_dirs, res, end),
            link_class: Binned::new(link_dirs * CLASSES.len(), bin, end),
            segment_res: Binned::new(segments, res, end),
            segment_class: Binned::new(segments * CLASSES.len(), bin, end),
            concurrency: Binned::new(1, res, end),
            reasons: Binned::new(segments * Reason::ALL.len(), end, end),
            calls: vec![CallStats::default(); CallKind::ALL.len()],
            paths: BTreeMap::new(),
            now: 0,
        }
    }

    /// The bins' shape.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// `s` starts flowing at `now`.
    ///
    /// # Panics
    /// If a hop names a link the recorder's topology does not have.
    pub fn stream_start(&mut self, now: SimTime, s: &Stream) {
        self.stream_start_for(now, s, Reason::Other);
    }

    /// `s` starts flowing at `now`, counted under `reason` in the segments
    /// it crosses.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn stream_start_for(&mut self, now: SimTime, s: &Stream, reason: Reason) {
        let now = self.advance_clock(now);
        let rate = s.rate.as_bps();
        self.change_rate(now, &s.hops, s.class, reason, rate, Change::Raise);
    }

    /// `s`, started earlier with [`Recorder::stream_start`], stops at `now`.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn stream_end(&mut self, now: SimTime, s: &Stream) {
        self.stream_end_for(now, s, Reason::Other);
    }

    /// `s`, started earlier with [`Recorder::stream_start_for`] and the
    /// same `reason`, stops at `now`.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn stream_end_for(&mut self, now: SimTime, s: &Stream, reason: Reason) {
        let now = self.advance_clock(now);
        let rate = s.rate.as_bps();
        self.change_rate(now, &s.hops, s.class, reason, rate, Change::Lower);
    }

    /// A one-shot amount (a file, a DNS lookup) over `hops`, booked whole in
    /// the bins holding `now`. Nothing is booked at or after the run's end.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn transfer(
        &mut self,
        now: SimTime,
        hops: &[(LinkId, LinkDir)],
        size: DataSize,
        class: TrafficClass,
    ) {
        self.transfer_for(now, hops, size, class, Reason::Other);
    }

    /// A one-shot amount, as [`Recorder::transfer`], counted under `reason`
    /// in the segments it crosses.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn transfer_for(
        &mut self,
        now: SimTime,
        hops: &[(LinkId, LinkDir)],
        size: DataSize,
        class: TrafficClass,
        reason: Reason,
    ) {
        let now = self.advance_clock(now);
        let v = Volume::from_bytes(size.as_bytes());
        let c = class_index(class);
        for &(link, dir) in hops {
            let i = link_dir_index(link, dir);
            self.link_res.book(i, now, v);
            self.link_class.book(i * CLASSES.len() + c, now, v);
        }
        let crossed = self.segments_crossed(hops);
        for s in (0..Segment::ALL.len()).filter(|s| crossed & (1 << s) != 0) {
            self.segment_res.book(s, now, v);
            self.segment_class.book(s * CLASSES.len() + c, now, v);
            self.reasons
                .book(s * Reason::ALL.len() + reason.index(), now, v);
        }
    }

    /// A call starts at `now` (for concurrency).
    pub fn call_started(&mut self, now: SimTime) {
        let now = self.advance_clock(now);
        self.concurrency.change(0, now, 1, Change::Raise);
    }

    /// A call started with [`Recorder::call_started`] ends at `now`.
    pub fn call_ended(&mut self, now: SimTime) {
        let now = self.advance_clock(now);
        self.concurrency.change(0, now, 1, Change::Lower);
    }

    /// Counts one offered call of `kind`: its outcome, its setup time if it
    /// got that far, and its media path if ICE settled one.
    pub fn call_outcome(
        &mut self,
        kind: CallKind,
        outcome: &CallOutcome,
        setup: Option<SimDuration>,
        media: Option<MediaPath>,
    ) {
        self.calls[kind_index(kind)].record(outcome, setup, media);
    }

    /// Counts one leg of `kind` with the predicted quality of its audio
    /// streams (see [`super::call_quality`]).
    pub fn leg_quality(&mut self, kind: CallKind, streams: &[StreamQuality]) {
        self.calls[kind_index(kind)].quality.record_leg(streams);
    }

    /// The load offered to a (link, direction) now, per QoS class in
    /// [`QosClass::ALL`] order, in bit/s: what every stream running there
    /// adds up to. A read of the current rates, no work.
    ///
    /// # Panics
    /// As [`Recorder::stream_start`].
    pub fn qos_load(&self, link: LinkId, dir: LinkDir) -> [u64; 4] {
        let base = link_dir_index(link, dir) * CLASSES.len();
        let mut load = [0u64; 4];
        for (c, class) in CLASSES.iter().enumerate() {
            let q = QosClass::of(*class).index();
            let rate = self.link_class.tracks[base + c].rate;
            load[q] = load[q].saturating_add(rate);
        }
        load
    }

    /// Counts where one offered call of `kind` between the users of groups
    /// `between` (caller and callee, organizer and participant, or the same
    /// group twice) ended up: the segments its media crosses (`media`: the
    /// hops each way and the kind of path, `None` when it set up none) and
    /// its outcome. Two runs on common random numbers compare these counts
    /// to find the calls whose path changed.
    pub fn call_path(
        &mut self,
        kind: CallKind,
        between: (GroupId, GroupId),
        media: Option<CallMedia<'_>>,
        outcome: &CallOutcome,
    ) {
        let label = PathLabel::new(
            media.map_or(0, |(forward, back, _)| {
                self.segments_crossed(forward) | self.segments_crossed(back)
            }),
            media.map(|(_, _, path)| path),
            outcome,
        );
        let key = PathKey {
            kind: kind_index(kind) as u8,
            groups: [between.0.0, between.1.0],
            label,
        };
        let n = self.paths.entry(key).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// Integrates every stream and call still running up to `end` (at most
    /// the run's duration) and hands over the bins. The partial's
    /// replication is 0 and its digest empty until the caller sets them.
    pub fn finish(mut self, end: SimTime) -> Partial {
        let end = self.advance_clock(end);
        self.link_res.close(end);
        self.link_class.close(end);
        self.segment_res.close(end);
        self.segment_class.close(end);
        self.concurrency.close(end);
        self.reasons.close(end);
        Partial::from_bins(
            self.layout,
            Bins {
                link_res: self.link_res.data,
                link_class: self.link_class.data,
                segment_res: self.segment_res.data,
                segment_class: self.segment_class.data,
                concurrency: self.concurrency.data,
                reasons: self.reasons.data,
                calls: self.calls,
                paths: self.paths,
            },
        )
    }

    /// The instant to book `now` at: time never runs backwards, so an
    /// instant earlier than one already seen (an engine bug) is taken as
    /// the latest one seen.
    fn advance_clock(&mut self, now: SimTime) -> u64 {
        let now = now.as_micros();
        debug_assert!(
            now >= self.now,
            "events reach the recorder in time order ({now} µs after {} µs)",
            self.now
        );
        self.now = self.now.max(now);
        self.now
    }

    fn change_rate(
        &mut self,
        now: u64,
        hops: &[(LinkId, LinkDir)],
        class: TrafficClass,
        reason: Reason,
        rate: u64,
        change: Change,
    ) {
        let c = class_index(class);
        for &(link, dir) in hops {
            let i = link_dir_index(link, dir);
            self.link_res.change(i, now, rate, change);
            self.link_class
                .change(i * CLASSES.len() + c, now, rate, change);
        }
        let crossed = self.segments_crossed(hops);
        for s in (0..Segment::ALL.len()).filter(|s| crossed & (1 << s) != 0) {
            self.segment_res.change(s, now, rate, change);
            self.segment_class
                .change(s * CLASSES.len() + c, now, rate, change);
            self.reasons
                .change(s * Reason::ALL.len() + reason.index(), now, rate, change);
        }
    }

    /// The segments `hops` cross, as a bit set by segment index: each once,
    /// however many of its links the path uses.
    fn segments_crossed(&self, hops: &[(LinkId, LinkDir)]) -> u8 {
        hops.iter().fold(0u8, |set, (link, _)| {
            match self.segment_of[link.0.index()] {
                Some(s) => set | (1 << s),
                None => set,
            }
        })
    }

    /// Every list the recorder holds, by length and capacity, so a test can
    /// see that recording allocates nothing.
    #[cfg(test)]
    fn footprint(&self) -> Vec<usize> {
        let mut sizes = vec![self.segment_of.len(), self.segment_of.capacity()];
        sizes.extend(self.link_res.footprint());
        sizes.extend(self.link_class.footprint());
        sizes.extend(self.segment_res.footprint());
        sizes.extend(self.segment_class.footprint());
        sizes.extend(self.concurrency.footprint());
        sizes.extend(self.reasons.footprint());
        sizes.extend([self.calls.len(), self.calls.capacity()]);
        sizes
    }
}

/// Whether a link run by `owner` counts toward its segment's total: every
/// owner but another organization (see the module docs of `metrics`).
fn counts_in_segment(owner: Owner) -> bool {
    match owner {
        Owner::Tenant | Owner::Public | Owner::Microsoft | Owner::Remote(_) => true,
        Owner::Organization(_) => false,
    }
}

/// Which way a rate changes.
#[derive(Clone, Copy, Debug)]
enum Change {
    Raise,
    Lower,
}

/// What a bin holds: a sum of rate × time products, exactly.
trait Accumulate: Copy + Default {
    /// The value of `sum` (in rate·µs).
    fn from_products(sum: u128) -> Self;
    /// Adds `other`.
    fn merge(&mut self, other: Self);
}

impl Accumulate for Volume {
    fn from_products(sum: u128) -> Volume {
        Volume::from_bit_micros(sum)
    }

    fn merge(&mut self, other: Volume) {
        self.add(other);
    }
}

/// Call-microseconds.
impl Accumulate for u64 {
    fn from_products(sum: u128) -> u64 {
        u64::try_from(sum).unwrap_or(u64::MAX)
    }

    fn merge(&mut self, other: u64) {
        *self = self.saturating_add(other);
    }
}

/// Many accumulators ("scopes") of one bin width over `[0, end)`: each
/// scope's track and its bins.
#[derive(Debug, Clone)]
struct Binned<T> {
    width: u64,
    end: u64,
    bins: usize,
    tracks: Vec<Track>,
    /// `scopes × bins`, scope-major.
    data: Vec<T>,
}

/// Where one scope stands: its rate since `since`, the bin `since` falls
/// in, and what that bin has gathered so far. The hot path (a change
/// within the current bin) touches only this track: no division, no write
/// into the large bin array, which is written once per bin crossed.
#[derive(Debug, Clone, Copy, Default)]
struct Track {
    rate: u64,
    since: u64,
    /// The bin holding `since`, valid while `since < bin_end`.
    bin: usize,
    /// Where that bin ends (0: not yet worked out).
    bin_end: u64,
    /// What the current bin has gathered and not yet written out, in
    /// rate·µs: a plain sum, so the hot path does no division.
    pending: u128,
}

impl<T: Accumulate> Binned<T> {
    fn new(scopes: usize, width: SimDuration, end: SimDuration) -> Self {
        let width = width.as_micros().max(1);
        let end = end.as_micros();
        let bins = end.div_ceil(width) as usize;
        Binned {
            width,
            end,
            bins,
            tracks: vec![Track::default(); scopes],
            data: vec![T::default(); scopes * bins],
        }
    }

    /// Integrates `scope`'s current rate from where it stopped to `now`
    /// (clipped to the run's end), bin by bin.
    fn advance(&mut self, scope: usize, now: u64) {
        let now = now.min(self.end);
        let track = &mut self.tracks[scope];
        let mut t = track.since;
        if now <= t {
            return;
        }
        track.since = now;
        if track.rate == 0 {
            return;
        }
        while t < now {
            if t >= track.bin_end {
                let base = scope * self.bins;
                let pending = std::mem::take(&mut track.pending);
                self.data[base + track.bin].merge(T::from_products(pending));
                track.bin = (t / self.width) as usize;
                track.bin_end = ((track.bin as u64 + 1) * self.width).min(self.end);
            }
            let stop = track.bin_end.min(now);
            let product = u128::from(track.rate) * u128::from(stop - t);
            track.pending = track.pending.saturating_add(product);
            t = stop;
        }
    }

    fn change(&mut self, scope: usize, now: u64, by: u64, change: Change) {
        self.advance(scope, now);
        let rate = &mut self.tracks[scope].rate;
        match change {
            Change::Raise => *rate = rate.saturating_add(by),
            Change::Lower => {
                debug_assert!(*rate >= by, "only what started can end");
                *rate = rate.saturating_sub(by);
            }
        }
    }

    /// Integrates every scope to `now` and writes out what is pending.
    fn close(&mut self, now: u64) {
        for scope in 0..self.tracks.len() {
            self.advance(scope, now);
            let track = &mut self.tracks[scope];
            let pending = std::mem::take(&mut track.pending);
            self.data[scope * self.bins + track.bin].merge(T::from_products(pending));
        }
    }

    #[cfg(test)]
    fn footprint(&self) -> [usize; 4] {
        [
            self.tracks.len(),
            self.tracks.capacity(),
            self.data.len(),
            self.data.capacity(),
        ]
    }
}

impl Binned<Volume> {
    /// Adds `v` to `scope`'s bin holding `now`, if `now` is inside the run.
    fn book(&mut self, scope: usize, now: u64, v: Volume) {
        if now < self.end {
            let k = (now / self.width) as usize;
            self.data[scope * self.bins + k].add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures::{multi_site, path, scenario, with_partner};
    use crate::metrics::{MediaPathKind, Reroute};
    use crate::units::Bitrate;
    use proptest::prelude::*;

    fn secs(s: u64) -> SimTime {
        SimTime::from_micros(s * 1_000_000)
    }

    fn eight_hours() -> Scenario {
        scenario(SimDuration::from_hours(8), SimDuration::from_mins(15))
    }

    fn bytes(bins: &[Volume]) -> Vec<u64> {
        bins.iter().map(|v| v.bytes()).collect()
    }

    #[test]
    fn each_segments_reasons_add_up_to_its_total() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let home = Stream {
            hops: path(&t, &["hq-inet-nat", "internet"]).into(),
            rate: Bitrate::kbps(64),
            class: TrafficClass::Audio,
        };
        let office = Stream {
            hops: path(&t, &["hq", "hq-core", "hq-fw"]).into(),
            rate: Bitrate::kbps(100),
            class: TrafficClass::Video,
        };
        r.stream_start_for(secs(0), &home, Reason::OutsideUsers);
        r.stream_start(secs(0), &office);
        r.transfer_for(
            secs(10),
            &home.hops,
            DataSize::bytes(2_000),
            TrafficClass::Dependency,
            Reason::Dependencies,
        );
        r.stream_end_for(secs(100), &home, Reason::OutsideUsers);
        let p = r.finish(secs(200));
        let internet = |reason| p.segment_reason(Segment::Internet, reason);
        // 64 kbit/s for 100 s, and the lookup.
        assert_eq!(internet(Reason::OutsideUsers), Volume::from_bytes(800_000));
        assert_eq!(internet(Reason::Dependencies), Volume::from_bytes(2_000));
        assert_eq!(internet(Reason::Other), Volume::ZERO);
        // The untagged office stream counts as other, in its own segment.
        assert_eq!(
            p.segment_reason(Segment::Customer, Reason::Other),
            Volume::from_bytes(2_500_000)
        );
        for seg in Segment::ALL {
            let mut sum = Volume::ZERO;
            for reason in Reason::ALL {
                sum.add(p.segment_reason(seg, reason));
            }
            assert_eq!(sum, p.segment_total(seg), "{seg:?}");
        }
    }

    #[test]
    fn calls_are_counted_per_kind_groups_and_path() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let forward = path(
            &t,
            &["hq", "hq-core", "hq-fw", "hq-ce", "hq-inet-nat", "internet"],
        );
        let media = MediaPath {
            kind: MediaPathKind::Relay,
            tcp: false,
        };
        let (a, b) = (GroupId(0), GroupId(5));
        for _ in 0..3 {
            r.call_path(
                CallKind::PeerToPeer,
                (a, b),
                Some((&forward, &[], media)),
                &CallOutcome::Completed,
            );
        }
        let failed = CallOutcome::Failed {
            reason: "no working pair".into(),
        };
        r.call_path(CallKind::PeerToPeer, (a, b), None, &failed);
        let p = r.finish(secs(60));
        let counts: Vec<(String, u64)> = p
            .paths()
            .iter()
            .map(|(k, n)| {
                assert_eq!((k.call_kind(), k.groups), (CallKind::PeerToPeer, [0, 5]));
                (k.label.describe(), *n)
            })
            .collect();
        assert_eq!(
            counts,
            // Ordered by label: segments first (none before any).
            vec![
                ("none none failed".to_string(), 1),
                ("customer+internet relay/udp completed".to_string(), 3)
            ]
        );
    }

    #[test]
    fn a_known_stream_integrates_exactly_across_a_bin_boundary() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let hops = path(&t, &["hq-inet-nat", "internet"]);
        let s = Stream {
            hops: hops.clone().into(),
            rate: Bitrate::kbps(64),
            class: TrafficClass::Audio,
        };
        // 64 kbit/s from 0:30 to 2:00: 30 s in the first minute, 60 s in
        // the second, 8,000 bytes a second.
        r.stream_start(secs(30), &s);
        r.stream_end(secs(120), &s);
        let p = r.finish(secs(8 * 3600));
        let (link, dir) = hops[0];
        let res = p.link_resolution(link, dir);
        assert_eq!(res.len(), 480);
        assert_eq!(bytes(&res[..3]), vec![240_000, 480_000, 0]);
        assert_eq!(p.link_total(link, dir), Volume::from_bytes(720_000));
        let other = match dir {
            LinkDir::AToB => LinkDir::BToA,
            LinkDir::BToA => LinkDir::AToB,
        };
        assert_eq!(p.link_total(link, other), Volume::ZERO);
        // The 15-minute series holds it all in its first bin, as audio.
        let audio = p.link_series(link, dir, TrafficClass::Audio);
        assert_eq!(audio.len(), 32);
        assert_eq!(bytes(&audio[..2]), vec![720_000, 0]);
        assert!(
            p.link_series(link, dir, TrafficClass::Video)
                .iter()
                .all(|v| v.is_zero())
        );
        // hq-isp is an Internet-access link: the Internet segment carried it.
        assert_eq!(
            p.segment_total(Segment::Internet),
            Volume::from_bytes(720_000)
        );
        assert_eq!(p.segment_total(Segment::Customer), Volume::ZERO);
    }

    #[test]
    fn fractions_of_a_byte_are_carried_not_lost() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let hops = path(&t, &["hq", "hq-core"]);
        // A 1 bit/s stream for 1 s is an eighth of a byte; eight of them,
        // staggered across a bin boundary, make exactly one byte.
        let s = Stream {
            hops: hops.clone().into(),
            rate: Bitrate::bps(1),
            class: TrafficClass::Signaling,
        };
        for i in 0..8 {
            r.stream_start(SimTime::from_micros(59_000_000 + i * 100_000), &s);
        }
        for i in 0..8 {
            r.stream_end(SimTime::from_micros(60_000_000 + i * 100_000), &s);
        }
        let p = r.finish(secs(3600));
        let (link, dir) = hops[0];
        assert_eq!(p.link_total(link, dir), Volume::from_bytes(1));
        let res = p.link_resolution(link, dir);
        // Before the minute boundary: 8 × 1 s less 0.1 s × (0 + 1 + … + 7)
        // = 5.2 bit; after it, 2.8 bit. Neither bin holds a whole byte.
        assert_eq!(res[0].bit_micros(), 5_200_000);
        assert_eq!(res[1].bit_micros(), 2_800_000);
        assert_eq!((res[0].bytes(), res[1].bytes()), (0, 0));
    }

    #[test]
    fn a_stream_counts_once_in_each_segment_it_crosses() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        // Three customer links, then out through HQ's Internet line.
        let hops = path(
            &t,
            &[
                "chicago",
                "chicago-r",
                "hq-core",
                "hq-fw",
                "hq-ce",
                "hq-inet-nat",
                "internet",
            ],
        );
        assert_eq!(hops.len(), 6);
        let s = Stream {
            hops: hops.clone().into(),
            rate: Bitrate::kbps(100),
            class: TrafficClass::Video,
        };
        r.stream_start(secs(0), &s);
        r.stream_end(secs(10), &s);
        let p = r.finish(secs(60));
        let one = Volume::from_bytes(125_000);
        for &(link, dir) in &hops {
            assert_eq!(p.link_total(link, dir), one, "{}", t.link(link).name);
        }
        assert_eq!(p.segment_total(Segment::Customer), one);
        assert_eq!(p.segment_total(Segment::Internet), one);
        assert_eq!(p.segment_total(Segment::Microsoft), Volume::ZERO);
        assert_eq!(
            p.segment_series(Segment::Customer, TrafficClass::Video)[0],
            one
        );
    }

    #[test]
    fn other_organizations_links_are_reported_but_not_in_segment_totals() {
        let t = with_partner();
        let org_links: Vec<LinkId> = t
            .links()
            .filter(|&l| matches!(t.link(l).owner, Owner::Organization(_)))
            .collect();
        assert!(!org_links.is_empty());
        let mut r = Recorder::new(&t, &eight_hours());
        let hops: Vec<(LinkId, LinkDir)> = org_links.iter().map(|&l| (l, LinkDir::AToB)).collect();
        let s = Stream {
            hops: hops.clone().into(),
            rate: Bitrate::kbps(80),
            class: TrafficClass::Audio,
        };
        r.stream_start(secs(0), &s);
        r.stream_end(secs(1), &s);
        let p = r.finish(secs(60));
        for &(link, dir) in &hops {
            assert_eq!(p.link_total(link, dir), Volume::from_bytes(10_000));
        }
        for segment in Segment::ALL {
            assert_eq!(p.segment_total(segment), Volume::ZERO, "{segment}");
        }
    }

    #[test]
    fn a_remote_users_home_link_counts_as_internet() {
        let t = multi_site();
        let home_links: Vec<LinkId> = t
            .links()
            .filter(|&l| matches!(t.link(l).owner, Owner::Remote(_)))
            .collect();
        assert!(!home_links.is_empty());
        let mut r = Recorder::new(&t, &eight_hours());
        let s = Stream {
            hops: home_links.iter().map(|&l| (l, LinkDir::BToA)).collect(),
            rate: Bitrate::kbps(8),
            class: TrafficClass::Audio,
        };
        r.stream_start(secs(0), &s);
        let p = r.finish(secs(2));
        assert_eq!(
            p.segment_total(Segment::Internet),
            Volume::from_bytes(2_000)
        );
        assert_eq!(p.segment_total(Segment::Customer), Volume::ZERO);
    }

    #[test]
    fn transfers_land_whole_in_the_bin_of_their_instant() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let hops = path(&t, &["hq-inet-nat", "internet"]);
        r.transfer(
            secs(61),
            &hops,
            DataSize::bytes(1_500),
            TrafficClass::Dependency,
        );
        r.transfer(
            secs(8 * 3600),
            &hops,
            DataSize::bytes(9_999),
            TrafficClass::Dependency,
        );
        let p = r.finish(secs(8 * 3600));
        let (link, dir) = hops[0];
        assert_eq!(bytes(&p.link_resolution(link, dir)[..3]), vec![0, 1_500, 0]);
        assert_eq!(p.link_total(link, dir), Volume::from_bytes(1_500));
        assert_eq!(
            p.segment_series(Segment::Internet, TrafficClass::Dependency)[0],
            Volume::from_bytes(1_500)
        );
    }

    #[test]
    fn running_streams_are_integrated_to_the_end_and_no_further() {
        let t = multi_site();
        // A 10-minute run.
        let sc = scenario(SimDuration::from_mins(10), SimDuration::from_mins(5));
        let hops = path(&t, &["hq", "hq-core"]);
        let (link, dir) = hops[0];
        let s = Stream {
            hops: hops.into(),
            rate: Bitrate::kbps(8),
            class: TrafficClass::Audio,
        };
        let mut r = Recorder::new(&t, &sc);
        r.stream_start(secs(540), &s);
        let p = r.finish(secs(600));
        assert_eq!(p.link_total(link, dir), Volume::from_bytes(60_000));
        // Finishing late, or a stream starting after the end, adds nothing
        // beyond the run.
        let mut r = Recorder::new(&t, &sc);
        r.stream_start(secs(540), &s);
        r.stream_start(secs(700), &s);
        let late = r.finish(secs(900));
        assert_eq!(late.link_total(link, dir), Volume::from_bytes(60_000));
    }

    #[test]
    fn concurrency_is_call_time_per_resolution_bin() {
        let t = multi_site();
        let sc = scenario(SimDuration::from_mins(3), SimDuration::from_mins(3));
        let mut r = Recorder::new(&t, &sc);
        r.call_started(secs(0));
        r.call_started(secs(30));
        r.call_ended(secs(90));
        let p = r.finish(secs(180));
        // Minute 1: one call all along, a second for 30 s = 90 call-s.
        // Minute 2: the first all along, the second for 30 s = 90 call-s.
        // Minute 3: the first still running = 60 call-s.
        assert_eq!(p.concurrency(), &[90_000_000, 90_000_000, 60_000_000][..]);
    }

    #[test]
    fn offered_is_always_the_sum_of_the_outcomes() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let kind = CallKind::PeerToPeer;
        let direct = MediaPath {
            kind: MediaPathKind::Direct,
            tcp: false,
        };
        let relay_tcp = MediaPath {
            kind: MediaPathKind::Relay,
            tcp: true,
        };
        let ms = SimDuration::from_millis;
        r.call_outcome(kind, &CallOutcome::Completed, Some(ms(800)), Some(direct));
        r.call_outcome(
            kind,
            &CallOutcome::Completed,
            Some(ms(1_200)),
            Some(relay_tcp),
        );
        r.call_outcome(
            kind,
            &CallOutcome::Rerouted { via: Reroute::Pstn },
            Some(ms(2_000)),
            None,
        );
        for reason in ["cac-audio-limit", "cac-audio-limit", "no-route"] {
            r.call_outcome(
                kind,
                &CallOutcome::Blocked {
                    reason: reason.into(),
                },
                None,
                None,
            );
        }
        r.call_outcome(
            kind,
            &CallOutcome::Failed {
                reason: "no-working-pair".into(),
            },
            None,
            None,
        );
        r.call_outcome(CallKind::Pstn, &CallOutcome::Completed, None, None);
        let p = r.finish(secs(1));
        let c = p.calls(kind);
        assert_eq!(c.completed, 2);
        assert_eq!(c.rerouted.of(Reroute::Pstn), 1);
        assert_eq!(c.rerouted.total(), 1);
        assert_eq!(c.blocked.get("cac-audio-limit"), Some(&2));
        assert_eq!(c.blocked_total(), 3);
        assert_eq!(c.failed_total(), 1);
        assert_eq!(c.offered(), 7);
        assert_eq!(
            c.offered(),
            c.completed + c.rerouted.total() + c.blocked_total() + c.failed_total()
        );
        assert_eq!(c.media.direct.udp, 1);
        assert_eq!(c.media.relay.tcp, 1);
        assert_eq!((c.media.total(), c.media.tcp()), (2, 1));
        assert_eq!(c.setup_us.count(), 3);
        assert_eq!(c.setup_us.max(), Some(2_000_000));
        assert_eq!(p.calls(CallKind::Pstn).offered(), 1);
        assert_eq!(p.calls(CallKind::Conference).offered(), 0);
    }

    #[test]
    fn a_million_streams_do_not_grow_the_recorder() {
        let t = multi_site();
        let mut r = Recorder::new(&t, &eight_hours());
        let before = r.footprint();
        let paths = [
            path(&t, &["chicago", "chicago-r", "hq-core", "hq-fw"]),
            path(&t, &["hq-inet-nat", "internet"]),
            path(&t, &["london", "london-r", "london-nat", "internet"]),
        ];
        // The test's own queue of running streams; the recorder keeps none.
        let mut running = std::collections::VecDeque::new();
        for i in 0..1_000_000u64 {
            let s = Stream {
                hops: paths[(i % 3) as usize].clone().into(),
                rate: Bitrate::kbps(20 + i % 50),
                class: CLASSES[(i % 9) as usize],
            };
            // A new stream every 28.8 ms, each lasting 1.5 s.
            let start = SimTime::from_micros(i * 28_800);
            while running.front().is_some_and(|(end, _)| *end <= start) {
                let (end, s) = running.pop_front().expect("checked");
                r.stream_end(end, &s);
            }
            r.stream_start(start, &s);
            running.push_back((start + SimDuration::from_micros(1_500_000), s));
            r.call_outcome(
                CallKind::ALL[(i % 5) as usize],
                &CallOutcome::Failed {
                    reason: "no-working-pair".into(),
                },
                Some(SimDuration::from_micros(i % 5_000)),
                None,
            );
        }
        let mut last = SimTime::ZERO;
        for (end, s) in running {
            r.stream_end(end, &s);
            last = end;
        }
        assert_eq!(r.footprint(), before);
        // Nothing was lost on the way: 28.8 ms × 1,000,000 is the 8 hours.
        let p = r.finish(last);
        let (link, dir) = paths[1][0];
        let carried: u128 = (0..1_000_000u64)
            .filter(|i| i % 3 == 1)
            .map(|i| u128::from((20 + i % 50) * 1_000) * 1_500_000)
            .sum();
        // The last streams run past the end of the run and are cut there.
        let cut: u128 = (0..1_000_000u64)
            .filter(|i| i % 3 == 1 && i * 28_800 + 1_500_000 > 8 * 3_600_000_000)
            .map(|i| {
                u128::from((20 + i % 50) * 1_000)
                    * u128::from(i * 28_800 + 1_500_000 - 8 * 3_600_000_000)
            })
            .sum();
        assert_eq!(p.link_total(link, dir).bit_micros(), carried - cut);
    }

    /// A random stream: start (s), length (s), hops (link × 2 + direction),
    /// rate (bit/s), class index, and which of two shards records it.
    type Spec = (u64, u64, Vec<usize>, u64, usize, bool);

    fn streams() -> impl Strategy<Value = Vec<Spec>> {
        prop::collection::vec(
            (
                0u64..700,
                0u64..300,
                prop::collection::vec(0usize..64, 1..6),
                1u64..2_000_000,
                0usize..9,
                any::<bool>(),
            ),
            0..40,
        )
    }

    /// Feeds `streams` (those whose flag equals `shard`, or all) into a
    /// recorder in time order, with a transfer and a call per stream.
    fn record(t: &Topology, sc: &Scenario, streams: &[Spec], shard: Option<bool>) -> Partial {
        let links: Vec<LinkId> = t.links().collect();
        let mut events = Vec::new();
        for (i, (start, len, hops, rate, class, flag)) in streams.iter().enumerate() {
            if shard.is_some_and(|s| s != *flag) {
                continue;
            }
            let s = Stream {
                hops: hops
                    .iter()
                    .map(|&h| {
                        let dir = LinkDir::ALL[h % 2];
                        (links[(h / 2) % links.len()], dir)
                    })
                    .collect(),
                rate: Bitrate::bps(*rate),
                class: CLASSES[*class],
            };
            // Microsecond offsets so bins are cut at odd places.
            let begin = SimTime::from_micros(start * 1_000_000 + 7 * i as u64);
            let end = begin + SimDuration::from_micros(len * 1_000_000 + 13);
            events.push((begin, i, true, s.clone()));
            events.push((end, i, false, s));
        }
        events.sort_by_key(|(at, i, start, _)| (*at, !*start, *i));
        let mut r = Recorder::new(t, sc);
        for (at, i, start, s) in &events {
            if *start {
                r.stream_start(*at, s);
                r.call_started(*at);
                r.transfer(*at, &s.hops, DataSize::bytes(*i as u64 + 1), s.class);
                let outcome = match i % 4 {
                    0 => CallOutcome::Completed,
                    1 => CallOutcome::Rerouted {
                        via: Reroute::InternetEdge,
                    },
                    2 => CallOutcome::Blocked {
                        reason: "cac".into(),
                    },
                    _ => CallOutcome::Failed {
                        reason: format!("reason-{}", i % 3),
                    },
                };
                let media = MediaPath {
                    kind: crate::metrics::MEDIA_PATH_KINDS[i % 4],
                    tcp: i % 3 == 0,
                };
                r.call_outcome(
                    CallKind::ALL[i % 5],
                    &outcome,
                    Some(SimDuration::from_micros(*i as u64 * 977)),
                    Some(media),
                );
            } else {
                r.stream_end(*at, s);
                r.call_ended(*at);
            }
        }
        // After every event: the run itself ends at 750 s.
        r.finish(SimTime::from_micros(2_000_000_000))
    }

    fn sums_agree(p: &Partial) -> Result<(), TestCaseError> {
        // Every (link, direction) and segment: the resolution bins and the
        // class series hold the same exact total.
        let layout = p.layout();
        let exact = |bins: &[Volume]| bins.iter().map(|v| v.bit_micros()).sum::<u128>();
        for i in 0..layout.link_dirs() {
            let by_class: u128 = (0..CLASSES.len())
                .map(|c| exact(p.link_series_at(i, c)))
                .sum();
            prop_assert_eq!(exact(p.link_resolution_at(i)), by_class);
        }
        for s in Segment::ALL {
            let by_class: u128 = CLASSES.iter().map(|&c| exact(p.segment_series(s, c))).sum();
            prop_assert_eq!(exact(p.segment_resolution(s)), by_class);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn two_shards_merge_into_what_one_recorder_records(s in streams()) {
            let t = multi_site();
            // 12.5 minutes in 150 s bins: resolution 60 s, bins cut mid-way.
            let sc = scenario(SimDuration::from_secs(750), SimDuration::from_secs(150));
            let whole = record(&t, &sc, &s, None);
            let mut a = record(&t, &sc, &s, Some(true));
            let b = record(&t, &sc, &s, Some(false));
            let mut b_first = b.clone();
            a.merge(&b).unwrap();
            b_first.merge(&record(&t, &sc, &s, Some(true))).unwrap();
            prop_assert_eq!(&a, &whole);
            prop_assert_eq!(&b_first, &whole);
            prop_assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&whole).unwrap()
            );
            sums_agree(&whole)?;
        }

        #[test]
        fn a_links_bins_add_up_to_its_streams(s in streams()) {
            let t = multi_site();
            let sc = scenario(SimDuration::from_secs(750), SimDuration::from_secs(150));
            let p = record(&t, &sc, &s, None);
            // Expected: each stream's rate × its time inside the run, per
            // hop, plus the transfers booked inside the run.
            let links: Vec<LinkId> = t.links().collect();
            let end = 750_000_000u64;
            let mut expected = vec![0u128; links.len() * 2];
            for (i, (start, len, hops, rate, _, _)) in s.iter().enumerate() {
                let begin = start * 1_000_000 + 7 * i as u64;
                let stop = (begin + len * 1_000_000 + 13).min(end);
                for &h in hops {
                    let idx = link_dir_index(links[(h / 2) % links.len()], LinkDir::ALL[h % 2]);
                    if begin < end {
                        expected[idx] += u128::from(*rate) * u128::from(stop - begin);
                        expected[idx] += u128::from(i as u64 + 1) * 8_000_000;
                    }
                }
            }
            for (idx, want) in expected.iter().enumerate() {
                let got: u128 = p.link_resolution_at(idx).iter().map(|v| v.bit_micros()).sum();
                prop_assert_eq!(got, *want);
            }
        }
    }
}
