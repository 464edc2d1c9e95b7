//! Call admission control: SfB bandwidth policy profiles on links.
//!
//! Owns the audio and video bandwidth in use on each policy-managed link and
//! direction, and the decision whether a new session fits: its stream must
//! not exceed the per-session limit, and the total with it must not exceed
//! the link's limit (all limits one-way, as in `New-CsNetworkBandwidthPolicyProfile`).
//! Only audio and video count; data and sharing are not controlled (SfB CAC).
//!
//! Leaves out what to do when a session does not fit (reroute through the
//! Internet and an Edge, then PSTN, then voicemail, else block): the
//! simulation decides, by asking ICE to avoid the full links.

use crate::metrics::LinkDir;
use crate::model::{BandwidthPolicy, LinkId, Topology};
use crate::net::packet::TrafficClass;
use crate::units::Bitrate;

/// What a session needs on a link-direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// The link.
    pub link: LinkId,
    /// Which way.
    pub dir: LinkDir,
    /// Audio or video.
    pub class: TrafficClass,
    /// How much.
    pub rate: Bitrate,
}

/// Why a session was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The link whose policy refused it.
    pub link: LinkId,
    /// Audio or video.
    pub class: TrafficClass,
    /// Whether the per-session limit (rather than the total) refused it.
    pub per_session: bool,
}

/// Bandwidth in use on policy-managed links.
#[derive(Debug, Clone)]
pub struct Cac {
    policies: Vec<Option<BandwidthPolicy>>,
    /// Audio and video in use, bits per second, per link-direction.
    used: Vec<[u64; 2]>,
}

impl Cac {
    /// Nothing in use on the topology's links.
    pub fn new(t: &Topology) -> Cac {
        let policies: Vec<_> = t.links().map(|l| t.link(l).bandwidth_policy).collect();
        let used = vec![[0, 0]; policies.len() * 2];
        Cac { policies, used }
    }

    /// Whether any link has a policy at all.
    pub fn active(&self) -> bool {
        self.policies.iter().any(Option::is_some)
    }

    fn slot(link: LinkId, dir: LinkDir) -> usize {
        link.0.index() * 2 + dir.index()
    }

    fn kind(class: TrafficClass) -> Option<usize> {
        match class {
            TrafficClass::Audio => Some(0),
            TrafficClass::Video => Some(1),
            _ => None,
        }
    }

    /// The first demand that does not fit, if any. Demands of one session on
    /// the same link-direction add up.
    pub fn check(&self, demands: &[Demand]) -> Result<(), Refusal> {
        let mut extra: Vec<(usize, usize, u64)> = Vec::new();
        for d in demands {
            let (Some(policy), Some(k)) = (self.policies[d.link.0.index()], Cac::kind(d.class))
            else {
                continue;
            };
            let (total, session) = match k {
                0 => (policy.audio, policy.audio_session),
                _ => (policy.video, policy.video_session),
            };
            let refusal = |per_session| Refusal {
                link: d.link,
                class: d.class,
                per_session,
            };
            if session.is_some_and(|limit| d.rate > limit) {
                return Err(refusal(true));
            }
            let slot = Cac::slot(d.link, d.dir);
            let added = match extra.iter_mut().find(|(s, kk, _)| *s == slot && *kk == k) {
                Some(e) => {
                    e.2 += d.rate.as_bps();
                    e.2
                }
                None => {
                    extra.push((slot, k, d.rate.as_bps()));
                    d.rate.as_bps()
                }
            };
            if total.is_some_and(|limit| self.used[slot][k] + added > limit.as_bps()) {
                return Err(refusal(false));
            }
        }
        Ok(())
    }

    /// Books the demands.
    pub fn add(&mut self, demands: &[Demand]) {
        for d in demands {
            if let (Some(_), Some(k)) = (self.policies[d.link.0.index()], Cac::kind(d.class)) {
                self.used[Cac::slot(d.link, d.dir)][k] += d.rate.as_bps();
            }
        }
    }

    /// Releases the demands.
    pub fn remove(&mut self, demands: &[Demand]) {
        for d in demands {
            if let (Some(_), Some(k)) = (self.policies[d.link.0.index()], Cac::kind(d.class)) {
                let u = &mut self.used[Cac::slot(d.link, d.dir)][k];
                *u = u
                    .checked_sub(d.rate.as_bps())
                    .expect("released no more than was booked");
            }
        }
    }
}
