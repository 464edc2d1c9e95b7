//! Pending-event sets under the classic "hold" workload.
//!
//! Fill a set with n events at exponential times (mean 1 s, in µs), then
//! repeat: pop the earliest, push a successor at its time plus a fresh
//! exponential draw (seeded ChaCha8), with a 16-byte payload. Criterion times
//! one pop-and-push, so each figure is nanoseconds per hold operation.
//! `hold/increment_only` times the draw alone; it is inside every figure.
//!
//! Candidates: std's `BinaryHeap<Reverse<_>>` and a hand-written 4-ary heap,
//! both keyed on (time, seq); Brown's calendar queue with sorted days, keyed
//! on (time, seq); and the library's `EventQueue`, a monotone radix heap on
//! the time with FIFO buckets. Each must pop exactly what a binary heap on
//! (time, seq) pops, on a tie-heavy workload, before it is timed. The
//! library keeps only the winner; the others live here.
//!
//! `cargo bench --bench queue`, 2-core machine shared with other builds
//! (load average about 4.5), ns per hold operation (criterion's estimate):
//!
//! | n         | binary heap | 4-ary heap | calendar queue | radix heap |
//! |-----------|------------:|-----------:|---------------:|-----------:|
//! | 1 000     |         159 |        198 |            133 |        144 |
//! | 10 000    |         267 |        294 |            186 |        170 |
//! | 100 000   |         506 |        493 |            706 |        158 |
//! | 1 000 000 |       2 240 |      1 027 |          1 188 |        170 |
//!
//! Drawing the increment alone took 17 ns. On a quieter run every figure was
//! about half as large, with the same ranking (binary heap 87 → 898 ns,
//! radix heap 71 → 98 ns from 10^3 to 10^6). Only the radix heap stays flat:
//! its pushes append to one of a few hot buckets and its spills read a bucket
//! front to back, while the heaps and the calendar queue each touch memory
//! scattered over the whole set once it outgrows the caches.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use callflow::engine::queue::EventQueue;
use callflow::engine::rng::{Purpose, stream};
use callflow::time::SimTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

/// The 16-byte event the hold model carries.
type Payload = [u64; 2];

/// What the hold model needs of a candidate.
trait PendingSet: Sized {
    const NAME: &'static str;
    fn empty() -> Self;
    fn push(&mut self, at: SimTime, event: Payload);
    fn pop(&mut self) -> Option<(SimTime, Payload)>;
}

/// An event with the key the heaps and the calendar queue order on.
#[derive(Clone, Copy)]
struct Scheduled<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> Scheduled<E> {
    fn key(&self) -> (SimTime, u64) {
        (self.at, self.seq)
    }
}
impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// std's binary heap, min-ordered through `Reverse`.
struct StdHeap {
    heap: BinaryHeap<Reverse<Scheduled<Payload>>>,
    seq: u64,
}

impl PendingSet for StdHeap {
    const NAME: &'static str = "binary_heap";
    fn empty() -> Self {
        StdHeap {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
    fn push(&mut self, at: SimTime, event: Payload) {
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
        self.seq += 1;
    }
    fn pop(&mut self) -> Option<(SimTime, Payload)> {
        self.heap.pop().map(|Reverse(s)| (s.at, s.event))
    }
}

/// A 4-ary min-heap: half the depth of a binary heap. Sifts move a hole
/// rather than swapping, as std's heap does.
struct QuadHeap {
    v: Vec<Scheduled<Payload>>,
    seq: u64,
}

impl PendingSet for QuadHeap {
    const NAME: &'static str = "quaternary_heap";
    fn empty() -> Self {
        QuadHeap {
            v: Vec::new(),
            seq: 0,
        }
    }
    fn push(&mut self, at: SimTime, event: Payload) {
        let moving = Scheduled {
            at,
            seq: self.seq,
            event,
        };
        self.seq += 1;
        let mut i = self.v.len();
        self.v.push(moving);
        while i > 0 {
            let parent = (i - 1) / 4;
            if moving.key() >= self.v[parent].key() {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = moving;
    }
    fn pop(&mut self) -> Option<(SimTime, Payload)> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some((last.at, last.event));
        }
        let top = self.v[0];
        let len = self.v.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= len {
                break;
            }
            let mut best = first;
            for c in first + 1..(first + 4).min(len) {
                if self.v[c].key() < self.v[best].key() {
                    best = c;
                }
            }
            if self.v[best].key() >= last.key() {
                break;
            }
            self.v[i] = self.v[best];
            i = best;
        }
        self.v[i] = last;
        Some((top.at, top.event))
    }
}

/// The library's queue: a monotone radix heap.
impl PendingSet for EventQueue<Payload> {
    const NAME: &'static str = "radix_heap";
    fn empty() -> Self {
        EventQueue::new()
    }
    fn push(&mut self, at: SimTime, event: Payload) {
        EventQueue::push(self, at, event);
    }
    fn pop(&mut self) -> Option<(SimTime, Payload)> {
        EventQueue::pop(self)
    }
}

/// Brown's calendar queue: a year of `buckets.len()` days of `width` µs,
/// resized (and the day re-estimated) when the population doubles or halves.
struct CalendarQueue {
    /// Each day sorted by descending (time, seq), so its earliest is last.
    buckets: Vec<Vec<Scheduled<Payload>>>,
    width: u64,
    /// Index of the day being served and the end of that day in this year.
    day: usize,
    day_end: u64,
    last: u64,
    len: usize,
    seq: u64,
}

impl CalendarQueue {
    fn with_days(days: usize, width: u64, last: u64) -> Self {
        let mut q = CalendarQueue {
            buckets: (0..days).map(|_| Vec::new()).collect(),
            width,
            day: 0,
            day_end: 0,
            last,
            len: 0,
            seq: 0,
        };
        q.start_at(last);
        q
    }

    fn start_at(&mut self, t: u64) {
        let n = t / self.width;
        self.day = (n % self.buckets.len() as u64) as usize;
        self.day_end = (n + 1) * self.width;
    }

    fn insert(&mut self, s: Scheduled<Payload>) {
        let day = ((s.at.as_micros() / self.width) % self.buckets.len() as u64) as usize;
        let bucket = &mut self.buckets[day];
        let key = s.key();
        let pos = bucket.partition_point(|e| e.key() > key);
        bucket.insert(pos, s);
        self.len += 1;
    }

    fn take_next(&mut self) -> Option<Scheduled<Payload>> {
        if self.len == 0 {
            return None;
        }
        let days = self.buckets.len();
        for _ in 0..days {
            if let Some(e) = self.buckets[self.day].last()
                && e.at.as_micros() < self.day_end
            {
                break;
            }
            self.day = (self.day + 1) % days;
            self.day_end += self.width;
        }
        let due_now = self.buckets[self.day]
            .last()
            .is_some_and(|e| e.at.as_micros() < self.day_end);
        if !due_now {
            // A whole year without an event: jump straight to the earliest.
            let earliest = self
                .buckets
                .iter()
                .filter_map(|b| b.last())
                .map(|e| e.at.as_micros())
                .min()?;
            self.start_at(earliest);
        }
        let s = self.buckets[self.day].pop()?;
        self.len -= 1;
        self.last = s.at.as_micros();
        Some(s)
    }

    fn resize(&mut self, days: usize) {
        let width = self.sample_width();
        let mut next = CalendarQueue::with_days(days, width, self.last);
        next.seq = self.seq;
        for bucket in self.buckets.drain(..) {
            for s in bucket {
                next.insert(s);
            }
        }
        *self = next;
    }

    /// Three times the mean gap between the next few events, ignoring gaps
    /// over twice the first mean (Brown, 1988).
    fn sample_width(&mut self) -> u64 {
        let k = self.len.min(25);
        if k < 2 {
            return self.width;
        }
        let (day, day_end, last) = (self.day, self.day_end, self.last);
        let head: Vec<_> = (0..k).filter_map(|_| self.take_next()).collect();
        let gaps: Vec<u64> = head
            .windows(2)
            .map(|w| w[1].at.as_micros() - w[0].at.as_micros())
            .collect();
        let mean = gaps.iter().sum::<u64>() as f64 / gaps.len() as f64;
        let kept: Vec<u64> = gaps
            .iter()
            .copied()
            .filter(|&g| g as f64 <= 2.0 * mean)
            .collect();
        let mean = kept.iter().sum::<u64>() as f64 / kept.len().max(1) as f64;
        for s in head {
            self.insert(s);
        }
        (self.day, self.day_end, self.last) = (day, day_end, last);
        ((3.0 * mean).round() as u64).max(1)
    }
}

impl PendingSet for CalendarQueue {
    const NAME: &'static str = "calendar_queue";
    fn empty() -> Self {
        CalendarQueue::with_days(2, 1, 0)
    }
    fn push(&mut self, at: SimTime, event: Payload) {
        assert!(at.as_micros() >= self.last);
        let seq = self.seq;
        self.seq += 1;
        self.insert(Scheduled { at, seq, event });
        if self.len > 2 * self.buckets.len() {
            self.resize(2 * self.buckets.len());
        }
    }
    fn pop(&mut self) -> Option<(SimTime, Payload)> {
        let s = self.take_next()?;
        if self.buckets.len() > 2 && self.len < self.buckets.len() / 2 {
            self.resize(self.buckets.len() / 2);
        }
        Some((s.at, s.event))
    }
}

/// Mean gap between an event's pop and the event it schedules: one second.
const MEAN_HOLD_US: f64 = 1e6;

fn filled<Q: PendingSet>(n: usize, rng: &mut ChaCha8Rng, exp: &Exp<f64>) -> Q {
    let mut q = Q::empty();
    for i in 0..n as u64 {
        q.push(SimTime::from_micros(exp.sample(rng) as u64), [i, 0]);
    }
    q
}

/// One hold operation: take the earliest event, schedule its successor.
fn hold<Q: PendingSet>(q: &mut Q, rng: &mut ChaCha8Rng, exp: &Exp<f64>) -> SimTime {
    let (now, [a, b]) = q.pop().expect("the hold model keeps n events pending");
    let next = SimTime::from_micros(now.as_micros() + exp.sample(rng) as u64);
    q.push(next, [a + 1, b ^ now.as_micros()]);
    now
}

/// Before timing anything, every candidate must pop exactly what the
/// reference (a stable sort of (time, seq)) pops, on a workload with many ties.
fn agrees_with_reference<Q: PendingSet>() {
    let mut rng = stream(1, 0, Purpose::Arrivals);
    let coarse = Exp::new(1.0 / 3.0).expect("positive rate");
    let mut q = Q::empty();
    let mut reference: BinaryHeap<Reverse<Scheduled<Payload>>> = BinaryHeap::new();
    let mut seq = 0;
    for i in 0..2_000 {
        let at = SimTime::from_micros(coarse.sample(&mut rng) as u64);
        q.push(at, [i, 0]);
        reference.push(Reverse(Scheduled {
            at,
            seq,
            event: [i, 0],
        }));
        seq += 1;
    }
    for _ in 0..50_000 {
        let got = q.pop();
        let want = reference.pop().map(|Reverse(s)| (s.at, s.event));
        assert_eq!(got, want, "{} pops out of order", Q::NAME);
        let (now, [a, b]) = got.expect("non-empty");
        let at = SimTime::from_micros(now.as_micros() + coarse.sample(&mut rng) as u64);
        q.push(at, [a + 1, b]);
        reference.push(Reverse(Scheduled {
            at,
            seq,
            event: [a + 1, b],
        }));
        seq += 1;
    }
}

fn bench_one<Q: PendingSet>(c: &mut Criterion, sizes: &[usize]) {
    agrees_with_reference::<Q>();
    let exp = Exp::new(1.0 / MEAN_HOLD_US).expect("positive rate");
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(1));
    for &n in sizes {
        let mut rng = stream(42, 0, Purpose::Arrivals);
        let mut q: Q = filled(n, &mut rng, &exp);
        group.bench_function(BenchmarkId::new(Q::NAME, n), |b| {
            b.iter(|| black_box(hold(&mut q, &mut rng, &exp)))
        });
    }
    group.finish();
}

fn hold_model(c: &mut Criterion) {
    let sizes = [1_000, 10_000, 100_000, 1_000_000];
    let exp = Exp::new(1.0 / MEAN_HOLD_US).expect("positive rate");
    let mut rng = stream(42, 0, Purpose::Arrivals);
    c.bench_function("hold/increment_only", |b| {
        b.iter(|| black_box(exp.sample(&mut rng) as u64))
    });
    bench_one::<StdHeap>(c, &sizes);
    bench_one::<QuadHeap>(c, &sizes);
    bench_one::<EventQueue<Payload>>(c, &sizes);
    bench_one::<CalendarQueue>(c, &sizes);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hold_model
}
criterion_main!(benches);
