//! What travels: 5-tuples, traffic classes, and which way a walk goes.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::model::Protocol;

/// A flow's 5-tuple: protocol, source and destination address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiveTuple {
    /// UDP or TCP.
    pub protocol: Protocol,
    /// Where the packet comes from.
    pub src: SocketAddr,
    /// Where it goes.
    pub dst: SocketAddr,
}

impl FiveTuple {
    /// A tuple.
    pub fn new(protocol: Protocol, src: SocketAddr, dst: SocketAddr) -> Self {
        FiveTuple { protocol, src, dst }
    }

    /// The same flow seen from the other end: source and destination swapped.
    pub fn reversed(self) -> Self {
        FiveTuple {
            protocol: self.protocol,
            src: self.dst,
            dst: self.src,
        }
    }

    /// The destination address.
    pub fn dst_ip(&self) -> IpAddr {
        self.dst.ip()
    }
}

impl fmt::Display for FiveTuple {
    /// `udp 10.1.0.10:50000 -> 52.112.1.10:3478`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> {}", self.protocol, self.src, self.dst)
    }
}

/// What a flow carries, which decides its DSCP marking and whether proxies
/// and PAC rules apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficClass {
    /// SIP or HTTPS signaling.
    Signaling,
    /// Real-time audio.
    Audio,
    /// Real-time video.
    Video,
    /// Application or screen sharing.
    Sharing,
    /// File transfer.
    FileTransfer,
    /// STUN/TURN connectivity checks and allocations.
    Stun,
    /// Web traffic (HTTP/HTTPS that is not signaling).
    Web,
    /// DNS, certificate revocation, telemetry.
    Dependency,
    /// Broadcast streaming to attendees.
    Streaming,
}

impl TrafficClass {
    /// The DSCP value clients and the Microsoft network mark this class with
    /// (domain.md §3.5–3.6: audio EF 46, video AF41 34, sharing AF21 18,
    /// signaling CS3 24, file transfer AF11 10, everything else 0).
    pub fn dscp(self) -> u8 {
        match self {
            TrafficClass::Audio => 46,
            TrafficClass::Video => 34,
            TrafficClass::Sharing => 18,
            TrafficClass::Signaling => 24,
            TrafficClass::FileTransfer => 10,
            TrafficClass::Stun
            | TrafficClass::Web
            | TrafficClass::Dependency
            | TrafficClass::Streaming => 0,
        }
    }

    /// Whether this is real-time media.
    pub fn is_media(self) -> bool {
        matches!(
            self,
            TrafficClass::Audio
                | TrafficClass::Video
                | TrafficClass::Sharing
                | TrafficClass::FileTransfer
        )
    }

    /// The word used in output.
    pub fn word(self) -> &'static str {
        match self {
            TrafficClass::Signaling => "signaling",
            TrafficClass::Audio => "audio",
            TrafficClass::Video => "video",
            TrafficClass::Sharing => "sharing",
            TrafficClass::FileTransfer => "file-transfer",
            TrafficClass::Stun => "stun",
            TrafficClass::Web => "web",
            TrafficClass::Dependency => "dependency",
            TrafficClass::Streaming => "streaming",
        }
    }
}

/// Which way a walk goes relative to the flow it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the flow's initiator towards its destination.
    Forward,
    /// A reply, from the destination back towards the initiator.
    Return,
}
