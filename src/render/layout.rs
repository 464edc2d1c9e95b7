//! Where everything goes: a deterministic layout of a topology into the
//! four segment lanes of the source document, left to right *Your network
//! | Internet | ExpressRoute | Microsoft network*.
//!
//! Owns geometry only: the box of every element, of every circuit and of
//! every group frame, and the route of every link as a polyline. The
//! result is a pure function of the topology, so a trace renderer can draw
//! a call's path over the same picture. Leaves out colours, text and SVG,
//! which are [`super::graph`]'s.
//!
//! How it is laid out:
//!
//! - Rows are shared by all lanes, so a link that crosses lanes on one row
//!   is a straight horizontal line.
//! - **Your network**: the tenant's elements first, then each partner
//!   organization's (their `lane` is the customer lane, but they are
//!   another company) in a dashed frame below, one frame per organization.
//!   Columns run from the offices and datacenters (far left) to the border
//!   elements, those with a link leaving the group (Internet access,
//!   ExpressRoute), which sit in the rightmost column next to the Internet
//!   lane; everything in between, a DMZ included, by its hop distance from
//!   the nearest office or datacenter, so a chain site → core → firewall →
//!   edge router → NAT reads left to right. Rows follow a depth-first walk
//!   of the breadth-first tree grown from the sites in declaration order:
//!   the branch that leads out of the network stays on its parent's row,
//!   dead ends (servers, a DMZ's proxy) and other branches take the next
//!   free row below, and the cells a link to the right skips over stay
//!   empty. Links that would cut across boxes are routed orthogonally:
//!   brackets beside a column join elements of one column that are not
//!   neighbours (a core router's WAN links), fans along a trunk in a
//!   column gap join an element to those it serves further right on other
//!   rows (a datacenter's servers).
//! - **ExpressRoute** holds no elements: each circuit is a box on the row
//!   of its customer edge, and each of its connections is drawn from the
//!   customer edge through the box to the region's router, primary above
//!   secondary. The rows these lines cross the Internet lane on are kept
//!   free there.
//! - **Microsoft network**: each region's router with its services stacked
//!   under it along a trunk, in a frame; a region that circuits land on
//!   starts on the first such circuit's row, so the ExpressRoute path is
//!   straight.
//! - **Internet**: the Internet itself is one wide box, on a row near the
//!   middle of what links to it. The Internet's own servers stand above it
//!   on both sides of a trunk; remote locations (and Skype consumer users)
//!   hang below it in framed columns, their NAT on top, linked straight up.
//!   Links from your network reach it along buses in the lane's left
//!   margin, links from Microsoft's regions along buses in the ExpressRoute
//!   lane's right margin, so neither runs through a circuit box. A partner's
//!   own Edge (the partner is drawn in your lane) has a column of its own
//!   on the left, on a row of its own below the partner's frame, reached by
//!   an elbow from the partner's LAN.
//! - Element boxes are drawn over links, so a route's ends are cut at the
//!   box edges; the centre of `nodes[&n]` is where a trace through `n`
//!   passes.
//!
//! Coordinates are SVG user units (pixels), `x` to the right, `y` down.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::model::{
    CircuitId, Connection, Domain, LinkId, LinkKind, NodeId, NodeKind, OrgId, RegionId, RemoteId,
    Segment, SiteKind, Topology,
};

/// Width of an element's box.
pub const BOX_W: f64 = 156.0;
/// Height of an element's box.
pub const BOX_H: f64 = 44.0;
/// Height of the band at the top that holds the lane titles.
pub const HEADER_H: f64 = 56.0;
/// Space above a labelled frame's first element, for its label.
pub const FRAME_LABEL_H: f64 = 16.0;
/// Width of a circuit's box in the ExpressRoute lane.
pub const CIRCUIT_W: f64 = 176.0;
/// Height of a circuit's box.
pub const CIRCUIT_H: f64 = 58.0;

const COL_GAP: f64 = 64.0;
const COL_PITCH: f64 = BOX_W + COL_GAP;
const ROW_PITCH: f64 = 72.0;
const LANE_PAD: f64 = 56.0;
const TOP_PAD: f64 = 12.0;
const BOTTOM_PAD: f64 = 16.0;
const FRAME_PAD: f64 = 10.0;
/// How far a region's services are indented under it.
const INDENT: f64 = 34.0;
/// Where a region's bus to its services runs, from the region's left edge.
const TRUNK: f64 = 16.0;
const CLOUD_H: f64 = 60.0;
/// Spacing of parallel lines on a bus or bracket.
const STEP: f64 = 6.0;
/// Vertical offset of an ExpressRoute connection from its row's centre line.
const ER_OFFSET: f64 = 6.0;
/// Vertical offset of a region's Internet link, below its circuits' lines.
const REGION_INET_OFFSET: f64 = 14.0;
/// Internet-lane columns.
const INTERNET_COLS: u32 = 2;

/// A point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal, growing to the right.
    pub x: f64,
    /// Vertical, growing downwards.
    pub y: f64,
}

/// An axis-aligned rectangle by its top-left corner and size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Its centre.
    pub fn center(&self) -> Point {
        Point {
            x: self.x + self.w / 2.0,
            y: self.y + self.h / 2.0,
        }
    }

    /// Its right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// Its bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Whether `inner` lies inside it (edges may touch).
    pub fn contains(&self, inner: &Rect) -> bool {
        inner.x >= self.x
            && inner.y >= self.y
            && inner.right() <= self.right()
            && inner.bottom() <= self.bottom()
    }

    /// Whether the insides of the two overlap (touching edges do not).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Whether the segment from `a` to `b` touches the rectangle.
    pub fn meets_segment(&self, a: Point, b: Point) -> bool {
        // Liang–Barsky: clip the segment's parameter range to each slab.
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.x - self.x),
            (dx, self.right() - a.x),
            (-dy, a.y - self.y),
            (dy, self.bottom() - a.y),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else if p < 0.0 {
                t0 = t0.max(q / p);
            } else {
                t1 = t1.min(q / p);
            }
        }
        t0 <= t1
    }

    fn union(&self, other: &Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        Rect {
            x,
            y,
            w: self.right().max(other.right()) - x,
            h: self.bottom().max(other.bottom()) - y,
        }
    }

    fn inflate(&self, left: f64, top: f64, right: f64, bottom: f64) -> Rect {
        Rect {
            x: self.x - left,
            y: self.y - top,
            w: self.w + left + right,
            h: self.h + top + bottom,
        }
    }

    /// Where the segment from the centre towards `to` leaves the rectangle
    /// (the centre itself if `to` is inside).
    fn exit_towards(&self, from: Point, to: Point) -> Point {
        let (dx, dy) = (to.x - from.x, to.y - from.y);
        let mut t: f64 = 1.0;
        if dx > 0.0 {
            t = t.min((self.right() - from.x) / dx);
        } else if dx < 0.0 {
            t = t.min((self.x - from.x) / dx);
        }
        if dy > 0.0 {
            t = t.min((self.bottom() - from.y) / dy);
        } else if dy < 0.0 {
            t = t.min((self.y - from.y) / dy);
        }
        let t = t.clamp(0.0, 1.0);
        Point {
            x: from.x + t * dx,
            y: from.y + t * dy,
        }
    }
}

/// One segment's lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneBox {
    /// Which segment.
    pub segment: Segment,
    /// Its area, title band included.
    pub rect: Rect,
}

/// What a frame groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FrameOf {
    /// Another organization's elements (labelled).
    Organization(OrgId),
    /// A remote location's elements (labelled).
    Remote(RemoteId),
    /// A Microsoft region's router and services (unlabelled: its router's
    /// box says which region it is).
    Region(RegionId),
}

impl FrameOf {
    /// Whether the frame leaves [`FRAME_LABEL_H`] at its top for a label.
    pub fn labelled(self) -> bool {
        !matches!(self, FrameOf::Region(_))
    }
}

/// A frame around a group of elements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// What it groups.
    pub of: FrameOf,
    /// Its outline.
    pub rect: Rect,
}

/// A laid-out topology.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Every element's box.
    pub nodes: BTreeMap<NodeId, Rect>,
    /// Every circuit's box, in the ExpressRoute lane.
    pub circuits: BTreeMap<CircuitId, Rect>,
    /// Every link's route, from one end's box edge to the other's.
    pub links: BTreeMap<LinkId, Vec<Point>>,
    /// Frames around organizations, remote locations and regions.
    pub frames: Vec<Frame>,
    /// The four lanes, in [`Segment::ALL`] order.
    pub lanes: [LaneBox; 4],
    /// Width of the whole drawing.
    pub width: f64,
    /// Height of the whole drawing.
    pub height: f64,
}

impl Layout {
    /// The lane of `segment`.
    pub fn lane(&self, segment: Segment) -> &LaneBox {
        &self.lanes[lane_index(segment)]
    }
}

fn lane_index(s: Segment) -> usize {
    match s {
        Segment::Customer => 0,
        Segment::Internet => 1,
        Segment::ExpressRoute => 2,
        Segment::Microsoft => 3,
    }
}

/// Lays `t` out. Same topology, same layout, to the last digit.
pub fn layout(t: &Topology) -> Layout {
    let mut g = Grid::default();
    let plan = internet_plan(t);
    customer_lane(t, &mut g, &plan);
    expressroute_lane(t, &mut g);
    microsoft_lane(t, &mut g);
    internet_lane(t, &mut g, &plan);
    leftovers(t, &mut g);
    geometry(t, &g)
}

// ----- the grid: lanes × columns × shared rows -------------------------------

/// An element's cell: lane, column, row, plus how many columns it spans and
/// an indent within its column.
#[derive(Clone, Copy, Debug)]
struct Slot {
    lane: usize,
    col: u32,
    row: u32,
    span: u32,
    indent: f64,
}

#[derive(Default)]
struct Grid {
    slots: BTreeMap<NodeId, Slot>,
    taken: BTreeSet<(usize, u32, u32)>,
    /// Columns used per lane.
    cols: [u32; 4],
    circuit_rows: BTreeMap<CircuitId, u32>,
    /// Rows where ExpressRoute connections cross the Internet lane.
    er_rows: BTreeSet<u32>,
    frames: Vec<(FrameOf, Vec<NodeId>)>,
}

impl Grid {
    fn free(&self, lane: usize, cols: std::ops::RangeInclusive<u32>, row: u32) -> bool {
        let blocked = lane == 1 && self.er_rows.contains(&row);
        !blocked
            && cols
                .into_iter()
                .all(|c| !self.taken.contains(&(lane, c, row)))
    }

    fn first_free(&self, lane: usize, cols: std::ops::RangeInclusive<u32>, from: u32) -> u32 {
        let mut row = from;
        while !self.free(lane, cols.clone(), row) {
            row += 1;
        }
        row
    }

    fn take(&mut self, lane: usize, cols: std::ops::RangeInclusive<u32>, row: u32) {
        for c in cols {
            self.taken.insert((lane, c, row));
        }
    }

    fn put(&mut self, node: NodeId, slot: Slot) {
        self.take(slot.lane, slot.col..=slot.col + slot.span - 1, slot.row);
        self.cols[slot.lane] = self.cols[slot.lane].max(slot.col + slot.span);
        self.slots.insert(node, slot);
    }

    fn rows(&self) -> u32 {
        let nodes = self.taken.iter().map(|&(_, _, r)| r + 1);
        let circuits = self.circuit_rows.values().map(|r| r + 1);
        nodes.chain(circuits).max().unwrap_or(1)
    }

    fn row_of(&self, n: NodeId) -> Option<u32> {
        self.slots.get(&n).map(|s| s.row)
    }
}

fn plain(lane: usize, col: u32, row: u32) -> Slot {
    Slot {
        lane,
        col,
        row,
        span: 1,
        indent: 0.0,
    }
}

/// Distinct neighbours of `n` inside `set`, in link declaration order.
fn neighbours_in(t: &Topology, n: NodeId, set: &BTreeSet<NodeId>) -> Vec<NodeId> {
    let mut out = Vec::new();
    for l in t.links_of(n) {
        let m = t.other_end(l, n);
        if m != n && set.contains(&m) && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// A breadth-first forest over one group of elements.
struct Forest {
    roots: Vec<NodeId>,
    children: BTreeMap<NodeId, Vec<NodeId>>,
    /// Hops from the root (sites are roots at depth 0).
    depth: BTreeMap<NodeId, u32>,
}

/// Grows a breadth-first forest over `members` from `seeds` (all at once,
/// in order), then from each element still unreached, in declaration order.
fn forest(t: &Topology, members: &[NodeId], seeds: &[NodeId]) -> Forest {
    let set: BTreeSet<NodeId> = members.iter().copied().collect();
    let mut f = Forest {
        roots: Vec::new(),
        children: BTreeMap::new(),
        depth: BTreeMap::new(),
    };
    let grow = |f: &mut Forest, starts: &[NodeId]| {
        let mut queue = VecDeque::new();
        for &s in starts {
            if let Entry::Vacant(e) = f.depth.entry(s) {
                e.insert(0);
                f.roots.push(s);
                queue.push_back(s);
            }
        }
        while let Some(n) = queue.pop_front() {
            let d = f.depth[&n];
            for m in neighbours_in(t, n, &set) {
                if let Entry::Vacant(e) = f.depth.entry(m) {
                    e.insert(d + 1);
                    f.children.entry(n).or_default().push(m);
                    queue.push_back(m);
                }
            }
        }
    };
    grow(&mut f, seeds);
    for &m in members {
        grow(&mut f, &[m]);
    }
    f
}

// ----- your network ----------------------------------------------------------

/// Sentinel column for border elements until the lane's last column is known.
const BORDER: u32 = u32::MAX;

fn customer_lane(t: &Topology, g: &mut Grid, plan: &InternetPlan) {
    const LANE: usize = 0;
    let mut groups: BTreeMap<Domain, Vec<NodeId>> = BTreeMap::new();
    for n in t.nodes() {
        let node = t.node(n);
        if node.lane == Segment::Customer {
            groups.entry(node.domain).or_default().push(n);
        }
    }
    // Columns first, so every group's border lines up on the lane's last column.
    let mut planned = Vec::new();
    let mut last = 1;
    for (&domain, members) in &groups {
        let set: BTreeSet<NodeId> = members.iter().copied().collect();
        // Offices and datacenters on the far left; a DMZ is part of the
        // perimeter, so it goes where its links put it.
        let site = |n: NodeId, dmz: bool| match &t.node(n).kind {
            NodeKind::Site(s) => dmz || s.kind != SiteKind::Dmz,
            _ => false,
        };
        let mut sites: Vec<NodeId> = members
            .iter()
            .copied()
            .filter(|&n| site(n, false))
            .collect();
        if sites.is_empty() {
            sites = members.iter().copied().filter(|&n| site(n, true)).collect();
        }
        let mut f = forest(t, members, &sites);
        let site_rooted: BTreeSet<NodeId> = {
            let mut s = BTreeSet::new();
            let mut stack: Vec<NodeId> = sites.clone();
            while let Some(n) = stack.pop() {
                if s.insert(n) {
                    stack.extend(f.children.get(&n).into_iter().flatten().copied());
                }
            }
            s
        };
        let mut col = BTreeMap::new();
        for &n in members {
            let leaves_group = t
                .links_of(n)
                .iter()
                .any(|&l| !set.contains(&t.other_end(l, n)));
            let c = if sites.contains(&n) {
                0
            } else if leaves_group {
                BORDER
            } else if site_rooted.contains(&n) {
                f.depth[&n]
            } else {
                f.depth[&n] + 1
            };
            if c != BORDER {
                last = last.max(c + 1);
            }
            col.insert(n, c);
        }
        // The branch that leads out of the network stays on its parent's
        // row; dead ends (servers, a DMZ's proxy) go below.
        let mut by_depth: Vec<NodeId> = f.depth.keys().copied().collect();
        by_depth.sort_by_key(|n| std::cmp::Reverse(f.depth[n]));
        let mut leads_out: BTreeSet<NodeId> = BTreeSet::new();
        for n in by_depth {
            let kids = f.children.get(&n).map(Vec::as_slice).unwrap_or_default();
            if col[&n] == BORDER || kids.iter().any(|k| leads_out.contains(k)) {
                leads_out.insert(n);
            }
        }
        for kids in f.children.values_mut() {
            kids.sort_by_key(|k| !leads_out.contains(k));
        }
        planned.push((domain, f, col));
    }
    let mut next_row = 0;
    for (domain, f, col) in planned {
        let col = |n: NodeId| match col[&n] {
            BORDER => last,
            c => c,
        };
        let first = if next_row == 0 { 0 } else { next_row + 1 };
        let first = match domain {
            Domain::Organization(_) => first.max(1),
            _ => first,
        };
        place_forest(g, LANE, &f, &col, first);
        let members: Vec<NodeId> = f.depth.keys().copied().collect();
        next_row = members
            .iter()
            .filter_map(|&n| g.row_of(n))
            .max()
            .map_or(next_row, |r| r + 1);
        if let Domain::Organization(o) = domain {
            g.frames.push((FrameOf::Organization(o), members.clone()));
            // The partner's own elements in the Internet lane (its Edge):
            // each on a row of its own below the frame, reached by an elbow
            // that crosses both lanes on that row.
            for (k, &n) in plan.satellites.iter().enumerate() {
                if t.node(n).domain == domain {
                    let row = next_row;
                    g.take(LANE, 0..=last, row);
                    g.take(1, 0..=k as u32, row);
                    g.put(n, plain(1, k as u32, row));
                    next_row += 1;
                }
            }
        }
    }
    g.cols[LANE] = g.cols[LANE].max(last + 1);
}

/// Places a forest depth-first: each element on the first free row at or
/// below its parent's, keeping the cells its link to the parent skips over.
fn place_forest(
    g: &mut Grid,
    lane: usize,
    f: &Forest,
    col: &dyn Fn(NodeId) -> u32,
    first_row: u32,
) {
    for &root in &f.roots {
        let mut stack = vec![(root, None::<(u32, u32)>)];
        while let Some((n, parent)) = stack.pop() {
            let c = col(n);
            let (cells, min_row) = match parent {
                Some((pc, pr)) if c > pc + 1 => (pc + 1..=c, pr),
                Some((pc, pr)) if c + 1 < pc => (c..=pc - 1, pr),
                Some((_, pr)) => (c..=c, pr),
                None => (c..=c, first_row),
            };
            let row = g.first_free(lane, cells.clone(), min_row);
            g.take(lane, cells, row);
            g.put(n, plain(lane, c, row));
            for &child in f.children.get(&n).into_iter().flatten().rev() {
                stack.push((child, Some((c, row))));
            }
        }
    }
}

// ----- ExpressRoute ---------------------------------------------------------

fn expressroute_lane(t: &Topology, g: &mut Grid) {
    const LANE: usize = 2;
    for (i, c) in t.circuits.iter().enumerate() {
        let id = CircuitId(i as u16);
        let ce_row = g.row_of(c.customer_edge).unwrap_or(0);
        let row = g.first_free(LANE, 0..=0, ce_row);
        g.take(LANE, 0..=0, row);
        g.circuit_rows.insert(id, row);
        for r in ce_row.min(row)..=ce_row.max(row) {
            g.er_rows.insert(r);
        }
    }
    g.cols[LANE] = 1;
}

// ----- Microsoft -------------------------------------------------------------

fn microsoft_lane(t: &Topology, g: &mut Grid) {
    const LANE: usize = 3;
    for (i, region) in t.regions.iter().enumerate() {
        let id = RegionId(i as u16);
        let desired = t
            .circuits
            .iter()
            .enumerate()
            .filter(|(_, c)| c.microsoft_edge == id)
            .filter_map(|(ci, _)| g.circuit_rows.get(&CircuitId(ci as u16)).copied())
            .min()
            .unwrap_or(0);
        let services: Vec<NodeId> = region
            .services
            .iter()
            .copied()
            .filter(|s| t.node(*s).lane == Segment::Microsoft && !g.slots.contains_key(s))
            .collect();
        let rows = services.len() as u32 + 1;
        let mut start = desired;
        while !(start..start + rows).all(|r| g.free(LANE, 0..=0, r)) {
            start += 1;
        }
        if t.node(region.node).lane == Segment::Microsoft {
            g.put(region.node, plain(LANE, 0, start));
        }
        for (k, &s) in services.iter().enumerate() {
            let mut slot = plain(LANE, 0, start + 1 + k as u32);
            slot.indent = INDENT;
            g.put(s, slot);
        }
        let mut members = vec![region.node];
        members.extend(services);
        g.frames.push((FrameOf::Region(id), members));
    }
    g.cols[LANE] = 1;
}

// ----- Internet -------------------------------------------------------------

/// What the Internet lane will hold besides the Internet and its servers.
struct InternetPlan {
    /// Remote locations and organizations that live wholly on the Internet
    /// (Skype consumer users): one framed column each.
    frames: Vec<(Domain, Vec<NodeId>)>,
    /// Internet-lane elements of organizations whose network is drawn in
    /// your lane (an on-prem partner's Edge): a column each, on the left,
    /// so the link from the partner's network reaches it without crossing
    /// anything but the margin, and its own link rises straight to the
    /// Internet box.
    satellites: Vec<NodeId>,
    /// Columns: one per satellite and one per frame, at least two.
    cols: u32,
}

fn internet_plan(t: &Topology) -> InternetPlan {
    let drawn_in_customer: BTreeSet<Domain> = t
        .nodes()
        .map(|n| t.node(n))
        .filter(|n| n.lane == Segment::Customer)
        .map(|n| n.domain)
        .collect();
    let mut frames: BTreeMap<Domain, Vec<NodeId>> = BTreeMap::new();
    let mut satellites = Vec::new();
    for n in t.nodes() {
        let node = t.node(n);
        if node.lane != Segment::Internet {
            continue;
        }
        match node.domain {
            Domain::Organization(_) if drawn_in_customer.contains(&node.domain) => {
                satellites.push(n)
            }
            Domain::Remote(_) | Domain::Organization(_) => {
                frames.entry(node.domain).or_default().push(n)
            }
            _ => {}
        }
    }
    let cols = (frames.len() + satellites.len()).max(INTERNET_COLS as usize) as u32;
    InternetPlan {
        frames: frames.into_iter().collect(),
        satellites,
        cols,
    }
}

fn internet_lane(t: &Topology, g: &mut Grid, plan: &InternetPlan) {
    const LANE: usize = 1;
    let cloud = t.internet;
    let cols = plan.cols;
    let servers: Vec<NodeId> = t
        .nodes()
        .filter(|&n| {
            let node = t.node(n);
            n != cloud
                && node.lane == Segment::Internet
                && !matches!(node.domain, Domain::Remote(_) | Domain::Organization(_))
        })
        .collect();
    let above = servers.len().div_ceil(INTERNET_COLS as usize) as u32;
    // Near the middle of what links to it from other lanes, with room
    // above for the servers.
    let mut rows: Vec<u32> = t
        .links_of(cloud)
        .iter()
        .map(|&l| t.other_end(l, cloud))
        .filter(|&m| t.node(m).lane != Segment::Internet)
        .filter_map(|m| g.row_of(m))
        .collect();
    rows.sort_unstable();
    let target = rows
        .get(rows.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    let all = 0..=cols - 1;
    let pair = 0..=INTERNET_COLS - 1;
    let fits = |g: &Grid, r: u32| {
        g.free(LANE, all.clone(), r)
            && (0..r).filter(|&q| g.free(LANE, pair.clone(), q)).count() as u32 >= above
    };
    // Every row from g.rows() on is free, so the search ends by then.
    let row = (0..=g.rows() + above)
        .filter(|&r| fits(g, r))
        .min_by_key(|&r| (r.abs_diff(target), r))
        .unwrap_or_else(|| g.first_free(LANE, all.clone(), g.rows() + above));
    g.put(
        cloud,
        Slot {
            lane: LANE,
            col: 0,
            row,
            span: cols,
            indent: 0.0,
        },
    );
    // Servers above, nearest row first, on both sides of a trunk.
    let cells: Vec<(u32, u32)> = (0..row)
        .rev()
        .filter(|&q| g.free(LANE, pair.clone(), q))
        .flat_map(|q| (0..INTERNET_COLS).map(move |c| (c, q)))
        .take(servers.len())
        .collect();
    for (&s, &(c, q)) in servers.iter().zip(&cells) {
        g.put(s, plain(LANE, c, q));
    }
    // Remote locations and Skype consumer users: a framed column each,
    // below, their way out (the NAT) on top.
    let base = row + 2;
    for (k, (domain, members)) in plan.frames.iter().enumerate() {
        let set: BTreeSet<NodeId> = members.iter().copied().collect();
        let border: Vec<NodeId> = members
            .iter()
            .copied()
            .filter(|&n| {
                t.links_of(n)
                    .iter()
                    .any(|&l| !set.contains(&t.other_end(l, n)))
            })
            .collect();
        let f = forest(t, members, &border);
        let mut chain: Vec<NodeId> = members.clone();
        chain.sort_by_key(|n| (f.depth[n], *n));
        let c = (plan.satellites.len() + k) as u32;
        let len = chain.len() as u32;
        let mut start = base;
        // Contiguous free rows, and the cell above free of boxes for the label.
        let fits = |g: &Grid, start: u32| {
            (start..start + len).all(|r| g.free(LANE, c..=c, r))
                && !g.taken.contains(&(LANE, c, start - 1))
        };
        while !fits(g, start) {
            start += 1;
        }
        for (i, &n) in chain.iter().enumerate() {
            g.put(n, plain(LANE, c, start + i as u32));
        }
        let of = match *domain {
            Domain::Remote(r) => Some(FrameOf::Remote(r)),
            Domain::Organization(o) => Some(FrameOf::Organization(o)),
            _ => None,
        };
        if let Some(of) = of {
            g.frames.push((of, chain));
        }
    }
    g.cols[LANE] = g.cols[LANE].max(cols);
}

/// Anything no rule placed goes at the bottom of its lane.
fn leftovers(t: &Topology, g: &mut Grid) {
    for n in t.nodes() {
        if g.slots.contains_key(&n) {
            continue;
        }
        let lane = lane_index(t.node(n).lane);
        let row = g.first_free(lane, 0..=0, g.rows());
        g.put(n, plain(lane, 0, row));
    }
}

// ----- geometry --------------------------------------------------------------

fn row_center(row: u32) -> f64 {
    HEADER_H + TOP_PAD + row as f64 * ROW_PITCH + ROW_PITCH / 2.0
}

fn geometry(t: &Topology, g: &Grid) -> Layout {
    let content = |cols: u32| cols.max(1) as f64 * COL_PITCH - COL_GAP;
    let widths = [
        2.0 * LANE_PAD + content(g.cols[0]),
        2.0 * LANE_PAD + content(g.cols[1]),
        2.0 * LANE_PAD + CIRCUIT_W.max(content(g.cols[2])),
        2.0 * LANE_PAD + INDENT + content(g.cols[3]),
    ];
    let height = HEADER_H + TOP_PAD + g.rows() as f64 * ROW_PITCH + BOTTOM_PAD;
    let mut x = 0.0;
    let lanes = Segment::ALL.map(|segment| {
        let w = widths[lane_index(segment)];
        let lane = LaneBox {
            segment,
            rect: Rect {
                x,
                y: 0.0,
                w,
                h: height,
            },
        };
        x += w;
        lane
    });
    let width = x;

    let mut nodes = BTreeMap::new();
    for (&n, s) in &g.slots {
        let lane = &lanes[s.lane].rect;
        let w = s.span as f64 * COL_PITCH - COL_GAP;
        let h = if n == t.internet { CLOUD_H } else { BOX_H };
        let cx = lane.x + LANE_PAD + s.col as f64 * COL_PITCH + s.indent + w / 2.0;
        let cy = row_center(s.row);
        nodes.insert(
            n,
            Rect {
                x: cx - w / 2.0,
                y: cy - h / 2.0,
                w,
                h,
            },
        );
    }
    let er = lanes[2].rect;
    let circuits: BTreeMap<CircuitId, Rect> = g
        .circuit_rows
        .iter()
        .map(|(&c, &row)| {
            let r = Rect {
                x: er.x + (er.w - CIRCUIT_W) / 2.0,
                y: row_center(row) - CIRCUIT_H / 2.0,
                w: CIRCUIT_W,
                h: CIRCUIT_H,
            };
            (c, r)
        })
        .collect();
    let frames = g
        .frames
        .iter()
        .filter_map(|(of, members)| {
            let rect = members
                .iter()
                .filter_map(|n| nodes.get(n))
                .copied()
                .reduce(|a, b| a.union(&b))?;
            let top = FRAME_PAD + if of.labelled() { FRAME_LABEL_H } else { 0.0 };
            Some(Frame {
                of: *of,
                rect: rect.inflate(FRAME_PAD, top, FRAME_PAD, FRAME_PAD),
            })
        })
        .collect();
    let mut out = Layout {
        nodes,
        circuits,
        links: BTreeMap::new(),
        frames,
        lanes,
        width,
        height,
    };
    out.links = routes(t, &out);
    out
}

// ----- link routes ----------------------------------------------------------

/// Which bus a link to the Internet box runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Bus {
    /// From your network, in the Internet lane's left margin.
    Customer,
    /// From Microsoft, in the ExpressRoute lane's right margin.
    Microsoft,
}

/// How a link is drawn, before the routes that share space are spread.
enum Route {
    /// Through its circuit's box.
    Circuit {
        near: NodeId,
        far: NodeId,
        circuit: CircuitId,
        offset: f64,
    },
    /// To the Internet box along a bus in a lane margin.
    ToCloud { from: NodeId, bus: Bus },
    /// From a router (a region's, or the Internet) along a trunk to an
    /// element stacked beside it.
    Trunk { root: NodeId, leaf: NodeId },
    /// Straight down from an element to the Internet box above it.
    Drop { from: NodeId, cloud: NodeId },
    /// From an element to one in a column further right on another row:
    /// along a trunk in a column gap, then along a row that is clear. The
    /// trunk is beside one end (its owner), shared by all its links that
    /// way, like a bus.
    Fan {
        left: NodeId,
        right: NodeId,
        owner_left: bool,
    },
    /// Beside a column, between two elements of it that are not neighbours.
    Bracket {
        top: NodeId,
        bottom: NodeId,
        right: bool,
    },
    /// Down from the customer-lane end, then across to the other.
    Elbow { from: NodeId, to: NodeId },
    /// A straight line.
    Straight { a: NodeId, b: NodeId },
}

fn classify(t: &Topology, l: &Layout, link: LinkId) -> Route {
    let (a, b) = t.ends(link);
    let (ra, rb) = (l.nodes[&a], l.nodes[&b]);
    let (na, nb) = (t.node(a), t.node(b));
    let lk = t.link(link);
    if let (LinkKind::ExpressRoute, Some((circuit, conn))) = (lk.kind, lk.circuit)
        && l.circuits.contains_key(&circuit)
    {
        let (near, far) = if ra.x <= rb.x { (a, b) } else { (b, a) };
        let offset = match conn {
            Connection::Primary => -ER_OFFSET,
            Connection::Secondary => ER_OFFSET,
        };
        return Route::Circuit {
            near,
            far,
            circuit,
            offset,
        };
    }
    if a != b && (a == t.internet || b == t.internet) {
        let (cloud, from) = if a == t.internet { (a, b) } else { (b, a) };
        let (rc, rf) = (l.nodes[&cloud], l.nodes[&from]);
        let bus = match t.node(from).lane {
            Segment::Customer => Some(Bus::Customer),
            Segment::Microsoft | Segment::ExpressRoute => Some(Bus::Microsoft),
            Segment::Internet => None,
        };
        if let Some(bus) = bus {
            return Route::ToCloud { from, bus };
        }
        let under = rf.center().x > rc.x && rf.center().x < rc.right();
        if under && rf.bottom() <= rc.y {
            return Route::Trunk {
                root: cloud,
                leaf: from,
            };
        }
        if under && rf.y >= rc.bottom() {
            return Route::Drop { from, cloud };
        }
    }
    if lk.kind == LinkKind::Datacenter {
        for (root, leaf) in [(a, b), (b, a)] {
            let (rr, rs) = (l.nodes[&root], l.nodes[&leaf]);
            if matches!(t.node(root).kind, NodeKind::Region(_)) && rs.x > rr.x && rs.y > rr.y {
                return Route::Trunk { root, leaf };
            }
        }
    }
    let (ca, cb) = (ra.center(), rb.center());
    let rows_apart = (ca.y - cb.y).abs() / ROW_PITCH;
    let cols_apart = (ca.x - cb.x).abs() / COL_PITCH;
    let fan_lane = na.lane == nb.lane && matches!(na.lane, Segment::Customer | Segment::Internet);
    if fan_lane
        && ((cols_apart > 0.5 && rows_apart > 1.5) || (cols_apart > 1.5 && rows_apart > 0.5))
    {
        let (left, right) = if ca.x < cb.x { (a, b) } else { (b, a) };
        let (rl, rr) = (l.nodes[&left], l.nodes[&right]);
        // Along the right end's row if nothing stands in the way there (the
        // placement keeps that row clear for a child to the right), else
        // along the left end's.
        let clear = |from: Point, to: Point| {
            !l.nodes
                .iter()
                .any(|(&n, r)| n != left && n != right && r.meets_segment(from, to))
        };
        let y = rr.center().y;
        let owner_left = clear(
            Point {
                x: rl.right() + COL_GAP,
                y,
            },
            Point { x: rr.x, y },
        ) || cols_apart < 1.5;
        return Route::Fan {
            left,
            right,
            owner_left,
        };
    }
    if na.lane == nb.lane && (ra.center().x - rb.center().x).abs() < 0.5 {
        let rows_apart = (ra.center().y - rb.center().y).abs() / ROW_PITCH;
        if rows_apart > 1.5 {
            let (top, bottom) = if ra.y < rb.y { (a, b) } else { (b, a) };
            return Route::Bracket {
                top,
                bottom,
                right: na.lane != Segment::Microsoft,
            };
        }
    }
    let cust_inet = |x: Segment, y: Segment| x == Segment::Customer && y == Segment::Internet;
    if cust_inet(na.lane, nb.lane) && rb.y > ra.bottom() {
        return Route::Elbow { from: a, to: b };
    }
    if cust_inet(nb.lane, na.lane) && ra.y > rb.bottom() {
        return Route::Elbow { from: b, to: a };
    }
    Route::Straight { a, b }
}

fn routes(t: &Topology, l: &Layout) -> BTreeMap<LinkId, Vec<Point>> {
    let mut classified: Vec<(LinkId, Route)> = t.links().map(|k| (k, classify(t, l, k))).collect();
    // A diagonal to the next row joins its element's fan, if it has one.
    let fanning: BTreeSet<NodeId> = classified
        .iter()
        .filter_map(|(_, r)| match r {
            Route::Fan { left, .. } => Some(*left),
            _ => None,
        })
        .collect();
    for (_, r) in &mut classified {
        if let Route::Straight { a, b } = *r {
            let (ca, cb) = (l.nodes[&a].center(), l.nodes[&b].center());
            let (left, right) = if ca.x < cb.x { (a, b) } else { (b, a) };
            let next_column = ((ca.x - cb.x).abs() - COL_PITCH).abs() < 0.5;
            if next_column && (ca.y - cb.y).abs() > 0.5 && fanning.contains(&left) {
                *r = Route::Fan {
                    left,
                    right,
                    owner_left: true,
                };
            }
        }
    }
    // Connections leaving or reaching one element spread over its side.
    let mut ends: BTreeMap<NodeId, Vec<(CircuitId, f64, LinkId)>> = BTreeMap::new();
    for (link, r) in &classified {
        if let Route::Circuit {
            near,
            far,
            circuit,
            offset,
        } = *r
        {
            ends.entry(near).or_default().push((circuit, offset, *link));
            ends.entry(far).or_default().push((circuit, offset, *link));
        }
    }
    let mut end_offset: BTreeMap<(NodeId, LinkId), f64> = BTreeMap::new();
    for (node, mut list) in ends {
        list.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
        let k = list.len() as f64;
        let limit = BOX_H / 2.0 - 3.0;
        for (i, &(_, _, link)) in list.iter().enumerate() {
            let off = (i as f64 - (k - 1.0) / 2.0) * 2.0 * ER_OFFSET;
            end_offset.insert((node, link), off.clamp(-limit, limit));
        }
    }
    let mut out = BTreeMap::new();
    out.extend(fans(l, &classified));
    if let Some(&cloud) = l.nodes.get(&t.internet) {
        out.extend(buses(l, cloud, &classified));
    }
    out.extend(brackets(l, &classified));

    // Parallel straight links between the same two elements fan out.
    let mut pairs: BTreeMap<(NodeId, NodeId), Vec<LinkId>> = BTreeMap::new();
    for (link, r) in &classified {
        if let Route::Straight { a, b } = r {
            pairs
                .entry(((*a).min(*b), (*a).max(*b)))
                .or_default()
                .push(*link);
        }
    }
    for (link, r) in &classified {
        let pts = match *r {
            Route::Circuit {
                near,
                far,
                circuit,
                offset,
            } => {
                let (rn, rf, bx) = (l.nodes[&near], l.nodes[&far], l.circuits[&circuit]);
                let y = bx.center().y + offset;
                vec![
                    Point {
                        x: rn.right(),
                        y: rn.center().y + end_offset[&(near, *link)],
                    },
                    Point { x: bx.x, y },
                    Point { x: bx.right(), y },
                    Point {
                        x: rf.x,
                        y: rf.center().y + end_offset[&(far, *link)],
                    },
                ]
            }
            Route::Trunk { root, leaf } => {
                let (rr, rs) = (l.nodes[&root], l.nodes[&leaf]);
                if rs.y > rr.y {
                    // A region's services hang below it, indented.
                    let x = rr.x + TRUNK;
                    vec![
                        Point { x, y: rr.bottom() },
                        Point {
                            x,
                            y: rs.center().y,
                        },
                        Point {
                            x: rs.x,
                            y: rs.center().y,
                        },
                    ]
                } else {
                    // The Internet's servers stand above it, both sides of
                    // the trunk in the first column gap.
                    let x = rr.x + BOX_W + COL_GAP / 2.0;
                    let end = if rs.center().x < x { rs.right() } else { rs.x };
                    vec![
                        Point { x, y: rr.y },
                        Point {
                            x,
                            y: rs.center().y,
                        },
                        Point {
                            x: end,
                            y: rs.center().y,
                        },
                    ]
                }
            }
            Route::Drop { from, cloud } => {
                let (rf, rc) = (l.nodes[&from], l.nodes[&cloud]);
                let x = rf.center().x;
                vec![Point { x, y: rf.y }, Point { x, y: rc.bottom() }]
            }
            Route::Elbow { from, to } => {
                let (rf, rt) = (l.nodes[&from], l.nodes[&to]);
                let x = rf.center().x;
                vec![
                    Point { x, y: rf.bottom() },
                    Point {
                        x,
                        y: rt.center().y,
                    },
                    Point {
                        x: rt.x,
                        y: rt.center().y,
                    },
                ]
            }
            Route::Straight { a, b } => {
                let siblings = &pairs[&(a.min(b), a.max(b))];
                let i = siblings.iter().position(|x| x == link).unwrap_or(0) as f64;
                let shift = (i - (siblings.len() as f64 - 1.0) / 2.0) * STEP;
                straight(l.nodes[&a], l.nodes[&b], shift)
            }
            Route::ToCloud { .. } | Route::Bracket { .. } | Route::Fan { .. } => continue,
        };
        out.insert(*link, pts);
    }
    out
}

/// Routes along the buses to the Internet box. Per bus, links coming from
/// above and from below are spread apart: the one whose far end is nearest
/// the box's row runs farthest from the box and enters it nearest its
/// middle, so no bus crosses another's legs.
fn buses(l: &Layout, cloud: Rect, classified: &[(LinkId, Route)]) -> Vec<(LinkId, Vec<Point>)> {
    let c = cloud.center();
    // Per bus and side of the box: (distance from its row, link, far end).
    type Group = Vec<(f64, LinkId, NodeId)>;
    let mut groups: BTreeMap<(Bus, bool), Group> = BTreeMap::new();
    for (link, r) in classified {
        if let Route::ToCloud { from, bus } = r {
            let y = l.nodes[from].center().y;
            groups
                .entry((*bus, y <= c.y))
                .or_default()
                .push(((y - c.y).abs(), *link, *from));
        }
    }
    let inet = l.lane(Segment::Internet).rect;
    let er = l.lane(Segment::ExpressRoute).rect;
    let mut out = Vec::new();
    for ((bus, above), mut list) in groups {
        list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let n = list.len() as f64;
        let step = STEP.min((LANE_PAD - 18.0) / n);
        let room = CLOUD_H / 2.0 - 4.0;
        let middle = c.y;
        let leg_step = STEP.min(room / n);
        for (i, &(_, link, from)) in list.iter().enumerate() {
            let i = i as f64;
            let r = l.nodes[&from];
            let leg = if above {
                middle - leg_step / 2.0 - i * leg_step
            } else {
                middle + leg_step / 2.0 + i * leg_step
            };
            let (start, bx, end) = match bus {
                Bus::Customer => (
                    Point {
                        x: r.right(),
                        y: r.center().y,
                    },
                    inet.x + 12.0 + i * step,
                    cloud.x,
                ),
                Bus::Microsoft => (
                    Point {
                        x: r.x,
                        y: r.center().y + REGION_INET_OFFSET,
                    },
                    er.right() - 12.0 - i * step,
                    cloud.right(),
                ),
            };
            out.push((
                link,
                vec![
                    start,
                    Point { x: bx, y: start.y },
                    Point { x: bx, y: leg },
                    Point { x: end, y: leg },
                ],
            ));
        }
    }
    out
}

/// Routes of fans: each owner's trunk in the gap beside it, the lowest
/// owner's nearest the gap's left, so no fan crosses another's legs.
fn fans(l: &Layout, classified: &[(LinkId, Route)]) -> Vec<(LinkId, Vec<Point>)> {
    let owner = |left: NodeId, right: NodeId, owner_left: bool| {
        if owner_left {
            (left, l.nodes[&left].right())
        } else {
            (right, l.nodes[&right].x - COL_GAP)
        }
    };
    let mut gaps: BTreeMap<i64, BTreeSet<(i64, NodeId)>> = BTreeMap::new();
    for (_, r) in classified {
        if let Route::Fan {
            left,
            right,
            owner_left,
        } = *r
        {
            let (n, gap) = owner(left, right, owner_left);
            gaps.entry(gap.round() as i64)
                .or_default()
                .insert((-(l.nodes[&n].y.round() as i64), n));
        }
    }
    let mut trunk: BTreeMap<(i64, NodeId), f64> = BTreeMap::new();
    for (&gap, owners) in &gaps {
        let n = owners.len() as f64;
        let step = STEP.min((COL_GAP - 24.0) / n);
        for (k, &(_, node)) in owners.iter().enumerate() {
            trunk.insert((gap, node), gap as f64 + 12.0 + k as f64 * step);
        }
    }
    let mut out = Vec::new();
    for (link, r) in classified {
        if let Route::Fan {
            left,
            right,
            owner_left,
        } = *r
        {
            let (rl, rr) = (l.nodes[&left], l.nodes[&right]);
            let (n, gap) = owner(left, right, owner_left);
            let x = trunk[&(gap.round() as i64, n)];
            out.push((
                *link,
                vec![
                    Point {
                        x: rl.right(),
                        y: rl.center().y,
                    },
                    Point {
                        x,
                        y: rl.center().y,
                    },
                    Point {
                        x,
                        y: rr.center().y,
                    },
                    Point {
                        x: rr.x,
                        y: rr.center().y,
                    },
                ],
            ));
        }
    }
    out
}

/// Routes of brackets beside a column: the shortest innermost, its legs
/// nearest the boxes' middles, so nested ones don't cross.
fn brackets(l: &Layout, classified: &[(LinkId, Route)]) -> Vec<(LinkId, Vec<Point>)> {
    // Per column and side: (span, link, top, bottom).
    type Group = Vec<(f64, LinkId, NodeId, NodeId)>;
    let mut groups: BTreeMap<(i64, bool), Group> = BTreeMap::new();
    for (link, r) in classified {
        if let Route::Bracket { top, bottom, right } = r {
            let (rt, rb) = (l.nodes[top], l.nodes[bottom]);
            groups
                .entry((rt.center().x.round() as i64, *right))
                .or_default()
                .push((rb.y - rt.y, *link, *top, *bottom));
        }
    }
    let mut out = Vec::new();
    for ((_, right), mut list) in groups {
        list.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let n = list.len() as f64;
        let step = STEP.min((COL_GAP / 2.0 - 10.0) / n);
        let leg_step = STEP.min((BOX_H / 2.0 - 10.0) / n);
        for (i, &(_, link, top, bottom)) in list.iter().enumerate() {
            let i = i as f64;
            let (rt, rb) = (l.nodes[&top], l.nodes[&bottom]);
            let (edge, bx) = if right {
                (rt.right(), rt.right() + 10.0 + i * step)
            } else {
                (rt.x, rt.x - 10.0 - i * step)
            };
            // Legs below the top box's middle and above the bottom box's,
            // clear of the straight links that leave from the middles.
            let yt = rt.center().y + 6.0 + (n - 1.0 - i) * leg_step;
            let yb = rb.center().y - 6.0 - (n - 1.0 - i) * leg_step;
            out.push((
                link,
                vec![
                    Point { x: edge, y: yt },
                    Point { x: bx, y: yt },
                    Point { x: bx, y: yb },
                    Point { x: edge, y: yb },
                ],
            ));
        }
    }
    out
}

/// A line between two boxes, cut at their edges, moved `shift` sideways.
fn straight(ra: Rect, rb: Rect, shift: f64) -> Vec<Point> {
    let (ca, cb) = (ra.center(), rb.center());
    let (dx, dy) = (cb.x - ca.x, cb.y - ca.y);
    let len = (dx * dx + dy * dy).sqrt();
    let (nx, ny) = if len > 0.0 {
        (-dy / len * shift, dx / len * shift)
    } else {
        (0.0, 0.0)
    };
    let ca = Point {
        x: ca.x + nx,
        y: ca.y + ny,
    };
    let cb = Point {
        x: cb.x + nx,
        y: cb.y + ny,
    };
    vec![ra.exit_towards(ca, cb), rb.exit_towards(cb, ca)]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::validate::topology_from_source;

    fn multi_site() -> Topology {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/multi-site.toml");
        crate::validate::load_topology(std::path::Path::new(path)).expect("example loads")
    }

    /// Partners of every kind, an on-prem Edge, a proxy, two circuits.
    pub(crate) const PARTNERS: &str = r#"
name = "partners"
[tenant]
home_region = "us-east"

[[region]]
name = "us-east"
geography = "north-america"
peering_locations = ["New York"]
prefixes = ["52.112.0.0/16"]
service = [
  { kind = "online-edge", address = "52.112.1.10" },
  { kind = "registrar", address = "52.112.2.10" },
]

[[region]]
name = "eu-west"
geography = "europe"
peering_locations = ["London"]
prefixes = ["52.113.0.0/16"]
service = [{ kind = "online-edge", address = "52.113.1.10" }]

[[link]]
name = "backbone"
kind = "backbone"
ends = ["us-east", "eu-west"]

[[site]]
name = "office"
subnets = ["10.1.0.0/16"]

[[site]]
name = "dmz"
kind = "dmz"
subnets = ["10.9.0.0/24"]

[[router]]
name = "core"

[[router]]
name = "ce"

[[nat]]
name = "inet-nat"
pool = ["198.51.100.0/28"]
outside = ["isp"]

[[link]]
name = "office-lan"
kind = "lan"
ends = ["office", "core"]

[[link]]
name = "dmz-lan"
kind = "lan"
ends = ["dmz", "core"]

[[link]]
name = "core-ce"
kind = "lan"
ends = ["core", "ce"]

[[link]]
name = "ce-nat"
kind = "lan"
ends = ["ce", "inet-nat"]

[[link]]
name = "isp"
kind = "internet-access"
ends = ["inet-nat", "internet"]
capacity = "1Gbps"

[[edge]]
name = "sfb-edge"
internal = { address = "10.9.0.10", at = "dmz" }
external = { address = "198.51.100.100", at = "outer-fw" }

[[firewall]]
name = "outer-fw"
default = "allow"

[[link]]
name = "edge-isp"
kind = "internet-access"
ends = ["outer-fw", "internet"]
capacity = "1Gbps"
advertise = ["198.51.100.100/32"]

[[circuit]]
name = "er-a"
peering_location = "New York"
bandwidth = "1Gbps"
sku = "standard"
customer_edge = "ce"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]

[[circuit]]
name = "er-b"
peering_location = "London"
bandwidth = "500Mbps"
sku = "premium"
customer_edge = "ce"
microsoft_edge = "eu-west"
route_filter = ["12076:5030"]
secondary = false

[[remote]]
name = "home"
kind = "home"
subnet = "192.168.1.0/24"
public = "192.0.2.10"

[[remote]]
name = "cafe"
kind = "coffee-shop"
subnet = "172.16.0.0/24"
public = "192.0.2.11"
firewall = { stateful = true }

[[server]]
name = "dns"
kind = "dns"
address = "203.0.113.170"
at = "internet"

[[organization]]
name = "fabrikam"
kind = "online"
home_region = "us-east"
subnet = "10.80.0.0/16"
public = "192.0.2.50"
firewall = { stateful = true }
expressroute = { region = "us-east", public = "198.18.10.0/28" }

[[organization]]
name = "litware"
kind = "on-prem"
subnet = "10.82.0.0/16"
public = "192.0.2.70"
edge = "198.18.20.10"
server = "10.82.1.10"

[[organization]]
name = "skype"
kind = "skype-consumer"
subnet = "192.168.0.0/24"
public = "198.18.30.10"
server = "203.0.113.40"
"#;

    pub(crate) fn partners() -> Topology {
        topology_from_source(&SourceFile::new("partners.toml", PARTNERS)).unwrap_or_else(|d| {
            panic!(
                "fixture is valid:\n{}",
                crate::diag::InvalidInput::from(d).render()
            )
        })
    }

    fn check_invariants(t: &Topology, l: &Layout) {
        assert_eq!(l.nodes.len(), t.graph.node_count());
        for n in t.nodes() {
            let node = t.node(n);
            let r = l.nodes[&n];
            let lane = l.lane(node.lane).rect;
            assert!(
                lane.contains(&r),
                "{} ({:?}) at {r:?} is outside its lane {lane:?}",
                node.name,
                node.lane
            );
            assert!(r.y >= HEADER_H, "{} sits in the title band", node.name);
        }
        let all: Vec<(NodeId, Rect)> = l.nodes.iter().map(|(&n, &r)| (n, r)).collect();
        for (i, (a, ra)) in all.iter().enumerate() {
            for (b, rb) in &all[i + 1..] {
                assert!(
                    !ra.overlaps(rb),
                    "{} and {} overlap",
                    t.node(*a).name,
                    t.node(*b).name
                );
            }
            for (c, rc) in &l.circuits {
                assert!(
                    !ra.overlaps(rc),
                    "{} overlaps circuit {c:?}",
                    t.node(*a).name
                );
            }
        }
        let er = l.lane(Segment::ExpressRoute).rect;
        for (c, r) in &l.circuits {
            assert!(
                er.contains(r),
                "circuit {c:?} is outside the ExpressRoute lane"
            );
        }
        assert_eq!(l.circuits.len(), t.circuits.len());
        assert_eq!(l.links.len(), t.graph.edge_count());
        for (link, pts) in &l.links {
            assert!(pts.len() >= 2, "{} has no route", t.link(*link).name);
            for p in pts {
                assert!(
                    p.x >= 0.0 && p.x <= l.width && p.y >= HEADER_H && p.y <= l.height,
                    "{} leaves the drawing at {p:?}",
                    t.link(*link).name
                );
            }
        }
        for w in l.lanes.windows(2) {
            assert_eq!(w[0].rect.right(), w[1].rect.x, "lanes abut left to right");
        }
        assert_eq!(l.lanes.map(|b| b.segment), Segment::ALL);
        assert_eq!(l.lanes[3].rect.right(), l.width);
    }

    /// Whether the straight segment from `a` to `b` passes through the
    /// inside of `r`.
    fn through(r: &Rect, a: Point, b: Point) -> bool {
        let inner = r.inflate(-2.0, -2.0, -2.0, -2.0);
        (0..=64).any(|k| {
            let s = k as f64 / 64.0;
            let p = Point {
                x: a.x + s * (b.x - a.x),
                y: a.y + s * (b.y - a.y),
            };
            p.x > inner.x && p.x < inner.right() && p.y > inner.y && p.y < inner.bottom()
        })
    }

    #[test]
    fn segments_hit_rectangles_they_cross_only() {
        let r = Rect {
            x: 10.0,
            y: 10.0,
            w: 10.0,
            h: 10.0,
        };
        let p = |x, y| Point { x, y };
        assert!(r.meets_segment(p(0.0, 15.0), p(30.0, 15.0)));
        assert!(r.meets_segment(p(0.0, 0.0), p(30.0, 30.0)));
        assert!(r.meets_segment(p(12.0, 12.0), p(14.0, 14.0)));
        assert!(!r.meets_segment(p(0.0, 25.0), p(30.0, 25.0)));
        assert!(!r.meets_segment(p(0.0, 0.0), p(9.0, 30.0)));
        assert!(!r.meets_segment(p(25.0, 0.0), p(25.0, 30.0)));
    }

    #[test]
    fn layout_is_deterministic() {
        let t = multi_site();
        assert_eq!(layout(&t), layout(&t));
        let p = partners();
        assert_eq!(layout(&p), layout(&p));
    }

    /// Every example topology, and the fixture with partners of every kind.
    fn examples() -> Vec<Topology> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("topologies/")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut out: Vec<Topology> = paths
            .iter()
            .map(|p| crate::validate::load_topology(p).expect("example loads"))
            .collect();
        out.push(partners());
        out
    }

    #[test]
    fn every_example_lays_out_cleanly() {
        let all = examples();
        assert!(all.len() >= 2);
        for t in &all {
            check_invariants(t, &layout(t));
        }
    }

    #[test]
    fn no_link_runs_through_another_element_or_circuit() {
        for t in examples() {
            let l = layout(&t);
            for (&link, pts) in &l.links {
                let (a, b) = t.ends(link);
                let own = t.link(link).circuit.map(|(c, _)| c);
                for w in pts.windows(2) {
                    for (&n, r) in &l.nodes {
                        assert!(
                            n == a || n == b || !through(r, w[0], w[1]),
                            "{}: link {} runs through {}",
                            t.name,
                            t.link(link).name,
                            t.node(n).name
                        );
                    }
                    for (&c, r) in &l.circuits {
                        assert!(
                            Some(c) == own || !through(r, w[0], w[1]),
                            "{}: link {} runs through circuit {}",
                            t.name,
                            t.link(link).name,
                            t.circuit(c).name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn customer_columns_run_from_sites_to_the_border() {
        let t = multi_site();
        let l = layout(&t);
        let x = |name: &str| l.nodes[&t.node_named(name).unwrap()].x;
        for site in ["hq", "chicago", "boston", "london"] {
            assert_eq!(x(site), x("hq"), "{site} is in the first column");
        }
        // A DMZ is part of the perimeter: where its links put it.
        assert_eq!(x("hq-dmz"), x("hq-fw"));
        assert!(x("hq-dmz") < x("hq-proxy"));
        assert!(x("hq") < x("hq-core"));
        assert!(x("hq-core") < x("hq-fw"));
        assert!(x("hq-fw") < x("hq-ce"));
        assert!(x("hq-ce") < x("hq-er-nat"));
        assert!(x("hq-er-nat") < x("hq-er-ce"));
        // Every way out lines up next to the Internet lane.
        assert_eq!(x("hq-inet-nat"), x("hq-er-ce"));
        assert_eq!(x("london-nat"), x("hq-er-ce"));
        // The way out stays on the first site's row; a branch's router on
        // its site's.
        let y = |name: &str| l.nodes[&t.node_named(name).unwrap()].y;
        for n in ["hq-core", "hq-fw", "hq-ce", "hq-inet-nat"] {
            assert_eq!(y(n), y("hq"), "{n}");
        }
        assert!(y("hq-dmz") > y("hq-fw"));
        assert_eq!(y("chicago"), y("chicago-r"));
        assert_eq!(y("london"), y("london-nat"));
    }

    #[test]
    fn expressroute_runs_straight_from_customer_edge_to_region() {
        let t = multi_site();
        let l = layout(&t);
        let ce = l.nodes[&t.node_named("hq-er-ce").unwrap()];
        let region = l.nodes[&t.node_named("us-east").unwrap()];
        let circuit = l.circuits[&CircuitId(0)];
        assert_eq!(ce.center().y, circuit.center().y);
        assert_eq!(region.center().y, circuit.center().y);
        let primary = &l.links[&t.circuits[0].primary];
        assert!(primary.windows(2).all(|w| w[0].y == w[1].y), "{primary:?}");
        assert!(primary.first().unwrap().x <= circuit.x);
        assert!(primary.last().unwrap().x >= circuit.right());
        // No Internet-lane element sits on the row the circuit crosses on.
        let inet = l.lane(Segment::Internet).rect;
        for (&n, r) in &l.nodes {
            if inet.contains(r) {
                assert!(
                    r.bottom() <= circuit.y || r.y >= circuit.bottom(),
                    "{} is in the circuit's way",
                    t.node(n).name
                );
            }
        }
    }

    #[test]
    fn partners_are_framed_below_the_tenant() {
        let t = partners();
        let l = layout(&t);
        let tenant_bottom = t
            .nodes()
            .filter(|&n| t.node(n).domain == Domain::Customer)
            .map(|n| l.nodes[&n].bottom())
            .fold(0.0, f64::max);
        for (i, org) in t.organizations.iter().enumerate() {
            let of = FrameOf::Organization(OrgId(i as u16));
            let frame = l.frames.iter().find(|f| f.of == of).expect("framed");
            let lane = if org.name == "skype" {
                Segment::Internet
            } else {
                Segment::Customer
            };
            assert!(l.lane(lane).rect.contains(&frame.rect), "{}", org.name);
            if lane == Segment::Customer {
                assert!(
                    frame.rect.y > tenant_bottom,
                    "{} is below the tenant",
                    org.name
                );
            }
            for n in t.nodes() {
                let node = t.node(n);
                if node.domain == Domain::Organization(OrgId(i as u16)) && node.lane == lane {
                    assert!(
                        frame.rect.contains(&l.nodes[&n]),
                        "{} in its frame",
                        node.name
                    );
                }
            }
        }
        for f in &l.frames {
            for g in &l.frames {
                if f != g {
                    assert!(
                        !f.rect.overlaps(&g.rect),
                        "{:?} and {:?} overlap",
                        f.of,
                        g.of
                    );
                }
            }
        }
    }

    #[test]
    fn regions_stack_their_services() {
        let t = multi_site();
        let l = layout(&t);
        for region in &t.regions {
            let r = l.nodes[&region.node];
            let mut y = r.y;
            for s in &region.services {
                let rs = l.nodes[s];
                assert!(rs.y > y, "services go down in order");
                assert!(rs.x > r.x, "services are indented");
                y = rs.y;
            }
        }
    }
}
