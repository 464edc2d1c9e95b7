//! What the workload asks the engine to place: call kinds and call requests.
//!
//! Owns the vocabulary of a call before the network sees it: its kind, who
//! takes part and when each party joins and leaves, how long it lasts and
//! which modalities it adds to audio. Leaves out how a request is drawn (the
//! [`workload`](super::workload)) and everything that happens once it is
//! placed: paths, admission control, streams.

use serde::Serialize;

use crate::model::{GroupId, Modalities};
use crate::time::{SimDuration, SimTime};

/// What kind of session a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// A two-party call between users of the tenant.
    PeerToPeer,
    /// A meeting on a conferencing server.
    Conference,
    /// A call to or from the telephone network.
    Pstn,
    /// A two-party call with a user of another organization.
    Federated,
    /// Watching a broadcast (Skype Meeting Broadcast, Teams live event).
    Broadcast,
}

impl CallKind {
    /// Every kind, in output order.
    pub const ALL: [CallKind; 5] = [
        CallKind::PeerToPeer,
        CallKind::Conference,
        CallKind::Pstn,
        CallKind::Federated,
        CallKind::Broadcast,
    ];

    /// The word used in output: `peer-to-peer`, `conference`, `pstn`,
    /// `federated`, `broadcast`.
    pub fn word(self) -> &'static str {
        match self {
            CallKind::PeerToPeer => "peer-to-peer",
            CallKind::Conference => "conference",
            CallKind::Pstn => "pstn",
            CallKind::Federated => "federated",
            CallKind::Broadcast => "broadcast",
        }
    }
}

/// One user taking part in a call. Times are offsets from the call's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Participant {
    /// The user's group.
    pub group: GroupId,
    /// When the user joins.
    pub joins: SimDuration,
    /// When the user leaves (at most the call's duration).
    pub leaves: SimDuration,
}

/// A call or meeting to place.
///
/// `participants[0]` is the caller, organizer or broadcast attendee, who
/// joins at 0 and stays to the end. Peer-to-peer and federated calls have
/// two participants (the callee joins at 0 too); PSTN calls and broadcasts
/// one, since neither the telephone at the far end nor the broadcast stream
/// is a user; conferences have as many as the meeting's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRequest {
    /// Unique within a replication, in the order requests are issued.
    pub id: u64,
    /// When the call starts.
    pub at: SimTime,
    /// What kind of call.
    pub kind: CallKind,
    /// The group of the user who places it.
    pub organizer: GroupId,
    /// Who takes part.
    pub participants: Vec<Participant>,
    /// How long it lasts.
    pub duration: SimDuration,
    /// The modalities it adds to audio.
    pub modalities: Modalities,
}

impl CallRequest {
    /// When the call ends.
    pub fn ends(&self) -> SimTime {
        self.at.saturating_add(self.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_serialized_names_agree() {
        for kind in CallKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.word()));
        }
        assert_eq!(CallKind::PeerToPeer.word(), "peer-to-peer");
    }

    #[test]
    fn a_call_ends_after_its_duration() {
        let call = CallRequest {
            id: 0,
            at: SimTime::from_micros(5_000_000),
            kind: CallKind::Pstn,
            organizer: GroupId(0),
            participants: vec![],
            duration: SimDuration::from_secs(180),
            modalities: Modalities::default(),
        };
        assert_eq!(call.ends(), SimTime::from_micros(185_000_000));
    }
}
