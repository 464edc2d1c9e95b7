//! What the results say needs attention, each with a concrete fix in plain
//! words.
//!
//! Owns the rules: asymmetric routing (a probe whose reply was dropped on
//! its way back), other broken probes, links over 80% or 100% of their
//! capacity at peak, calls blocked by call admission control, failed calls
//! by reason, and call quality below target when the summary carries it.
//!
//! Leaves out presentation ([`super::html`]); findings are plain text.

use serde_json::Value;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something is broken or over capacity.
    Problem,
    /// Something works but is close to a limit or not as planned.
    Warning,
}

impl Severity {
    /// A word for the page and its CSS class.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Problem => "problem",
            Severity::Warning => "warning",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What, in a line.
    pub title: String,
    /// The evidence.
    pub detail: String,
    /// What to do about it.
    pub fix: String,
}

/// Utilization at which a link is called near saturation.
pub const NEAR_SATURATION: f64 = 0.8;

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Every finding, problems first, in a stable order.
pub fn findings(summary: &Value, trace: Option<&Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(trace) = trace {
        probe_findings(trace, &mut out);
    }
    link_findings(summary, &mut out);
    call_findings(summary, &mut out);
    quality_findings(summary, &mut out);
    out.sort_by_key(|f| f.severity);
    out
}

fn probe_findings(trace: &Value, out: &mut Vec<Finding>) {
    let probes = trace.get("probes").and_then(Value::as_array);
    for p in probes.into_iter().flatten() {
        let probe = text(p, "name");
        for leg in p
            .get("legs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let who = text(leg, "participant");
            let verdict = text(leg, "verdict");
            let at = text(leg, "drop_at");
            let segments = |key: &str| {
                leg.get(key)
                    .and_then(Value::as_array)
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" → ")
                    })
                    .unwrap_or_default()
            };
            let asymmetric = leg.get("asymmetric").and_then(Value::as_bool) == Some(true);
            // The pitfall of the source document: the reply came back by other
            // links and met a stateful firewall that never saw the request.
            if verdict.contains("return-dropped") && verdict.contains("no session") && asymmetric {
                out.push(Finding {
                    severity: Severity::Problem,
                    title: format!("Asymmetric routing: probe {probe} ({who})"),
                    detail: format!(
                        "The request left by {} but the reply came back by {} and was dropped{}: {verdict}.",
                        or_local(&segments("segments")),
                        or_local(&segments("return_segments")),
                        if at.is_empty() { String::new() } else { format!(" at {at}") },
                    ),
                    fix: "Make the reply come back the way the request left, so the stateful firewall that opened the session sees it: translate each path to its own NAT pool after the point where the Internet and ExpressRoute paths split, advertise the ExpressRoute pool only on the circuit and the Internet pool only to the ISP, and keep routes for public addresses you publish off the circuit unless the return path is also the circuit.".into(),
                });
            } else if verdict != "ok" && !verdict.is_empty() {
                let fix = if verdict.contains("TLS inspection") {
                    "Exempt Microsoft 365 Optimize and Allow traffic from TLS inspection on the proxy (or send it direct, bypassing the proxy, in the PAC file).".to_string()
                } else if verdict.contains("CONNECT") || verdict.contains("PAC") {
                    "Send Teams and Skype for Business traffic direct in the PAC file, or let the proxy CONNECT to port 443 for it.".to_string()
                } else if verdict.contains("no working pair") || verdict.contains("checks failed") {
                    "Let media out: allow UDP 3478-3481 and 50000-59999 to Microsoft's media ranges, and TCP 443 to the Edge as the fallback.".to_string()
                } else if at.is_empty() {
                    "Trace the probe (`callflow trace … --probe NAME`) to see the hop where it breaks, then allow the flow there or change the route.".to_string()
                } else {
                    format!(
                        "Allow this flow at {at} (a firewall rule or a NAT mapping), or route it a way that does; `callflow trace … --probe {probe}` shows every decision on the way."
                    )
                };
                out.push(Finding {
                    severity: Severity::Problem,
                    title: format!("Probe {probe} ({who}) does not work"),
                    detail: format!("{verdict}."),
                    fix,
                });
            }
        }
    }
}

fn or_local(s: &str) -> &str {
    if s.is_empty() { "its own LAN" } else { s }
}

fn link_findings(summary: &Value, out: &mut Vec<Finding>) {
    let links = summary.get("links").and_then(Value::as_array);
    // One finding per link, with every direction above the threshold.
    let mut by_link: std::collections::BTreeMap<&str, Vec<&Value>> = Default::default();
    for l in links.into_iter().flatten() {
        if num(l, "peak_utilization") > NEAR_SATURATION {
            by_link.entry(text(l, "name")).or_default().push(l);
        }
    }
    let mut rows: Vec<(&str, Vec<&Value>)> = by_link.into_iter().collect();
    let worst = |ls: &[&Value]| {
        ls.iter()
            .map(|l| num(l, "peak_utilization"))
            .fold(0.0, f64::max)
    };
    rows.sort_by(|a, b| worst(&b.1).total_cmp(&worst(&a.1)).then(a.0.cmp(b.0)));
    for (name, dirs) in rows {
        let util = worst(&dirs);
        let capacity = dirs
            .iter()
            .map(|l| num(l, "capacity_bps"))
            .fold(0.0, f64::max);
        let peak = dirs.iter().map(|l| num(l, "peak_bps")).fold(0.0, f64::max);
        let needed = peak / NEAR_SATURATION;
        let over = util > 1.0;
        let what = if text(dirs[0], "kind") == "expressroute" {
            format!(
                "Move the circuit {name} to a bandwidth tier of at least {} (peak under 80%), or move traffic that does not need the circuit (broadcast, non-real-time) to the Internet with the route filter.",
                super::rate(needed)
            )
        } else {
            format!(
                "Raise {name} to at least {} so the peak stays under 80%, or move traffic off it (for example keep media local or send it over another path); mark and queue real-time media with QoS (DSCP 46 for audio) so bursts do not hurt calls.",
                super::rate(needed)
            )
        };
        let detail: Vec<String> = dirs
            .iter()
            .map(|l| {
                format!(
                    "{}: peak {} of {} ({})",
                    text(l, "direction"),
                    super::rate(num(l, "peak_bps")),
                    super::rate(num(l, "capacity_bps")),
                    super::percent(num(l, "peak_utilization"))
                )
            })
            .collect();
        out.push(Finding {
            severity: if over {
                Severity::Problem
            } else {
                Severity::Warning
            },
            title: format!(
                "{} {name}, {} capacity",
                if over {
                    "Over capacity:"
                } else {
                    "Near saturation:"
                },
                super::rate(capacity)
            ),
            detail: format!("{} (busiest time bin of the day).", detail.join("; ")),
            fix: what,
        });
    }
}

fn reasons(v: Option<&Value>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_f64().map(|n| (k.clone(), n)))
                .filter(|(_, n)| *n > 0.0)
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

fn call_findings(summary: &Value, out: &mut Vec<Finding>) {
    let Some(calls) = summary.get("calls") else {
        return;
    };
    let blocked = num(calls, "blocked");
    if blocked > 0.0 {
        let list: Vec<String> = reasons(calls.get("blocked_by_reason"))
            .into_iter()
            .map(|(r, n)| format!("{n:.1} by {r}"))
            .collect();
        out.push(Finding {
            severity: Severity::Warning,
            title: format!(
                "Call admission control blocked {blocked:.1} calls per day ({} of offered)",
                super::percent(num(calls, "blocking"))
            ),
            detail: format!("Blocked: {}.", list.join("; ")),
            fix: "Raise the bandwidth policy (CAC) limit named above, or the capacity of the link it protects, to the busy-hour load; size it with Erlang B for the blocking you accept (1% is usual), or let blocked calls reroute over the Internet instead of failing.".into(),
        });
    }
    for (reason, n) in reasons(calls.get("failed_by_reason")) {
        let lower = reason.to_lowercase();
        let fix = if lower.contains("pair") || lower.contains("ice") || lower.contains("udp") {
            "Media could not find a path: allow UDP 3478-3481 and 50000-59999 to Microsoft's media ranges (or at least TCP 443 to the Edge), and make sure clients can reach an Edge server."
        } else if lower.contains("signaling") || lower.contains("home") {
            "Signaling did not reach the home server: allow TCP 443 to the registrar's addresses (bypassing TLS inspection) and check the route to them."
        } else {
            "Trace a call of this kind with `callflow trace` to see the hop where it fails, then allow the flow there or change the route."
        };
        out.push(Finding {
            severity: Severity::Problem,
            title: format!("{n:.1} calls per day failed: {reason}"),
            detail: format!(
                "Of {:.1} offered calls per day, {:.1} failed in all.",
                num(calls, "offered"),
                num(calls, "failed")
            ),
            fix: fix.into(),
        });
    }
}

/// The share of a call kind's audio streams that must be within Microsoft's
/// client-to-Microsoft-edge targets: Microsoft compares the 90th percentile
/// of a measurement with the targets (domain.md §2.1), so a kind misses them
/// when fewer than 90% of its streams are within.
const TARGET_SHARE: f64 = 0.9;

/// Call kinds whose predicted audio misses Microsoft's targets, from
/// summary.json's `calls.by_kind.<kind>.quality` (docs/quality.md).
fn quality_findings(summary: &Value, out: &mut Vec<Finding>) {
    let Some(kinds) = summary
        .get("calls")
        .and_then(|c| c.get("by_kind"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let missed: Vec<String> = kinds
        .iter()
        .filter_map(|(kind, calls)| {
            let q = calls.get("quality")?;
            let within = q.get("meets_targets")?.get("client_to_microsoft_edge")?.as_f64()?;
            (within < TARGET_SHARE).then(|| {
                let poor = q.get("poor_share").and_then(Value::as_f64).unwrap_or(0.0);
                let mos = q
                    .get("mos")
                    .and_then(|m| m.get("mean"))
                    .and_then(Value::as_f64)
                    .map_or_else(|| "n/a".to_string(), |m| format!("{m:.2}"));
                format!(
                    "{kind}: {:.1}% of audio streams within the client-to-Microsoft-edge targets (50 ms one way, 30 ms jitter, 1% loss), mean MOS {mos}, {:.2}% of legs poor by the Call Quality Dashboard's rules",
                    within * 100.0,
                    poor * 100.0
                )
            })
        })
        .collect();
    if !missed.is_empty() {
        out.push(Finding {
            severity: Severity::Warning,
            title: "Call quality below Microsoft's targets".into(),
            detail: format!(
                "{}. Microsoft holds the 90th percentile to the targets.",
                missed.join("; ")
            ),
            fix: "Keep real-time media off paths that miss Microsoft's targets (latency, jitter, loss): send it over ExpressRoute with QoS marking rather than the Internet, avoid hairpins through a distant Edge or a far-away WAN hub, and fix the loss on the links the calls cross.".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_return_drop_is_asymmetric_routing_with_its_fix() {
        let trace = json!({"probes": [{"name": "media", "legs": [{
            "participant": "staff", "verdict": "return-dropped: no session on inet-fw",
            "asymmetric": true,
            "drop_at": "inet-fw", "segments": ["customer", "expressroute", "microsoft"],
            "return_segments": ["microsoft", "internet"]}]}]});
        let f = findings(&json!({}), Some(&trace));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Problem);
        assert!(f[0].title.starts_with("Asymmetric routing"));
        assert!(f[0].detail.contains("came back by microsoft → internet"));
        assert!(f[0].detail.contains("at inet-fw"));
        assert!(f[0].fix.contains("NAT pool"));
    }

    #[test]
    fn links_over_80_and_100_percent_are_flagged_with_the_size_needed() {
        let summary = json!({"links": [
            {"name": "wan", "kind": "wan", "direction": "a -> b", "capacity_bps": 100e6,
             "peak_bps": 120e6, "peak_utilization": 1.2},
            {"name": "er", "kind": "expressroute", "direction": "x -> y", "capacity_bps": 200e6,
             "peak_bps": 170e6, "peak_utilization": 0.85},
            {"name": "lan", "kind": "lan", "direction": "a -> b", "capacity_bps": 1e9,
             "peak_bps": 1e8, "peak_utilization": 0.1}]});
        let f = findings(&summary, None);
        assert_eq!(f.len(), 2);
        assert!(f[0].title.starts_with("Over capacity: wan"));
        assert!(f[0].fix.contains("at least 150.0 Mbps"), "{}", f[0].fix);
        assert_eq!(f[1].severity, Severity::Warning);
        assert!(f[1].fix.contains("bandwidth tier of at least 212.5 Mbps"));
    }

    #[test]
    fn blocked_and_failed_calls_are_reported_by_reason() {
        let summary = json!({"calls": {"offered": 100.0, "blocked": 3.0, "blocking": 0.03,
            "failed": 2.0, "blocked_by_reason": {"audio bandwidth policy on wan": 3.0},
            "failed_by_reason": {"no working pair": 2.0, "never": 0.0}}});
        let f = findings(&summary, None);
        assert_eq!(f.len(), 2);
        assert!(f[0].title.contains("failed: no working pair"));
        assert!(f[0].fix.contains("UDP 3478-3481"));
        assert!(f[1].detail.contains("3.0 by audio bandwidth policy on wan"));
    }

    #[test]
    fn quality_below_target_is_read_where_present_and_silent_otherwise() {
        let q = |within: f64| {
            json!({"calls": {"by_kind": {"peer-to-peer": {"quality": {
                "meets_targets": {"client_to_microsoft_edge": within},
                "poor_share": 0.04, "mos": {"mean": 3.9}}}}}})
        };
        assert!(findings(&json!({"calls": {"by_kind": {}}}), None).is_empty());
        assert!(findings(&q(0.95), None).is_empty());
        let f = findings(&q(0.737), None);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].detail.contains("peer-to-peer: 73.7% of audio streams"),
            "{}",
            f[0].detail
        );
        assert!(
            f[0].detail.contains("4.00% of legs poor"),
            "{}",
            f[0].detail
        );
    }

    #[test]
    fn a_clean_run_has_no_findings() {
        let summary = json!({"links": [{"name": "l", "peak_utilization": 0.5}],
            "calls": {"blocked": 0.0, "failed_by_reason": {}}});
        let trace = json!({"probes": [{"name": "p", "legs": [{"verdict": "ok"}]}]});
        assert!(findings(&summary, Some(&trace)).is_empty());
    }
}
