//! Calls: the kinds of call the workload places and the engine counts.
//!
//! Owns [`CallKind`]. Leaves out how calls are drawn (the workload) and
//! what happens to them (the engine and the metrics layer).

use serde::Serialize;

/// What kind of call or meeting a leg belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// A two-party call between the tenant's users.
    PeerToPeer,
    /// A meeting on a conferencing server.
    Conference,
    /// A call to or from the phone network.
    Pstn,
    /// A call with another organization's user.
    Federated,
    /// A Skype Meeting Broadcast watched by attendees.
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

    /// The word used in files and output.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_the_serialized_names() {
        for kind in CallKind::ALL {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.word())
            );
        }
        assert_eq!(CallKind::PeerToPeer.word(), "peer-to-peer");
    }
}
