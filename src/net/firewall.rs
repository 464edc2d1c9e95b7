//! Firewalls: ordered allow/deny rules and, when stateful, the sessions that
//! let replies through.
//!
//! Owns a firewall's session table ([`FirewallState`]) and the decision for
//! one packet ([`FirewallState::decide`] → [`FirewallVerdict`]). Deciding
//! never changes state: the verdict carries the session it opens or
//! refreshes as a [`FirewallEffect`], which the packet walker applies with
//! [`FirewallState::apply`] after it has logged the hop. That split lets a
//! trace show what the firewall thought before it remembered anything.
//!
//! A stateful firewall behaves as in ice.md §2.4 and domain.md §4.5: a packet
//! belonging to a live session (its 5-tuple or the reverse) passes; anything
//! else goes through the rules. A reply ([`Direction::Return`]) that finds no
//! session is the asymmetric-routing case: TCP never passes, and UDP passes
//! only if a rule explicitly allows it; otherwise the drop is named
//! [`FirewallDrop::NoSession`], because the missing session is what killed
//! it, not the rule base. A stateless firewall has no sessions: every packet,
//! either way, needs a rule (or the default) of its own.
//!
//! One idle timeout ([`Firewall::idle_timeout`]) serves UDP and TCP alike,
//! because the model gives a firewall one setting. Media and signaling flows
//! send every few milliseconds or keep themselves alive, so the timeout only
//! decides anything when a planner sets it short on purpose.
//!
//! Leaves out routing (the walker says which way a packet travels), address
//! translation (`crate::net::nat`), TCP flags and sequence numbers (a session
//! is a 5-tuple, opened by its first allowed packet), and application-layer
//! inspection.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Action, Firewall, Protocol, Rule};
use crate::net::packet::{Direction, FiveTuple};
use crate::time::{SimDuration, SimTime};

/// A firewall's sessions, keyed by the 5-tuple of the packet that opened
/// them (the initiator's view).
#[derive(Debug, Clone, Default)]
pub struct FirewallState {
    sessions: BTreeMap<FiveTuple, Session>,
}

/// One session's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    opened: SimTime,
    /// The first instant at which it is gone.
    expires: SimTime,
}

/// What a firewall does with one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallVerdict {
    /// The packet goes on.
    Pass {
        /// Why it was let through.
        why: PassReason,
        /// The session to open or refresh, if the firewall is stateful.
        effect: Option<FirewallEffect>,
    },
    /// The packet dies here.
    Drop(FirewallDrop),
}

impl FirewallVerdict {
    /// Whether the packet goes on.
    pub fn passes(&self) -> bool {
        matches!(self, FirewallVerdict::Pass { .. })
    }

    /// The state change to apply after logging, if any.
    pub fn effect(&self) -> Option<&FirewallEffect> {
        match self {
            FirewallVerdict::Pass { effect, .. } => effect.as_ref(),
            FirewallVerdict::Drop(_) => None,
        }
    }
}

/// Why a packet passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassReason {
    /// It belongs to a live session.
    Session {
        /// When the session was opened.
        opened: SimTime,
    },
    /// A rule allowed it.
    Rule {
        /// Index into [`Firewall::rules`] (0-based; printed 1-based).
        index: usize,
        /// The rule as the planner reads it.
        text: String,
    },
    /// No rule matched and the default is allow.
    Default,
}

/// Why a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallDrop {
    /// A rule denied it.
    Rule {
        /// Index into [`Firewall::rules`] (0-based; printed 1-based).
        index: usize,
        /// The rule as the planner reads it.
        text: String,
    },
    /// No rule matched and the default is deny.
    Default,
    /// A reply through a stateful firewall that holds no session for it:
    /// the forward packet went another way.
    NoSession,
}

/// A change to a firewall's sessions, applied after the verdict is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallEffect {
    /// Open a session for this 5-tuple (and its replies).
    Open {
        /// The tuple of the packet that opens it.
        tuple: FiveTuple,
        /// How long it lives without traffic.
        idle_timeout: SimDuration,
    },
    /// Traffic on an existing session: restart its idle timer.
    Refresh {
        /// The session's key (its initiator's tuple).
        tuple: FiveTuple,
        /// How long it lives without traffic from now.
        idle_timeout: SimDuration,
    },
}

impl FirewallState {
    /// What `fw` does with a packet carrying `tuple`, travelling `direction`
    /// relative to its flow, at `now`. Changes nothing; see [`Self::apply`].
    pub fn decide(
        &self,
        fw: &Firewall,
        tuple: &FiveTuple,
        direction: Direction,
        now: SimTime,
    ) -> FirewallVerdict {
        if fw.stateful
            && let Some((key, session)) = self.live_session(tuple, now)
        {
            return FirewallVerdict::Pass {
                why: PassReason::Session {
                    opened: session.opened,
                },
                effect: Some(FirewallEffect::Refresh {
                    tuple: key,
                    idle_timeout: fw.idle_timeout,
                }),
            };
        }
        let matched = fw
            .rules
            .iter()
            .enumerate()
            .find(|(_, rule)| rule_matches(rule, tuple));
        let open = fw.stateful.then_some(FirewallEffect::Open {
            tuple: *tuple,
            idle_timeout: fw.idle_timeout,
        });
        if fw.stateful && direction == Direction::Return {
            // A reply with no session: the forward packet never came through
            // here. TCP cannot start mid-connection; UDP gets in only
            // through a hole someone punched on purpose.
            return match (tuple.protocol, matched) {
                (Protocol::Udp, Some((index, rule))) if rule.action == Action::Allow => {
                    FirewallVerdict::Pass {
                        why: PassReason::Rule {
                            index,
                            text: rule.text.clone(),
                        },
                        effect: open,
                    }
                }
                _ => FirewallVerdict::Drop(FirewallDrop::NoSession),
            };
        }
        match matched {
            Some((index, rule)) => {
                let text = rule.text.clone();
                match rule.action {
                    Action::Allow => FirewallVerdict::Pass {
                        why: PassReason::Rule { index, text },
                        effect: open,
                    },
                    Action::Deny => FirewallVerdict::Drop(FirewallDrop::Rule { index, text }),
                }
            }
            None => match fw.default {
                Action::Allow => FirewallVerdict::Pass {
                    why: PassReason::Default,
                    effect: open,
                },
                Action::Deny => FirewallVerdict::Drop(FirewallDrop::Default),
            },
        }
    }

    /// Opens or refreshes a session as a verdict said. Refreshing a session
    /// that has since been swept does nothing.
    pub fn apply(&mut self, effect: &FirewallEffect, now: SimTime) {
        match *effect {
            FirewallEffect::Open {
                tuple,
                idle_timeout,
            } => {
                let expires = now.saturating_add(idle_timeout);
                let session = self.sessions.entry(tuple).or_insert(Session {
                    opened: now,
                    expires,
                });
                if session.expires <= now {
                    // A dead session under the same key is a new session.
                    session.opened = now;
                }
                session.expires = expires;
            }
            FirewallEffect::Refresh {
                tuple,
                idle_timeout,
            } => {
                if let Some(session) = self.sessions.get_mut(&tuple) {
                    session.expires = now.saturating_add(idle_timeout);
                }
            }
        }
    }

    /// Sessions held, including idle ones [`Self::expire`] has not yet swept.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Forgets every session idle for its whole timeout by `now`.
    pub fn expire(&mut self, now: SimTime) {
        self.sessions.retain(|_, s| s.expires > now);
    }

    /// The live session `tuple` belongs to (as initiator or as reply), with
    /// its key.
    fn live_session(&self, tuple: &FiveTuple, now: SimTime) -> Option<(FiveTuple, Session)> {
        [*tuple, tuple.reversed()].into_iter().find_map(|key| {
            self.sessions
                .get(&key)
                .filter(|s| s.expires > now)
                .map(|s| (key, *s))
        })
    }
}

/// Whether every field of `rule` matches `tuple`.
fn rule_matches(rule: &Rule, tuple: &FiveTuple) -> bool {
    rule.protocol.is_none_or(|p| p == tuple.protocol)
        && rule.src.contains(tuple.src.ip())
        && rule.dst.contains(tuple.dst.ip())
        && rule.src_ports.contains(tuple.src.port())
        && rule.dst_ports.contains(tuple.dst.port())
}

impl fmt::Display for FirewallVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallVerdict::Pass { why, .. } => why.fmt(f),
            FirewallVerdict::Drop(why) => why.fmt(f),
        }
    }
}

impl fmt::Display for PassReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassReason::Session { opened } => write!(f, "matched session (opened {opened})"),
            PassReason::Rule { index, text } => write!(f, "allowed by rule {}: {text}", index + 1),
            PassReason::Default => f.write_str("allowed: no rule matched (default allow)"),
        }
    }
}

impl fmt::Display for FirewallDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallDrop::Rule { index, text } => write!(f, "denied by rule {}: {text}", index + 1),
            FirewallDrop::Default => f.write_str("denied: no rule matched (default deny)"),
            FirewallDrop::NoSession => f.write_str("no session"),
        }
    }
}

impl fmt::Display for FirewallEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallEffect::Open {
                tuple,
                idle_timeout,
            } => write!(f, "opens session {tuple} (idle timeout {idle_timeout})"),
            FirewallEffect::Refresh { tuple, .. } => write!(f, "refreshes session {tuple}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AddressMatch, PortMatch};

    fn sa(s: &str) -> std::net::SocketAddr {
        s.parse().unwrap()
    }

    fn udp(src: &str, dst: &str) -> FiveTuple {
        FiveTuple::new(Protocol::Udp, sa(src), sa(dst))
    }

    fn tcp(src: &str, dst: &str) -> FiveTuple {
        FiveTuple::new(Protocol::Tcp, sa(src), sa(dst))
    }

    fn rule(action: Action, protocol: Option<Protocol>, src: &str, dst: &str, text: &str) -> Rule {
        let addresses = |s: &str| match s {
            "any" => AddressMatch::Any,
            p => AddressMatch::Prefixes(vec![p.parse().unwrap()]),
        };
        Rule {
            action,
            protocol,
            src: addresses(src),
            dst: addresses(dst),
            src_ports: PortMatch::Any,
            dst_ports: PortMatch::Any,
            text: text.to_string(),
        }
    }

    /// A stateful firewall letting the 10/8 LAN out, denying the rest.
    fn outbound_only() -> Firewall {
        Firewall {
            stateful: true,
            idle_timeout: SimDuration::from_secs(60),
            default: Action::Deny,
            rules: vec![rule(
                Action::Allow,
                None,
                "10.0.0.0/8",
                "any",
                "allow any 10.0.0.0/8 -> any",
            )],
        }
    }

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    /// Decides and applies, as the walker does.
    fn walk(
        state: &mut FirewallState,
        fw: &Firewall,
        tuple: FiveTuple,
        direction: Direction,
        now: SimTime,
    ) -> FirewallVerdict {
        let verdict = state.decide(fw, &tuple, direction, now);
        if let Some(effect) = verdict.effect() {
            state.apply(effect, now);
        }
        verdict
    }

    #[test]
    fn outbound_allowed_opens_a_session() {
        let fw = outbound_only();
        let mut state = FirewallState::default();
        let out = udp("10.1.0.10:50000", "52.112.1.10:3478");
        let verdict = state.decide(&fw, &out, Direction::Forward, at(1));
        assert_eq!(
            verdict,
            FirewallVerdict::Pass {
                why: PassReason::Rule {
                    index: 0,
                    text: "allow any 10.0.0.0/8 -> any".into()
                },
                effect: Some(FirewallEffect::Open {
                    tuple: out,
                    idle_timeout: SimDuration::from_secs(60)
                }),
            }
        );
        assert_eq!(
            verdict.to_string(),
            "allowed by rule 1: allow any 10.0.0.0/8 -> any"
        );
        assert_eq!(state.sessions(), 0, "deciding changes nothing");
        state.apply(verdict.effect().unwrap(), at(1));
        assert_eq!(state.sessions(), 1);
    }

    #[test]
    fn reply_passes_by_session_and_refreshes_it() {
        let fw = outbound_only();
        let mut state = FirewallState::default();
        let out = tcp("10.1.0.10:50000", "52.112.1.10:443");
        walk(&mut state, &fw, out, Direction::Forward, at(1));
        let verdict = walk(&mut state, &fw, out.reversed(), Direction::Return, at(50));
        assert_eq!(
            verdict,
            FirewallVerdict::Pass {
                why: PassReason::Session { opened: at(1) },
                effect: Some(FirewallEffect::Refresh {
                    tuple: out,
                    idle_timeout: SimDuration::from_secs(60)
                }),
            }
        );
        assert_eq!(verdict.to_string(), "matched session (opened 00:00:01.000)");
        // Refreshed at 50 s, so still alive at 100 s (past 1 s + 60 s).
        let later = state.decide(&fw, &out.reversed(), Direction::Return, at(100));
        assert!(later.passes(), "{later}");
        assert_eq!(
            state.sessions(),
            1,
            "the reply did not open a second session"
        );
    }

    #[test]
    fn reply_through_another_firewall_has_no_session() {
        // The forward packet left through firewall A; the reply comes back
        // through firewall B, which has never seen the flow.
        let mut fw_b = outbound_only();
        fw_b.default = Action::Allow;
        let b = FirewallState::default();
        for reply in [
            tcp("52.112.1.10:443", "10.1.0.10:50000"),
            udp("52.112.1.10:3478", "10.1.0.10:50000"),
        ] {
            let verdict = b.decide(&fw_b, &reply, Direction::Return, at(2));
            assert_eq!(verdict, FirewallVerdict::Drop(FirewallDrop::NoSession));
            assert_eq!(verdict.to_string(), "no session");
            // The same packet as a new inbound flow would pass by default.
            assert!(b.decide(&fw_b, &reply, Direction::Forward, at(2)).passes());
        }
    }

    #[test]
    fn tcp_reply_without_session_dies_even_if_a_rule_allows_it() {
        let mut fw = outbound_only();
        fw.rules.push(rule(
            Action::Allow,
            None,
            "any",
            "10.0.0.0/8",
            "allow any any -> 10.0.0.0/8",
        ));
        let state = FirewallState::default();
        let syn_ack = tcp("52.112.1.10:443", "10.1.0.10:50000");
        assert_eq!(
            state.decide(&fw, &syn_ack, Direction::Return, at(2)),
            FirewallVerdict::Drop(FirewallDrop::NoSession)
        );
    }

    #[test]
    fn udp_inbound_with_an_explicit_allow_rule_passes() {
        let mut fw = outbound_only();
        fw.rules.push(rule(
            Action::Allow,
            Some(Protocol::Udp),
            "52.112.0.0/14",
            "10.0.0.0/8",
            "allow udp 52.112.0.0/14 -> 10.0.0.0/8",
        ));
        let mut state = FirewallState::default();
        let inbound = udp("52.112.1.10:3478", "10.1.0.10:50000");
        let verdict = walk(&mut state, &fw, inbound, Direction::Return, at(2));
        assert_eq!(
            verdict.to_string(),
            "allowed by rule 2: allow udp 52.112.0.0/14 -> 10.0.0.0/8"
        );
        assert_eq!(state.sessions(), 1, "the allowed packet opened a session");
        // An unlisted source is still a reply without a session.
        let other = udp("203.0.113.5:3478", "10.1.0.10:50000");
        assert_eq!(
            state.decide(&fw, &other, Direction::Return, at(2)),
            FirewallVerdict::Drop(FirewallDrop::NoSession)
        );
        // A TCP packet matching a protocol-less allow still needs state.
        let mut fw_any = fw.clone();
        fw_any.rules[1].protocol = None;
        let tcp_in = tcp("52.112.1.10:443", "10.1.0.10:50000");
        assert_eq!(
            state.decide(&fw_any, &tcp_in, Direction::Return, at(2)),
            FirewallVerdict::Drop(FirewallDrop::NoSession)
        );
    }

    #[test]
    fn first_matching_rule_wins() {
        let fw = Firewall {
            stateful: false,
            idle_timeout: SimDuration::from_secs(60),
            default: Action::Allow,
            rules: vec![
                rule(
                    Action::Allow,
                    Some(Protocol::Tcp),
                    "10.1.0.0/16",
                    "any",
                    "allow tcp 10.1.0.0/16 -> any",
                ),
                rule(
                    Action::Deny,
                    None,
                    "10.0.0.0/8",
                    "any",
                    "deny any 10.0.0.0/8 -> any",
                ),
                rule(
                    Action::Allow,
                    None,
                    "10.0.0.0/8",
                    "any",
                    "allow any 10.0.0.0/8 -> any",
                ),
            ],
        };
        let state = FirewallState::default();
        let decide = |t: FiveTuple| state.decide(&fw, &t, Direction::Forward, at(0));
        assert_eq!(
            decide(tcp("10.1.0.10:50000", "52.112.1.10:443")).to_string(),
            "allowed by rule 1: allow tcp 10.1.0.0/16 -> any"
        );
        // UDP skips rule 1 (protocol) and hits the deny before the allow.
        assert_eq!(
            decide(udp("10.1.0.10:50000", "52.112.1.10:3478")),
            FirewallVerdict::Drop(FirewallDrop::Rule {
                index: 1,
                text: "deny any 10.0.0.0/8 -> any".into()
            })
        );
        assert_eq!(
            decide(udp("10.1.0.10:50000", "52.112.1.10:3478")).to_string(),
            "denied by rule 2: deny any 10.0.0.0/8 -> any"
        );
        let outsider = decide(udp("192.0.2.1:50000", "52.112.1.10:3478"));
        assert_eq!(
            outsider,
            FirewallVerdict::Pass {
                why: PassReason::Default,
                effect: None
            }
        );
    }

    #[test]
    fn ports_narrow_a_rule() {
        let mut fw = outbound_only();
        fw.rules[0].dst_ports = PortMatch::Ranges(vec![(3478, 3481)]);
        let state = FirewallState::default();
        assert!(
            state
                .decide(
                    &fw,
                    &udp("10.1.0.10:50000", "52.112.1.10:3480"),
                    Direction::Forward,
                    at(0)
                )
                .passes()
        );
        let verdict = state.decide(
            &fw,
            &udp("10.1.0.10:50000", "52.112.1.10:3482"),
            Direction::Forward,
            at(0),
        );
        assert_eq!(verdict, FirewallVerdict::Drop(FirewallDrop::Default));
        assert_eq!(
            verdict.to_string(),
            "denied: no rule matched (default deny)"
        );
    }

    #[test]
    fn stateless_firewall_needs_a_rule_for_the_reply() {
        let mut fw = outbound_only();
        fw.stateful = false;
        let mut state = FirewallState::default();
        let out = udp("10.1.0.10:50000", "52.112.1.10:3478");
        let verdict = walk(&mut state, &fw, out, Direction::Forward, at(1));
        assert_eq!(verdict.effect(), None);
        assert_eq!(state.sessions(), 0);
        // The reply is judged on rules alone, and none matches.
        assert_eq!(
            state.decide(&fw, &out.reversed(), Direction::Return, at(1)),
            FirewallVerdict::Drop(FirewallDrop::Default)
        );
        fw.rules.push(rule(
            Action::Allow,
            None,
            "any",
            "10.0.0.0/8",
            "allow any any -> 10.0.0.0/8",
        ));
        let reply = state.decide(&fw, &out.reversed(), Direction::Return, at(1));
        assert_eq!(
            reply.to_string(),
            "allowed by rule 2: allow any any -> 10.0.0.0/8"
        );
        // TCP replies are no different on a stateless firewall.
        let tcp_reply = tcp("52.112.1.10:443", "10.1.0.10:50000");
        assert!(
            state
                .decide(&fw, &tcp_reply, Direction::Return, at(1))
                .passes()
        );
    }

    #[test]
    fn idle_sessions_expire() {
        let fw = outbound_only();
        let mut state = FirewallState::default();
        let out = udp("10.1.0.10:50000", "52.112.1.10:3478");
        walk(&mut state, &fw, out, Direction::Forward, at(10));
        // Alive one microsecond before the timeout runs out, gone at it.
        let just_before = SimTime::from_micros(at(70).as_micros() - 1);
        assert!(
            state
                .decide(&fw, &out.reversed(), Direction::Return, just_before)
                .passes()
        );
        assert_eq!(
            state.decide(&fw, &out.reversed(), Direction::Return, at(70)),
            FirewallVerdict::Drop(FirewallDrop::NoSession)
        );
        state.expire(at(69));
        assert_eq!(state.sessions(), 1);
        state.expire(at(70));
        assert_eq!(state.sessions(), 0);
        // A new outbound packet after expiry opens a fresh session.
        walk(&mut state, &fw, out, Direction::Forward, at(80));
        let verdict = state.decide(&fw, &out.reversed(), Direction::Return, at(81));
        assert_eq!(verdict.to_string(), "matched session (opened 00:01:20.000)");
    }

    #[test]
    fn reopening_an_unswept_dead_session_restarts_it() {
        let fw = outbound_only();
        let mut state = FirewallState::default();
        let out = udp("10.1.0.10:50000", "52.112.1.10:3478");
        walk(&mut state, &fw, out, Direction::Forward, at(0));
        let verdict = walk(&mut state, &fw, out, Direction::Forward, at(100));
        assert_eq!(
            verdict.effect(),
            Some(&FirewallEffect::Open {
                tuple: out,
                idle_timeout: SimDuration::from_secs(60)
            })
        );
        assert_eq!(
            state
                .decide(&fw, &out, Direction::Forward, at(101))
                .to_string(),
            "matched session (opened 00:01:40.000)"
        );
        assert_eq!(
            verdict.effect().unwrap().to_string(),
            "opens session udp 10.1.0.10:50000 -> 52.112.1.10:3478 (idle timeout 1m00s)"
        );
    }
}
