//! The pending-event set.
//!
//! Owns [`EventQueue`]: events waiting for their simulated time, handed out
//! earliest first, and in insertion order (FIFO) among events due at the same
//! instant, so a run never depends on how ties happen to fall.
//!
//! Leaves out what an event is, cancelling (the engine can drop stale events
//! as they pop, say by a generation counter) and the clock itself: the time
//! of the event last popped is the engine's "now".
//!
//! # Why a radix heap
//!
//! A discrete-event engine never schedules into the past, so the queue is
//! *monotone*: every key pushed is at least the key last popped. A radix heap
//! (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) exploits exactly that. Under
//! the classic hold model (pop the earliest, push it again one exponential
//! second later) it costs about the same per event from 10^3 to 10^6 pending
//! events, where a binary heap, a 4-ary heap and a calendar queue slow down
//! several-fold once the set outgrows the caches. `benches/queue.rs` holds
//! the comparison and the figures.

use std::collections::VecDeque;

use crate::time::SimTime;

/// A monotone pending-event set, ordered by (time, insertion order).
///
/// Events are filed into 64 buckets by the highest bit in which their time
/// differs from the last popped time ("now"); events at exactly "now" wait in
/// a FIFO of their own. Popping takes from that FIFO; when it is empty, the
/// lowest non-empty bucket is spilled: now moves to its earliest time and
/// each of its events is filed again, into a strictly lower bucket. An event
/// therefore moves at most 64 times over its life, and in practice a few
/// times, as the log of its distance from now shrinks.
///
/// Same-time events keep their insertion order because they always share a
/// bucket (the bucket depends only on the time and now), every bucket is
/// appended to, and a spill walks its bucket front to back into buckets that
/// are empty at that moment.
///
/// Memory: buckets keep their capacity after a spill, so the queue holds on
/// to its peak size until it is dropped.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// The time of the last event popped, in µs; no event may be pushed earlier.
    now: u64,
    /// Events due at exactly `now`, in insertion order.
    due: VecDeque<E>,
    /// Bucket `b` holds events whose time differs from `now` first in bit `b`.
    buckets: [Vec<(u64, E)>; 64],
    /// Earliest time in each non-empty bucket.
    earliest: [u64; 64],
    /// Bit `b` is set while bucket `b` is non-empty.
    occupied: u64,
    len: usize,
}

impl<E> EventQueue<E> {
    /// An empty queue whose clock reads [`SimTime::ZERO`].
    pub fn new() -> Self {
        EventQueue {
            now: 0,
            due: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            earliest: [0; 64],
            occupied: 0,
            len: 0,
        }
    }

    /// Schedules `event` at `at`.
    ///
    /// Events at the same time pop in the order they were pushed.
    ///
    /// # Panics
    /// If `at` is earlier than the time of the last event popped. The engine
    /// only schedules at or after "now", so this is an engine bug, never the
    /// consequence of user input.
    pub fn push(&mut self, at: SimTime, event: E) {
        let at = at.as_micros();
        assert!(
            at >= self.now,
            "event scheduled in the past: at {at} us, but {} us has already been popped",
            self.now
        );
        self.file(at, event);
        self.len += 1;
    }

    /// Removes and returns the earliest event with its time; among events at
    /// the same time, the one pushed first.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.due.is_empty() {
            if self.occupied == 0 {
                return None;
            }
            self.spill_lowest();
        }
        let event = self.due.pop_front()?;
        self.len -= 1;
        Some((SimTime::from_micros(self.now), event))
    }

    /// The time of the event [`pop`](Self::pop) would return next.
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.due.is_empty() {
            Some(SimTime::from_micros(self.now))
        } else if self.occupied != 0 {
            Some(SimTime::from_micros(
                self.earliest[self.occupied.trailing_zeros() as usize],
            ))
        } else {
            None
        }
    }

    /// The number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn file(&mut self, at: u64, event: E) {
        if at == self.now {
            self.due.push_back(event);
            return;
        }
        let b = 63 - (at ^ self.now).leading_zeros() as usize;
        if self.occupied & (1 << b) == 0 {
            self.occupied |= 1 << b;
            self.earliest[b] = at;
        } else if at < self.earliest[b] {
            self.earliest[b] = at;
        }
        self.buckets[b].push((at, event));
    }

    /// Advances `now` to the earliest pending time and refiles the bucket
    /// holding it; that bucket's events all land in lower buckets or in `due`.
    fn spill_lowest(&mut self) {
        let b = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << b);
        self.now = self.earliest[b];
        let mut spill = std::mem::take(&mut self.buckets[b]);
        for (at, event) in spill.drain(..) {
            self.file(at, event);
        }
        // Hand the emptied buffer back so the bucket keeps its capacity.
        self.buckets[b] = spill;
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(us: u64) -> SimTime {
        SimTime::from_micros(us)
    }

    fn drain<E>(q: &mut EventQueue<E>) -> Vec<(u64, E)> {
        std::iter::from_fn(|| q.pop())
            .map(|(at, e)| (at.as_micros(), e))
            .collect()
    }

    #[test]
    fn earliest_first_whatever_the_push_order() {
        let mut q = EventQueue::new();
        for (at, name) in [(30, "c"), (10, "a"), (1 << 40, "e"), (20, "b"), (31, "d")] {
            q.push(t(at), name);
        }
        assert_eq!(
            drain(&mut q),
            [(10, "a"), (20, "b"), (30, "c"), (31, "d"), (1 << 40, "e")]
        );
    }

    #[test]
    fn same_time_events_pop_in_push_order() {
        let mut q = EventQueue::new();
        q.push(t(5), 1);
        q.push(t(9), 10);
        q.push(t(5), 2);
        q.push(t(0), 0);
        q.push(t(5), 3);
        q.push(t(9), 11);
        assert_eq!(
            drain(&mut q),
            [(0, 0), (5, 1), (5, 2), (5, 3), (9, 10), (9, 11)]
        );
    }

    #[test]
    fn events_pushed_at_now_queue_behind_those_already_due() {
        let mut q = EventQueue::new();
        q.push(t(7), "first");
        q.push(t(7), "second");
        assert_eq!(q.pop(), Some((t(7), "first")));
        q.push(t(7), "third");
        q.push(t(8), "later");
        assert_eq!(drain(&mut q), [(7, "second"), (7, "third"), (8, "later")]);
    }

    #[test]
    fn peek_time_shows_the_next_pop_without_taking_it() {
        let mut q = EventQueue::new();
        assert_eq!(q.peek_time(), None);
        q.push(t(40), 'x');
        q.push(t(12), 'y');
        assert_eq!(q.peek_time(), Some(t(12)));
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some((t(12), 'y')));
        assert_eq!(q.peek_time(), Some(t(40)));
        q.push(t(12), 'z');
        assert_eq!(q.peek_time(), Some(t(12)));
    }

    #[test]
    fn len_and_is_empty_follow_pushes_and_pops() {
        let mut q = EventQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.push(t(3), ());
        q.push(t(3), ());
        q.push(t(4), ());
        assert_eq!((q.len(), q.is_empty()), (3, false));
        q.pop();
        assert_eq!(q.len(), 2);
        q.pop();
        q.pop();
        assert_eq!((q.len(), q.is_empty()), (0, true));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn the_whole_time_range_orders() {
        let mut q = EventQueue::new();
        q.push(SimTime::MAX, "end");
        q.push(t(1 << 63), "high bit");
        q.push(t((1 << 63) - 1), "just below");
        q.push(t(0), "start");
        assert_eq!(
            drain(&mut q),
            [
                (0, "start"),
                ((1 << 63) - 1, "just below"),
                (1 << 63, "high bit"),
                (u64::MAX, "end"),
            ]
        );
    }

    #[test]
    #[should_panic(expected = "event scheduled in the past")]
    fn pushing_before_now_is_an_engine_bug() {
        let mut q = EventQueue::new();
        q.push(t(10), ());
        q.pop();
        q.push(t(9), ());
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Push an event this far after the last popped time.
        Push(u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Small gaps make many ties; large ones reach the high buckets.
            3 => (0u64..4).prop_map(Op::Push),
            2 => (0u64..1 << 40).prop_map(Op::Push),
            1 => any::<u32>().prop_map(|g| Op::Push(u64::from(g) << 31)),
            4 => Just(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn pops_match_a_stable_sort_by_time(ops in prop::collection::vec(op(), 1..300)) {
            let mut q = EventQueue::new();
            // Pending (time, id) in push order; a stable sort by time puts
            // the next pop first.
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0u64;
            for (id, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Push(gap) => {
                        let at = now.saturating_add(gap);
                        q.push(t(at), id);
                        model.push((at, id));
                    }
                    Op::Pop => {
                        model.sort_by_key(|&(at, _)| at);
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        let got = q.pop().map(|(at, id)| (at.as_micros(), id));
                        prop_assert_eq!(got, want);
                        if let Some((at, _)) = got {
                            now = at;
                        }
                    }
                }
                model.sort_by_key(|&(at, _)| at);
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.peek_time(), model.first().map(|&(at, _)| t(at)));
            }
            model.sort_by_key(|&(at, _)| at);
            prop_assert_eq!(drain(&mut q), model);
        }
    }
}
