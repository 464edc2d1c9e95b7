//! Per-stream bitrates of Skype for Business and Teams media, from
//! Microsoft's published tables.
//!
//! Owns the one-way rate of one media stream for a codec profile, a call
//! kind, a modality, a direction and a planning [`Basis`]; the size of a
//! file transfer; and the signaling budget of a call. Leaves out how many
//! streams a call has and where they flow (the engine builds legs from the
//! call's participants and modalities) and packet-level behaviour: a stream
//! is a constant bitrate at its table figure.
//!
//! # Sources
//!
//! Every figure cites `reference/domain.md` and the Microsoft document that
//! section copies (paths are in the `MicrosoftDocs/OfficeDocs-SkypeForBusiness`
//! repository, "SfB repo"):
//!
//! - §1.2, SfB repo `Skype/SfbServer/plan-your-deployment/network-requirements/network-requirements.md`:
//!   capacity-planning values per stream, one-way, **including 5 kbps RTCP**
//!   for audio and 10 kbps for video (§1.1, same file). Used as published:
//!   the RTCP allowance is already inside them.
//! - §1.6, SfB repo `Skype/SfbServer/manage/video-based-screen-sharing.md`:
//!   screen sharing (RDP and video-based screen sharing, VbSS).
//! - §1.7 (c), the "Minimum / Recommended / Best performance" table of the
//!   Microsoft Learn module "Configure media bit rate for Teams" (row values
//!   as reproduced in third-party study guides: the stored Microsoft copy was
//!   truncated before the rows, see domain.md §8), kbps up/down per user.
//! - §7.1, SfB repo `Skype/SfbServer/plan-your-deployment/capacity/user-models.md`:
//!   the 1 MB file transfer.
//!
//! Figures no source gives are **assumptions**, marked so where they are
//! defined ([`BROADCAST_AUDIO`], [`BROADCAST_VIDEO_MAX`],
//! [`BROADCAST_VIDEO_TYPICAL`], [`FILE_TRANSFER_MAX`],
//! [`FILE_TRANSFER_TYPICAL`], [`signaling_budget`], and the kinds that
//! borrow another kind's row).
//!
//! # Skype for Business (kbps, one-way, per stream)
//!
//! | kind | modality | codec | Typical | Max | Max with FEC | source |
//! |---|---|---|---|---|---|---|
//! | peer-to-peer | audio | SILK WB | 44.3 | 69 | 105 | §1.2 P2P |
//! | peer-to-peer | video | H.264 main video | 460 | 4,010 | 4,010 ("included") | §1.2 P2P |
//! | peer-to-peer, conference | sharing | VbSS | 110 | 4,010 | 4,010 | §1.6 + §1.1 RTCP (see [`Modality::Sharing`]) |
//! | conference | audio | G.722 | 46.1 | 100.6 | 164.6 | §1.2 conferences |
//! | conference | video up (send) | H.264 + RTVideo | 270 | 8,015 | 8,015 ("n/a") | §1.2 conferences |
//! | conference | video down (receive) | H.264 + RTVideo | 260 | 8,015 | 8,015 ("n/a") | §1.2 conferences |
//! | PSTN | audio | G.711 | 64.8 | 97 | 161 | §1.2 PSTN |
//!
//! Where the table says FEC is "included" (P2P video) or "n/a" (conference
//! video), Max with FEC is the Max figure: video FEC is inside the payload
//! (§1.3). The other audio codecs of §1.2 (RTAudio WB/NB for older clients,
//! Siren for low-bandwidth conferencing, RTAudio NB for PSTN) are not
//! offered: SILK, G.722 and G.711 are what current clients negotiate for
//! these kinds (§1.4 "which codec is used where", with the newer table's
//! SILK for P2P).
//!
//! # Teams (kbps, one-way, per user)
//!
//! | kind | modality | Recommended (Typical) | Best (Max, Max with FEC) |
//! |---|---|---|---|
//! | peer-to-peer | audio | 58 | 76 |
//! | peer-to-peer | video | 1,500 | 4,000 |
//! | peer-to-peer | sharing | 1,500 | 4,000 |
//! | conference | audio | 58 | 76 |
//! | conference | video up | 2,500 | 4,000 |
//! | conference | video down | 4,000 | 4,000 |
//! | conference | sharing | 2,500 | 4,000 |
//!
//! Teams publishes no "typical" or FEC figures. [`Basis::Typical`] maps to
//! **Recommended** and both [`Basis::Max`] and [`Basis::MaxWithFec`] to
//! **Best performance** (§1.7 (c)). Recommended is a provisioning figure, not
//! an average like SfB's Typical, so Teams "typical" loads come out higher
//! than SfB's. The table's Minimum column (10 kbps audio, 150 kbps video) is
//! the floor Teams still works at, not a load, and is not offered. The older
//! 2019–2020 figures (§1.7 (b), SfB repo `Teams/includes/bandwidth-requirements.md`:
//! 30 kbps audio, 1.5 Mbps 1080p P2P video, 1 Mbps / 2 Mbps HD group video)
//! are superseded by this table and not used.
//!
//! # Kinds without their own figures (assumptions)
//!
//! - **Federated** calls use the peer-to-peer row of their profile: a
//!   federated call is a two-party call between clients of two tenants, and
//!   no source gives it separate figures.
//! - **Teams PSTN** uses the Teams audio row: the client's leg of a Teams
//!   PSTN call runs to Microsoft's media processor with Teams audio, and
//!   Teams publishes no PSTN figure. (SfB PSTN has its own row, above.)
//! - **Broadcast** (Skype Meeting Broadcast, Teams live events) is a one-way
//!   stream to each attendee: [`BROADCAST_AUDIO`] and the broadcast video
//!   figures, down only, for both profiles. The presenters' inner meeting is a
//!   conference and uses the conference rows.
//! - **File transfer** has no published rate (§1.6, §8): [`FILE_TRANSFER_TYPICAL`]
//!   and [`FILE_TRANSFER_MAX`], for both profiles and every two-way kind.
//!
//! # Which basis to use
//!
//! - [`Basis::Max`] ("Max without FEC": every stream 100% active, no loss) is
//!   the figure Microsoft gives for **capacity planning on managed networks**
//!   (§1.2): links, ExpressRoute circuits, QoS queues and CAC limits.
//! - [`Basis::MaxWithFec`] is Max with loss-triggered forward error
//!   correction: the worst case on **lossy, unmanaged paths** (the Internet,
//!   Wi-Fi, remote users).
//! - [`Basis::Typical`] is an average over voice activity (audio is sent only
//!   while the user speaks) and typical video: **expected mean load**, for
//!   traffic volumes and costs, never for sizing (§1.2: "not for capacity
//!   planning").

use serde::Serialize;

use crate::engine::CallKind;
use crate::model::CodecProfile;
use crate::net::packet::TrafficClass;
use crate::units::{Bitrate, DataSize};

/// A kind of media a call carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    /// Voice. Every call has it.
    Audio,
    /// Camera video.
    Video,
    /// Application or screen sharing. Skype for Business figures are those
    /// of video-based screen sharing (VbSS, H.264 at 1920×1080), which SfB
    /// clients use for screen sharing when both ends support it; RDP remains
    /// for legacy clients and for giving control (§1.6).
    Sharing,
    /// A file sent from one participant to another.
    FileTransfer,
}

impl Modality {
    /// Every modality, in output order.
    pub const ALL: [Modality; 4] = [
        Modality::Audio,
        Modality::Video,
        Modality::Sharing,
        Modality::FileTransfer,
    ];

    /// The word used in output: `audio`, `video`, `sharing`, `file-transfer`.
    pub fn word(self) -> &'static str {
        match self {
            Modality::Audio => "audio",
            Modality::Video => "video",
            Modality::Sharing => "sharing",
            Modality::FileTransfer => "file-transfer",
        }
    }

    /// The traffic class its streams are marked with (DSCP: audio EF 46,
    /// video AF41 34, sharing AF21 18, file transfer AF11 10; domain.md
    /// §3.5–3.6). A broadcast's stream to attendees is
    /// [`TrafficClass::Streaming`] whatever it carries; that choice is the
    /// engine's, which knows the call kind.
    pub fn class(self) -> TrafficClass {
        match self {
            Modality::Audio => TrafficClass::Audio,
            Modality::Video => TrafficClass::Video,
            Modality::Sharing => TrafficClass::Sharing,
            Modality::FileTransfer => TrafficClass::FileTransfer,
        }
    }
}

/// Which of Microsoft's planning figures to take (see the module docs for
/// when to use each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// SfB "Typical": the average, not for capacity planning. Teams:
    /// "Recommended".
    Typical,
    /// SfB "Max without FEC": 100% activity, no loss; the figure for
    /// managed networks. Teams: "Best performance".
    Max,
    /// SfB "Max with FEC": 100% activity with loss-triggered FEC. Teams:
    /// "Best performance" (Teams gives no FEC figure).
    MaxWithFec,
}

impl Basis {
    /// Every basis.
    pub const ALL: [Basis; 3] = [Basis::Typical, Basis::Max, Basis::MaxWithFec];

    /// The word used in output: `typical`, `max`, `max-with-fec`.
    pub fn word(self) -> &'static str {
        match self {
            Basis::Typical => "typical",
            Basis::Max => "max",
            Basis::MaxWithFec => "max-with-fec",
        }
    }
}

/// Which way a stream goes, seen from a participant's client.
///
/// In a two-party call the caller's `Up` is the callee's `Down` and the two
/// rates are equal. In a conference `Up` is what the client sends to the
/// conferencing server and `Down` what the server sends back (the mix of
/// everyone else's audio, the aggregate of the video streams received).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flow {
    /// Sent by the participant's client.
    Up,
    /// Received by the participant's client.
    Down,
}

impl Flow {
    /// Both directions.
    pub const ALL: [Flow; 2] = [Flow::Up, Flow::Down];

    /// The word used in output: `up`, `down`.
    pub fn word(self) -> &'static str {
        match self {
            Flow::Up => "up",
            Flow::Down => "down",
        }
    }
}

/// One row of a table: the figure for each basis, in kbps.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    typical: f64,
    max: f64,
    max_with_fec: f64,
}

impl Row {
    /// A row whose FEC figure is its max (video, where FEC is inside the
    /// payload, and Teams, which gives no FEC figure).
    const fn no_fec(typical: f64, max: f64) -> Row {
        Row {
            typical,
            max,
            max_with_fec: max,
        }
    }

    fn at(self, basis: Basis) -> Bitrate {
        Bitrate::kbps_f64(match basis {
            Basis::Typical => self.typical,
            Basis::Max => self.max,
            Basis::MaxWithFec => self.max_with_fec,
        })
    }
}

/// SfB peer-to-peer audio, SILK wideband (§1.2 P2P).
const SFB_P2P_AUDIO: Row = Row {
    typical: 44.3,
    max: 69.0,
    max_with_fec: 105.0,
};
/// SfB peer-to-peer main video, H.264, SfB↔SfB, max at 1920×1080; FEC
/// "included" (§1.2 P2P).
const SFB_P2P_VIDEO: Row = Row::no_fec(460.0, 4_010.0);
/// SfB conference audio, G.722 (§1.2 conferences).
const SFB_CONF_AUDIO: Row = Row {
    typical: 46.1,
    max: 100.6,
    max_with_fec: 164.6,
};
/// SfB conference main video send, H.264 + RTVideo; FEC "n/a" (§1.2
/// conferences: 8,000 kbps aggregate payload each way plus RTCP).
const SFB_CONF_VIDEO_SEND: Row = Row::no_fec(270.0, 8_015.0);
/// SfB conference main video receive: the aggregate of all received streams
/// (§1.2 conferences).
const SFB_CONF_VIDEO_RECEIVE: Row = Row::no_fec(260.0, 8_015.0);
/// SfB PSTN audio, G.711, also for PSTN participants in conferences (§1.2
/// PSTN).
const SFB_PSTN_AUDIO: Row = Row {
    typical: 64.8,
    max: 97.0,
    max_with_fec: 161.0,
};
/// SfB screen sharing, VbSS: Typical is the VbSS average for PowerPoint,
/// 100 kbps (§1.6), taken as typical because slides are the commonest
/// shared content (an assumption: the article also gives CAD 1 Mbps and
/// video 1.3 Mbps); Max is VbSS's H.264 1920×1080 maximum payload,
/// 4,000 kbps (§1.6). Both add the 10 kbps RTCP allowance for H.264-only
/// video (§1.1), as the §1.2 video rows do; video FEC is inside the payload
/// (§1.3).
const SFB_SHARING: Row = Row::no_fec(110.0, 4_010.0);

/// Teams audio, one-to-one and meetings alike: Recommended 58, Best 76
/// (§1.7 (c)).
const TEAMS_AUDIO: Row = Row::no_fec(58.0, 76.0);
/// Teams video one-to-one: 1,500 / 4,000 (§1.7 (c)).
const TEAMS_P2P_VIDEO: Row = Row::no_fec(1_500.0, 4_000.0);
/// Teams video meetings, up: 2,500 / 4,000 (§1.7 (c)).
const TEAMS_CONF_VIDEO_UP: Row = Row::no_fec(2_500.0, 4_000.0);
/// Teams video meetings, down: 4,000 / 4,000 (§1.7 (c)).
const TEAMS_CONF_VIDEO_DOWN: Row = Row::no_fec(4_000.0, 4_000.0);
/// Teams screen sharing one-to-one: 1,500 / 4,000 (§1.7 (c)).
const TEAMS_P2P_SHARING: Row = Row::no_fec(1_500.0, 4_000.0);
/// Teams screen sharing meetings: 2,500 / 4,000 (§1.7 (c)).
const TEAMS_CONF_SHARING: Row = Row::no_fec(2_500.0, 4_000.0);

/// **Assumption**: the audio of a broadcast stream, 64 kbps on every basis.
/// No source gives broadcast figures (domain.md §1 has none). 64 kbps is a
/// common AAC rate for adaptive streaming; the stream is sent over TCP, so
/// there is no FEC figure, and it is sent whether or not anyone speaks.
pub const BROADCAST_AUDIO: Bitrate = Bitrate::kbps(64);

/// **Assumption**: the video of a broadcast stream on [`Basis::Max`] and
/// [`Basis::MaxWithFec`] (the stream is sent over TCP: no FEC figure),
/// taken as a 1280×720 adaptive stream at SfB's H.264 1280×720 maximum,
/// 2,500 kbps (§1.3). No source gives broadcast figures.
pub const BROADCAST_VIDEO_MAX: Bitrate = Bitrate::kbps(2_500);

/// **Assumption**: the video of a broadcast stream on [`Basis::Typical`]:
/// 1,500 kbps, the rate at which SfB switches 1920×1080 down (§1.3),
/// standing in for an average the sources do not give.
pub const BROADCAST_VIDEO_TYPICAL: Bitrate = Bitrate::kbps(1_500);

/// **Assumption**: the rate a file transfer moves at on [`Basis::Max`] and
/// [`Basis::MaxWithFec`] (TCP: no FEC figure): 4,000 kbps, the largest
/// single-stream figure of the tables (1920×1080 video, §1.3), so a transfer
/// does not out-pace the media beside it. No source gives a file-transfer
/// rate (§1.6, §8).
pub const FILE_TRANSFER_MAX: Bitrate = Bitrate::kbps(4_000);

/// **Assumption**: the rate a file transfer moves at on [`Basis::Typical`]:
/// 1,000 kbps (the 1 MB of [`file_transfer_size`] in 8 s), VbSS's CAD
/// average (§1.6), a bulk flow the same clients sustain.
pub const FILE_TRANSFER_TYPICAL: Bitrate = Bitrate::kbps(1_000);

/// The one-way rate of one stream of `modality` flowing `flow` in a call of
/// `kind` under `profile`'s tables, on `basis`.
///
/// Audio, video and sharing run both ways (each party sends its own; in a
/// conference, to and from the server). A file transfer is one stream, from
/// the sender (`Up` on its side) to the receiver (`Down` on theirs), at the
/// same rate: which participant sends is the engine's choice.
///
/// `None` where no such stream exists:
///
/// - PSTN calls carry audio only (the far end is a telephone);
/// - a broadcast is received, never sent (`Flow::Up` is `None`), and carries
///   audio and video only (shared content is part of its video).
pub fn stream_rate(
    profile: CodecProfile,
    kind: CallKind,
    modality: Modality,
    flow: Flow,
    basis: Basis,
) -> Option<Bitrate> {
    use CallKind::*;
    use CodecProfile::{Sfb, Teams};
    use Modality::*;
    let row = match kind {
        Broadcast => {
            return match (modality, flow) {
                (_, Flow::Up) | (Sharing | FileTransfer, _) => None,
                (Audio, Flow::Down) => Some(BROADCAST_AUDIO),
                (Video, Flow::Down) => Some(match basis {
                    Basis::Typical => BROADCAST_VIDEO_TYPICAL,
                    Basis::Max | Basis::MaxWithFec => BROADCAST_VIDEO_MAX,
                }),
            };
        }
        Pstn => match (profile, modality) {
            (Sfb, Audio) => SFB_PSTN_AUDIO,
            (Teams, Audio) => TEAMS_AUDIO,
            (_, Video | Sharing | FileTransfer) => return None,
        },
        PeerToPeer | Federated | Conference => {
            let conference = kind == Conference;
            match (profile, modality) {
                (_, FileTransfer) => {
                    return Some(match basis {
                        Basis::Typical => FILE_TRANSFER_TYPICAL,
                        Basis::Max | Basis::MaxWithFec => FILE_TRANSFER_MAX,
                    });
                }
                (Sfb, Audio) if conference => SFB_CONF_AUDIO,
                (Sfb, Audio) => SFB_P2P_AUDIO,
                (Sfb, Video) => match (conference, flow) {
                    (true, Flow::Up) => SFB_CONF_VIDEO_SEND,
                    (true, Flow::Down) => SFB_CONF_VIDEO_RECEIVE,
                    (false, _) => SFB_P2P_VIDEO,
                },
                (Sfb, Sharing) => SFB_SHARING,
                (Teams, Audio) => TEAMS_AUDIO,
                (Teams, Video) => match (conference, flow) {
                    (true, Flow::Up) => TEAMS_CONF_VIDEO_UP,
                    (true, Flow::Down) => TEAMS_CONF_VIDEO_DOWN,
                    (false, _) => TEAMS_P2P_VIDEO,
                },
                (Teams, Sharing) if conference => TEAMS_CONF_SHARING,
                (Teams, Sharing) => TEAMS_P2P_SHARING,
            }
        }
    };
    Some(row.at(basis))
}

/// The size of one file transfer: 1 MB, the user model's average (domain.md
/// §7.1, SfB repo `Skype/SfbServer/plan-your-deployment/capacity/user-models.md`:
/// one peer-to-peer transfer per user per month, 1 MB).
pub fn file_transfer_size() -> DataSize {
    DataSize::bytes(1_000_000)
}

/// The signaling a call adds on each participant's path to its registrar or
/// conferencing server, each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SignalingBudget {
    /// Bytes sent each way while the call is set up.
    pub setup: DataSize,
    /// The rate each way while the call lasts.
    pub keepalive: Bitrate,
}

/// **Assumption**: the signaling budget of one participant's leg, for every
/// kind and both profiles. No source gives signaling volumes (domain.md has
/// none). Setup is 12 kB each way: an INVITE with an SDP offer carrying ICE
/// candidates for each modality (host, reflexive and relayed, UDP and TCP)
/// and its provisional and final responses, the re-INVITE that follows ICE
/// completion, and the BYE, at a few kB per SDP-carrying message over TLS.
/// Keep-alive is 200 bps each way: about one 750-byte message every 30 s
/// (session refreshes and connection keep-alives).
pub fn signaling_budget() -> SignalingBudget {
    SignalingBudget {
        setup: DataSize::bytes(12_000),
        keepalive: Bitrate::bps(200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kbps(
        profile: CodecProfile,
        kind: CallKind,
        modality: Modality,
        flow: Flow,
        basis: Basis,
    ) -> f64 {
        stream_rate(profile, kind, modality, flow, basis)
            .expect("a stream")
            .as_kbps_f64()
    }

    use CallKind::*;
    use CodecProfile::{Sfb, Teams};
    use Modality::*;

    #[test]
    fn sfb_audio_figures_are_the_capacity_planning_table() {
        for flow in Flow::ALL {
            assert_eq!(kbps(Sfb, PeerToPeer, Audio, flow, Basis::Max), 69.0);
            assert_eq!(kbps(Sfb, PeerToPeer, Audio, flow, Basis::Typical), 44.3);
            assert_eq!(kbps(Sfb, PeerToPeer, Audio, flow, Basis::MaxWithFec), 105.0);
            assert_eq!(kbps(Sfb, Conference, Audio, flow, Basis::Max), 100.6);
            assert_eq!(kbps(Sfb, Conference, Audio, flow, Basis::Typical), 46.1);
            assert_eq!(kbps(Sfb, Conference, Audio, flow, Basis::MaxWithFec), 164.6);
            assert_eq!(kbps(Sfb, Pstn, Audio, flow, Basis::Max), 97.0);
            assert_eq!(kbps(Sfb, Pstn, Audio, flow, Basis::Typical), 64.8);
            assert_eq!(kbps(Sfb, Pstn, Audio, flow, Basis::MaxWithFec), 161.0);
        }
    }

    #[test]
    fn sfb_video_distinguishes_conference_send_and_receive() {
        assert_eq!(kbps(Sfb, PeerToPeer, Video, Flow::Up, Basis::Max), 4_010.0);
        assert_eq!(
            kbps(Sfb, PeerToPeer, Video, Flow::Down, Basis::Typical),
            460.0
        );
        assert_eq!(
            kbps(Sfb, Conference, Video, Flow::Up, Basis::Typical),
            270.0
        );
        assert_eq!(
            kbps(Sfb, Conference, Video, Flow::Down, Basis::Typical),
            260.0
        );
        assert_eq!(
            kbps(Sfb, Conference, Video, Flow::Down, Basis::Max),
            8_015.0
        );
        // FEC is inside the video payload: the FEC basis adds nothing.
        assert_eq!(
            kbps(Sfb, Conference, Video, Flow::Up, Basis::MaxWithFec),
            kbps(Sfb, Conference, Video, Flow::Up, Basis::Max)
        );
    }

    #[test]
    fn sfb_sharing_is_vbss_with_rtcp() {
        assert_eq!(
            kbps(Sfb, PeerToPeer, Sharing, Flow::Up, Basis::Typical),
            110.0
        );
        assert_eq!(
            kbps(Sfb, Conference, Sharing, Flow::Down, Basis::Max),
            4_010.0
        );
    }

    #[test]
    fn teams_maps_typical_to_recommended_and_max_to_best() {
        for flow in Flow::ALL {
            for kind in [PeerToPeer, Conference, Federated, Pstn] {
                assert_eq!(kbps(Teams, kind, Audio, flow, Basis::Typical), 58.0);
                assert_eq!(kbps(Teams, kind, Audio, flow, Basis::Max), 76.0);
                assert_eq!(kbps(Teams, kind, Audio, flow, Basis::MaxWithFec), 76.0);
            }
            assert_eq!(
                kbps(Teams, PeerToPeer, Video, flow, Basis::Typical),
                1_500.0
            );
            assert_eq!(kbps(Teams, PeerToPeer, Video, flow, Basis::Max), 4_000.0);
            assert_eq!(
                kbps(Teams, PeerToPeer, Sharing, flow, Basis::Typical),
                1_500.0
            );
            assert_eq!(
                kbps(Teams, Conference, Sharing, flow, Basis::Typical),
                2_500.0
            );
        }
        assert_eq!(
            kbps(Teams, Conference, Video, Flow::Up, Basis::Typical),
            2_500.0
        );
        assert_eq!(
            kbps(Teams, Conference, Video, Flow::Down, Basis::Typical),
            4_000.0
        );
    }

    #[test]
    fn federated_calls_use_the_peer_to_peer_row() {
        for profile in [Sfb, Teams] {
            for modality in Modality::ALL {
                for flow in Flow::ALL {
                    for basis in Basis::ALL {
                        assert_eq!(
                            stream_rate(profile, Federated, modality, flow, basis),
                            stream_rate(profile, PeerToPeer, modality, flow, basis)
                        );
                    }
                }
            }
        }
    }

    /// The combinations without a stream: PSTN beyond audio, anything sent
    /// by a broadcast attendee, and broadcast sharing or file transfer.
    fn exists(kind: CallKind, modality: Modality, flow: Flow) -> bool {
        match kind {
            Pstn => modality == Audio,
            Broadcast => flow == Flow::Down && matches!(modality, Audio | Video),
            PeerToPeer | Conference | Federated => true,
        }
    }

    #[test]
    fn every_existing_stream_has_a_positive_rate_and_no_other_has_one() {
        let mut streams = 0;
        for profile in [Sfb, Teams] {
            for kind in CallKind::ALL {
                for modality in Modality::ALL {
                    for flow in Flow::ALL {
                        for basis in Basis::ALL {
                            let rate = stream_rate(profile, kind, modality, flow, basis);
                            if exists(kind, modality, flow) {
                                let rate = rate.expect("a stream that exists has a rate");
                                assert!(rate > Bitrate::ZERO, "{kind:?} {modality:?} {flow:?}");
                                streams += 1;
                            } else {
                                assert_eq!(rate, None, "{kind:?} {modality:?} {flow:?}");
                            }
                        }
                    }
                }
            }
        }
        // 3 two-way kinds × 4 modalities × 2 flows + PSTN audio × 2 flows +
        // broadcast audio and video down, per profile and basis.
        assert_eq!(streams, 2 * 3 * (3 * 4 * 2 + 2 + 2));
    }

    #[test]
    fn max_is_never_below_typical_nor_fec_below_max() {
        for profile in [Sfb, Teams] {
            for kind in CallKind::ALL {
                for modality in Modality::ALL {
                    for flow in Flow::ALL {
                        let at = |b| stream_rate(profile, kind, modality, flow, b);
                        if let (Some(t), Some(m), Some(f)) =
                            (at(Basis::Typical), at(Basis::Max), at(Basis::MaxWithFec))
                        {
                            assert!(t <= m && m <= f, "{profile:?} {kind:?} {modality:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn broadcast_and_file_transfer_assumptions() {
        for profile in [Sfb, Teams] {
            assert_eq!(
                kbps(profile, Broadcast, Audio, Flow::Down, Basis::Max),
                64.0
            );
            assert_eq!(
                kbps(profile, Broadcast, Video, Flow::Down, Basis::Max),
                2_500.0
            );
            assert_eq!(
                kbps(profile, Broadcast, Video, Flow::Down, Basis::Typical),
                1_500.0
            );
            assert_eq!(
                kbps(profile, PeerToPeer, FileTransfer, Flow::Up, Basis::Typical),
                1_000.0
            );
            assert_eq!(
                kbps(
                    profile,
                    Conference,
                    FileTransfer,
                    Flow::Down,
                    Basis::MaxWithFec
                ),
                4_000.0
            );
        }
        assert_eq!(file_transfer_size().as_bytes(), 1_000_000);
        let budget = signaling_budget();
        assert_eq!(budget.setup.as_bytes(), 12_000);
        assert_eq!(budget.keepalive.as_bps(), 200);
    }

    #[test]
    fn modalities_map_to_their_dscp_classes() {
        let dscp: Vec<u8> = Modality::ALL.iter().map(|m| m.class().dscp()).collect();
        assert_eq!(dscp, [46, 34, 18, 10]);
        let words: Vec<&str> = Modality::ALL.iter().map(|m| m.word()).collect();
        assert_eq!(words, ["audio", "video", "sharing", "file-transfer"]);
        assert_eq!(Basis::MaxWithFec.word(), "max-with-fec");
        assert_eq!(Flow::Down.word(), "down");
    }
}
