//! Bad input is handled well: every problem is reported at once, each at
//! file:line:col with the element's name, and the command exits 2.
//!
//! One test per kind of problem the validator promises to catch (issue 2,
//! point 4), each asserting the rendered diagnostic exactly. Inputs are a
//! small valid topology and scenario ([`TOPOLOGY`], [`SCENARIO`]) with one
//! or more edits; positions in the expected output are computed from the
//! edited text ([`at`]), so each assertion also checks that the line and
//! column point at the offending value.
//!
//! Tests marked `#[ignore = "bug: …"]` reproduce a bug found while writing
//! this suite; each asserts the correct behaviour and should pass, and lose
//! its `ignore`, once the bug is fixed.

use assert_cmd::Command;
use callflow::diag::{Diagnostic, InvalidInput, Position, SourceFile};
use callflow::endpoints::EndpointCatalog;
use callflow::model::{Domain, LinkKind, NodeKind};
use callflow::validate::{Study, study_from_sources, topology_from_source};
use predicates::prelude::*;

/// A small valid Hybrid topology with one of everything the reference
/// checks need: two regions, a PAC with a proxy, an Edge, servers with an
/// Edge and a gateway, static routes, two NATs and a Standard circuit.
const TOPOLOGY: &str = r#"name = "base"

[tenant]
home_region = "us-east"

[[region]]
name = "us-east"
geography = "north-america"
peering_locations = ["Washington DC"]
prefixes = ["52.112.0.0/16"]
service = [
  { kind = "online-edge", address = "52.112.1.10" },
  { kind = "registrar", address = "52.112.2.10" },
]

[[region]]
name = "eu-west"
geography = "europe"
peering_locations = ["Amsterdam"]
prefixes = ["52.113.0.0/16"]
service = [{ kind = "online-edge", address = "52.113.1.10" }]

[[site]]
name = "office"
subnets = ["10.1.0.0/16"]
pac = "office-pac"

[[site]]
name = "dmz"
kind = "dmz"
subnets = ["10.9.0.0/24"]

[[router]]
name = "office-ce"
routes = [{ prefix = "0.0.0.0/0", via = "ce-nat" }]

[[router]]
name = "er-ce"

[[nat]]
name = "office-nat"
pool = ["198.51.100.0/28"]
outside = ["office-isp"]

[[nat]]
name = "er-nat"
pool = ["198.51.100.16/28"]
outside = ["er-nat-ce"]

[[proxy]]
name = "web-proxy"
address = "10.9.0.20"
at = "dmz"

[[pac]]
name = "office-pac"
rule = [{ match = "default", action = "proxy", proxy = "web-proxy" }]

[[edge]]
name = "sfb-edge"
internal = { address = "10.9.0.10", at = "dmz" }
external = { address = "203.0.113.10", at = "internet" }

[[server]]
name = "fe"
kind = "front-end"
address = "10.1.0.5"
at = "office"
edge = "sfb-edge"

[[server]]
name = "gw"
kind = "pstn-gateway"
address = "10.1.0.6"
at = "office"

[[server]]
name = "med"
kind = "mediation"
address = "10.1.0.7"
at = "office"
gateway = "gw"

[[link]]
name = "office-lan"
kind = "lan"
ends = ["office", "office-ce"]

[[link]]
name = "dmz-lan"
kind = "lan"
ends = ["dmz", "office-ce"]

[[link]]
name = "ce-nat"
kind = "lan"
ends = ["office-ce", "office-nat"]

[[link]]
name = "office-isp"
kind = "internet-access"
ends = ["office-nat", "internet"]
capacity = "200Mbps"

[[link]]
name = "ce-er-nat"
kind = "lan"
ends = ["office-ce", "er-nat"]

[[link]]
name = "er-nat-ce"
kind = "lan"
ends = ["er-nat", "er-ce"]

[[circuit]]
name = "er"
peering_location = "Washington DC"
bandwidth = "200Mbps"
sku = "standard"
customer_edge = "er-ce"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
advertise = ["198.51.100.16/28"]
"#;

/// A valid scenario for [`TOPOLOGY`]. `support` and `interns` are named by
/// no probe, so breaking them shows only their own problem.
const SCENARIO: &str = r#"name = "base"
duration = "8h"

[[persona]]
name = "teams-office"
codec = "teams"
meeting_size = { "4" = 0.85, "6" = 0.10, "11" = 0.05 }
participants = { internal = "70%", remote = "20%", federated = "10%" }

[[group]]
name = "sales"
at = "office"
persona = "teams-office"
count = 100

[[group]]
name = "engineers"
at = "office"
homed = "on-prem"
count = 50

[[group]]
name = "support"
at = "office"
count = 10

[[group]]
name = "interns"
at = "office"
persona = "teams-office"
count = 5

[[probe]]
name = "p2p"
kind = "peer-to-peer"
caller = "sales"
callee = "engineers"

[[probe]]
name = "meeting"
kind = "conference"
organizer = "sales"
participants = ["engineers"]

[[variant]]
name = "premium"
set = { "er.sku" = "premium" }
"#;

const T: &str = "t.toml";
const S: &str = "s.toml";

/// `text` with each `(from, to)` applied; `from` must occur exactly once,
/// so an edit cannot silently miss or hit twice.
fn edit(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in edits {
        let n = out.matches(from).count();
        assert_eq!(n, 1, "{from:?} occurs {n} times");
        out = out.replacen(from, to, 1);
    }
    out
}

/// `file:line:col` of the single occurrence of `needle` in `text`.
fn at(file: &str, text: &str, needle: &str) -> String {
    let n = text.matches(needle).count();
    assert_eq!(n, 1, "{needle:?} occurs {n} times");
    position(file, text, text.find(needle).unwrap())
}

/// `file:line:col` of the first `needle` after the single `anchor`.
fn at_after(file: &str, text: &str, anchor: &str, needle: &str) -> String {
    let n = text.matches(anchor).count();
    assert_eq!(n, 1, "{anchor:?} occurs {n} times");
    let start = text.find(anchor).unwrap();
    let offset = text[start..].find(needle).expect("needle after anchor");
    position(file, text, start + offset)
}

fn position(file: &str, text: &str, offset: usize) -> String {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    format!("{file}:{line}:{column}")
}

/// Every problem in a topology, rendered; fails if it is valid.
fn topology_problems(text: &str) -> String {
    match topology_from_source(&SourceFile::new(T, text)) {
        Ok(_) => panic!("the topology validated:\n{text}"),
        Err(d) => InvalidInput::from(d).render(),
    }
}

/// The problems in a topology, sorted, as values.
fn topology_diagnostics(text: &str) -> Vec<Diagnostic> {
    match topology_from_source(&SourceFile::new(T, text)) {
        Ok(_) => panic!("the topology validated:\n{text}"),
        Err(d) => d.sorted(),
    }
}

fn study(topology: &str, scenario: &str) -> Result<Study, InvalidInput> {
    study_from_sources(SourceFile::new(T, topology), SourceFile::new(S, scenario))
        .map_err(InvalidInput::from)
}

/// Every problem in a topology and scenario, rendered; fails if valid.
fn study_problems(topology: &str, scenario: &str) -> String {
    match study(topology, scenario) {
        Ok(_) => panic!("the study validated:\n{scenario}"),
        Err(e) => e.render(),
    }
}

fn scenario_problems(scenario: &str) -> String {
    study_problems(TOPOLOGY, scenario)
}

// ----- the inputs the tests edit -------------------------------------------------

#[test]
fn the_base_topology_and_scenario_are_valid() {
    let s = study(TOPOLOGY, SCENARIO).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.scenario.groups.len(), 4);
    assert_eq!(s.variants.len(), 1);
}

// ----- malformed TOML ------------------------------------------------------------

#[test]
fn malformed_toml_reports_every_syntax_error_the_parser_recovers_from() {
    let text = r#"[tenant]
home_region = "us-east

[[site]]
name = "office"
subnets = ["10.1.0.0/16"]
kind = 'office
location = "x" "y"
"#;
    assert_eq!(
        topology_problems(text),
        format!(
            "{}: error: invalid TOML: invalid basic string, expected `\"`\n\
             {}: error: invalid TOML: invalid literal string, expected `'`\n\
             {}: error: invalid TOML: unexpected key or value, expected newline, `#`\n",
            // Unclosed strings are reported where the line ends.
            position(T, text, text.find("us-east\n").unwrap() + "us-east".len()),
            position(
                T,
                text,
                text.find("office\nlocation").unwrap() + "office".len()
            ),
            at(T, text, "\"y\""),
        )
    );
}

#[test]
fn malformed_toml_in_both_files_is_reported_for_both() {
    let problems = study_problems("[tenant\n", "seed = \n");
    assert_eq!(
        problems,
        "s.toml:1:8: error: invalid TOML: string values must be quoted, expected literal string\n\
         t.toml:1:8: error: invalid TOML: unclosed table, expected `]`\n"
    );
}

// ----- unknown keys --------------------------------------------------------------

#[test]
fn unknown_top_level_keys_are_named_with_a_suggestion() {
    let topology = edit(
        TOPOLOGY,
        &[("name = \"base\"", "name = \"base\"\nregoin = []")],
    );
    let scenario = edit(SCENARIO, &[("duration = \"8h\"", "duraton = \"8h\"")]);
    assert_eq!(
        study_problems(&topology, &scenario),
        format!(
            "{}: error: unknown key `duraton`\n  help: did you mean `duration`?\n\
             {}: error: unknown key `regoin`\n  help: did you mean `region`?\n",
            at(S, &scenario, "duraton"),
            at(T, &topology, "regoin"),
        )
    );
}

#[test]
fn unknown_nested_keys_are_reported_at_the_key_with_the_element() {
    let topology = edit(
        TOPOLOGY,
        &[
            (
                "ends = [\"office\", \"office-ce\"]",
                "ends = [\"office\", \"office-ce\"]\ncapacty = \"1Gbps\"",
            ),
            (
                "{ kind = \"registrar\", address",
                "{ kind = \"registrar\", adress",
            ),
        ],
    );
    let scenario = edit(
        SCENARIO,
        &[("count = 10\n", "count = 10\nhommed = \"online\"\n")],
    );
    let found: Vec<(String, Option<String>, String)> = study(&topology, &scenario)
        .expect_err("unknown keys")
        .0
        .into_iter()
        .map(|d| (d.location.to_string(), d.element, d.message))
        .collect();
    let registrar_address = at(T, &topology, "adress");
    assert_eq!(
        found,
        vec![
            (
                at(S, &scenario, "hommed"),
                Some("group \"support\"".into()),
                "unknown key `hommed`".into()
            ),
            // Without its address the service is incomplete as well.
            (
                at(T, &topology, "\"registrar\""),
                Some("service \"us-east-registrar\"".into()),
                "a service needs an `address` or an `ipv6` address".into()
            ),
            (
                registrar_address,
                Some("region \"us-east\"".into()),
                "unknown key `adress`".into()
            ),
            (
                at(T, &topology, "capacty"),
                Some("link \"office-lan\"".into()),
                "unknown key `capacty`".into()
            ),
        ]
    );
}

#[test]
fn unknown_nested_keys_suggest_the_key_meant() {
    let topology = edit(
        TOPOLOGY,
        &[(
            "ends = [\"office\", \"office-ce\"]",
            "ends = [\"office\", \"office-ce\"]\ncapacty = \"1Gbps\"",
        )],
    );
    let d = &topology_diagnostics(&topology)[0];
    assert_eq!(d.message, "unknown key `capacty`");
    assert_eq!(d.help.as_deref(), Some("did you mean `capacity`?"));
}

#[test]
fn an_unknown_key_in_the_tenant_is_placed_at_the_key() {
    let topology = edit(
        TOPOLOGY,
        &[(
            "home_region = \"us-east\"",
            "home_region = \"us-east\"\nhome_regoin = \"x\"",
        )],
    );
    let d = &topology_diagnostics(&topology)[0];
    assert_eq!(d.message, "unknown key `home_regoin`");
    assert_eq!(d.location.to_string(), at(T, &topology, "home_regoin"));
}

// ----- names: unknown, duplicate, dangling ---------------------------------------

#[test]
fn every_dangling_reference_in_a_topology_is_reported_where_it_is_used() {
    let text = edit(
        TOPOLOGY,
        &[
            (
                "ends = [\"office\", \"office-ce\"]",
                "ends = [\"office\", \"ofice-ce\"]",
            ),
            ("outside = [\"office-isp\"]", "outside = [\"office-ips\"]"),
            ("via = \"ce-nat\"", "via = \"nowhere\""),
            ("proxy = \"web-proxy\"", "proxy = \"web-proxi\""),
            ("edge = \"sfb-edge\"", "edge = \"sfb-egde\""),
            ("gateway = \"gw\"", "gateway = \"gateway\""),
            ("customer_edge = \"er-ce\"", "customer_edge = \"er-cee\""),
            (
                "microsoft_edge = \"us-east\"",
                "microsoft_edge = \"us-est\"",
            ),
        ],
    );
    let p = |needle| at(T, &text, needle);
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: router \"office-ce\": link \"nowhere\" names no element\n\
             {}: error: nat \"office-nat\": link \"office-ips\" names no element\n  help: did you mean \"office-isp\"?\n\
             {}: error: pac \"office-pac\": proxy \"web-proxi\" names no element\n  help: did you mean \"web-proxy\"?\n\
             {}: error: server \"fe\": edge \"sfb-egde\" names no element\n  help: did you mean \"sfb-edge\"?\n\
             {}: error: server \"med\": gateway \"gateway\" names no element\n\
             {}: error: link \"office-lan\": end \"ofice-ce\" names no element\n  help: did you mean \"office-ce\"?\n\
             {}: error: circuit \"er\": customer edge \"er-cee\" names no element\n  help: did you mean \"er-ce\"?\n\
             {}: error: circuit \"er\": region \"us-est\" names no element\n  help: did you mean \"us-east\"?\n",
            p("\"nowhere\""),
            p("\"office-ips\""),
            p("\"web-proxi\""),
            p("\"sfb-egde\""),
            p("\"gateway\""),
            p("\"ofice-ce\""),
            p("\"er-cee\""),
            p("\"us-est\""),
        )
    );
}

#[test]
fn references_to_the_wrong_kind_of_element_are_reported() {
    let text = edit(
        TOPOLOGY,
        &[
            ("outside = [\"office-isp\"]", "outside = [\"office-lan\"]"),
            ("gateway = \"gw\"", "gateway = \"fe\""),
            (
                "microsoft_edge = \"us-east\"",
                "microsoft_edge = \"office\"",
            ),
        ],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: nat \"office-nat\": link \"office-lan\" does not touch this element\n\
             {}: error: server \"med\": \"fe\" is not a pstn-gateway server\n\
             {}: error: circuit \"er\": \"office\" is not a Microsoft region\n",
            at(T, &text, "\"office-lan\"]"),
            at_after(T, &text, "gateway = ", "\"fe\""),
            at_after(T, &text, "microsoft_edge", "\"office\""),
        )
    );
}

#[test]
fn every_dangling_reference_in_a_scenario_is_reported_where_it_is_used() {
    let scenario = edit(
        SCENARIO,
        &[
            ("at = \"office\"\ncount = 10", "at = \"ofice\"\ncount = 10"),
            (
                "persona = \"teams-office\"\ncount = 5",
                "persona = \"teams\"\ncount = 5",
            ),
            ("callee = \"engineers\"", "callee = \"engineer\""),
            (
                "participants = [\"engineers\"]",
                "participants = [\"engineers\", \"nobody\"]",
            ),
        ],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: group \"support\": `at` \"ofice\" names no place\n  help: did you mean \"office\"?\n\
             {}: error: group \"interns\": persona \"teams\" is not defined\n\
             {}: error: probe \"p2p\": callee \"engineer\" is not a user group\n  help: did you mean \"engineers\"?\n\
             {}: error: probe \"meeting\": participant \"nobody\" is not a user group\n",
            at(S, &scenario, "\"ofice\""),
            at_after(S, &scenario, "persona = \"teams\"\n", "\"teams\""),
            at(S, &scenario, "\"engineer\""),
            // A list is one value: the problem is placed at the list.
            at(S, &scenario, "[\"engineers\", \"nobody\"]"),
        )
    );
}

#[test]
fn a_group_must_sit_at_a_site_remote_location_or_organization() {
    let scenario = edit(
        SCENARIO,
        &[(
            "at = \"office\"\ncount = 10",
            "at = \"office-ce\"\ncount = 10",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: group \"support\": \"office-ce\" is not a site, remote location or organization\n",
            at(S, &scenario, "\"office-ce\"")
        )
    );
}

#[test]
fn a_broken_group_is_reported_once_not_again_by_each_probe() {
    let scenario = edit(SCENARIO, &[("count = 100", "count = 0")]);
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: group \"sales\": a group needs at least one user\n",
            at(S, &scenario, "0\n\n[[group]]\nname = \"engineers\"")
        )
    );
}

#[test]
fn duplicate_names_in_a_topology_point_at_the_first_use() {
    let text = edit(
        TOPOLOGY,
        &[
            ("name = \"dmz-lan\"", "name = \"office-lan\""),
            (
                "[[router]]\nname = \"er-ce\"",
                "[[router]]\nname = \"us-east-online-edge\"\n\n[[router]]\nname = \"er-ce\"",
            ),
            (
                "[[site]]\nname = \"dmz\"",
                "[[site]]\nname = \"internet\"\nsubnets = [\"10.8.0.0/24\"]\n\n[[site]]\nname = \"dmz\"",
            ),
        ],
    );
    let first_lan = at(
        T,
        &text,
        "\"office-lan\"\nkind = \"lan\"\nends = [\"office\"",
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: site \"internet\": the name \"internet\" is already taken (it is reserved for the Internet node)\n\
             {}: error: router \"us-east-online-edge\": the name \"us-east-online-edge\" is already taken (first used at {})\n\
             {}: error: link \"office-lan\": the name \"office-lan\" is already taken (first used at {first_lan})\n",
            at(T, &text, "\"internet\"\nsubnets"),
            at(T, &text, "\"us-east-online-edge\""),
            // The generated service name is placed at the service's kind.
            at(T, &text, "\"online-edge\", address = \"52.112.1.10\""),
            at(T, &text, "\"office-lan\"\nkind = \"lan\"\nends = [\"dmz\""),
        )
    );
}

#[test]
fn empty_names_are_rejected() {
    let text = edit(
        TOPOLOGY,
        &[(
            "[[router]]\nname = \"er-ce\"",
            "[[router]]\nname = \"\"\n\n[[router]]\nname = \"er-ce\"",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: router \"\": a name cannot be empty\n",
            at(T, &text, "\"\"")
        )
    );
}

#[test]
fn a_server_named_internet_is_one_problem_not_a_broken_internet() {
    let text = edit(
        TOPOLOGY,
        &[(
            "[[server]]\nname = \"fe\"",
            "[[server]]\nname = \"internet\"\nkind = \"dns\"\naddress = \"10.1.0.53\"\nat = \"office\"\n\n[[server]]\nname = \"fe\"",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: server \"internet\": the name \"internet\" is already taken (it is reserved for the Internet node)\n",
            at(T, &text, "\"internet\"\nkind")
        )
    );
}

#[test]
fn duplicate_names_in_a_scenario_are_reported() {
    let duplicate = edit(SCENARIO, &[("name = \"interns\"", "name = \"support\"")]);
    assert_eq!(
        scenario_problems(&duplicate),
        format!(
            "{}: error: group \"support\": the name is already taken (first used at {})\n",
            at(S, &duplicate, "\"support\"\nat = \"office\"\npersona"),
            at(S, &duplicate, "\"support\"\nat = \"office\"\ncount = 10"),
        )
    );
    let topology_name = edit(SCENARIO, &[("name = \"interns\"", "name = \"office-ce\"")]);
    assert_eq!(
        scenario_problems(&topology_name),
        format!(
            "{}: error: group \"office-ce\": a group cannot share its name with a topology element (probes could not tell them apart)\n",
            at(S, &topology_name, "\"office-ce\"")
        )
    );
}

#[test]
fn scenario_elements_of_different_kinds_need_distinct_names() {
    let scenario = edit(
        SCENARIO,
        &[
            ("name = \"p2p\"", "name = \"sales\""),
            ("name = \"premium\"", "name = \"teams-office\""),
        ],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: probe \"sales\": the name is already used by a group; groups, personas, probes and variants need distinct names\n\
             {}: error: variant \"teams-office\": the name is already used by a persona; groups, personas, probes and variants need distinct names\n",
            at(S, &scenario, "\"sales\"\nkind"),
            at(S, &scenario, "\"teams-office\"\nset"),
        )
    );
}

#[test]
fn a_variant_cannot_be_called_baseline() {
    let scenario = edit(SCENARIO, &[("name = \"premium\"", "name = \"baseline\"")]);
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"baseline\": the name is already taken (`baseline` is the scenario as written)\n",
            at(S, &scenario, "\"baseline\"")
        )
    );
}

// ----- prefixes ------------------------------------------------------------------

#[test]
fn prefixes_must_parse_and_have_no_host_bits_set() {
    let text = edit(
        TOPOLOGY,
        &[(
            "subnets = [\"10.1.0.0/16\"]",
            "subnets = [\"10.1.0.0/33\", \"10.1.0.1/16\", \"office\"]",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: site \"office\": \"10.1.0.0/33\" is not an IPv4 or IPv6 prefix (e.g. \"10.1.0.0/16\")\n\
             {}: error: site \"office\": \"10.1.0.1/16\" has host bits set\n  help: write \"10.1.0.0/16\"\n\
             {}: error: site \"office\": \"office\" is not an IPv4 or IPv6 prefix (e.g. \"10.1.0.0/16\")\n",
            at(T, &text, "\"10.1.0.0/33\""),
            at(T, &text, "\"10.1.0.1/16\""),
            at_after(T, &text, "\"10.1.0.1/16\"", "\"office\""),
        )
    );
}

#[test]
fn a_nat_exemption_is_checked_like_any_prefix() {
    let text = edit(
        TOPOLOGY,
        &[(
            "pool = [\"198.51.100.16/28\"]",
            "pool = [\"198.51.100.16/28\"]\nexempt = [\"198.51.100.64/27\", \"198.51.100.65/27\"]",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: nat \"er-nat\": \"198.51.100.65/27\" has host bits set\n  help: write \"198.51.100.64/27\"\n",
            at(T, &text, "\"198.51.100.65/27\""),
        )
    );
}

#[test]
fn site_subnets_nat_pools_and_regions_must_not_overlap() {
    let text = edit(
        TOPOLOGY,
        &[
            ("subnets = [\"10.9.0.0/24\"]", "subnets = [\"10.1.5.0/24\"]"),
            (
                "pool = [\"198.51.100.16/28\"]",
                "pool = [\"198.51.100.0/24\"]",
            ),
            (
                "prefixes = [\"52.113.0.0/16\"]",
                "prefixes = [\"52.112.128.0/17\"]",
            ),
            ("address = \"52.113.1.10\"", "address = \"52.112.200.10\""),
        ],
    );
    // Each overlap is reported once, at the element declared second.
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: region \"eu-west\": 52.112.128.0/17 overlaps 52.112.0.0/16 of \"us-east\"\n\
             {}: error: site \"dmz\": 10.1.5.0/24 overlaps 10.1.0.0/16 of \"office\"\n\
             {}: error: nat \"er-nat\": 198.51.100.0/24 overlaps 198.51.100.0/28 of \"office-nat\"\n",
            at(T, &text, "\"eu-west\""),
            at(T, &text, "\"dmz\"\nkind"),
            at(T, &text, "\"er-nat\"\npool"),
        )
    );
}

#[test]
fn an_advertised_prefix_problem_is_placed_at_that_prefix() {
    let circuit = edit(
        TOPOLOGY,
        &[(
            "advertise = [\"198.51.100.16/28\"]",
            "advertise = [\"bogus\", \"10.1.0.0/16\"]",
        )],
    );
    let d = topology_diagnostics(&circuit);
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[1].location.to_string(),
        at_after(T, &circuit, "\"bogus\", ", "\"10.1.0.0/16\"")
    );
    let link = edit(
        TOPOLOGY,
        &[(
            "capacity = \"200Mbps\"",
            "capacity = \"200Mbps\"\nadvertise = [\"bogus\", \"10.0.0.0/8\"]",
        )],
    );
    let d = topology_diagnostics(&link);
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].location.to_string(), at(T, &link, "\"10.0.0.0/8\""));
}

// ----- links ---------------------------------------------------------------------

#[test]
fn a_link_has_exactly_two_ends() {
    let text = edit(
        TOPOLOGY,
        &[
            ("ends = [\"office\", \"office-ce\"]", "ends = [\"office\"]"),
            (
                "ends = [\"dmz\", \"office-ce\"]",
                "ends = [\"dmz\", \"office-ce\", \"office\"]",
            ),
            ("ends = [\"office-ce\", \"er-nat\"]", "ends = []"),
        ],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: link \"office-lan\": a link has two ends; this one has 1\n\
             {}: error: link \"dmz-lan\": a link has two ends; this one has 3\n\
             {}: error: link \"ce-er-nat\": a link has two ends; this one has 0\n",
            at(T, &text, "[\"office\"]"),
            at(T, &text, "[\"dmz\", \"office-ce\", \"office\"]"),
            at(T, &text, "[]"),
        )
    );
}

#[test]
fn capacities_must_be_bitrates_above_zero() {
    let text = edit(
        TOPOLOGY,
        &[
            (
                "ends = [\"office\", \"office-ce\"]",
                "ends = [\"office\", \"office-ce\"]\ncapacity = \"0Mbps\"",
            ),
            (
                "ends = [\"dmz\", \"office-ce\"]",
                "ends = [\"dmz\", \"office-ce\"]\ncapacity = \"-5Mbps\"",
            ),
            (
                "ends = [\"office-ce\", \"er-nat\"]",
                "ends = [\"office-ce\", \"er-nat\"]\ncapacity = \"fast\"",
            ),
            (
                "ends = [\"er-nat\", \"er-ce\"]",
                "ends = [\"er-nat\", \"er-ce\"]\ncapacity = 10",
            ),
            ("bandwidth = \"200Mbps\"", "bandwidth = \"0Gbps\""),
        ],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: link \"office-lan\": capacity must be above zero\n\
             {}: error: link \"dmz-lan\": capacity must be above zero\n\
             {}: error: link \"ce-er-nat\": \"fast\" is not a bitrate (e.g. \"500Mbps\", \"2Gbps\", \"64kbps\")\n\
             {}: error: link \"er-nat-ce\": invalid type: integer `10`, expected a string\n\
             {}: error: circuit \"er\": bandwidth must be above zero\n",
            at(T, &text, "\"0Mbps\""),
            at(T, &text, "\"-5Mbps\""),
            at(T, &text, "\"fast\""),
            at_after(T, &text, "capacity = 10", "10"),
            at(T, &text, "\"0Gbps\""),
        )
    );
}

#[test]
fn a_link_with_a_bad_capacity_is_one_problem_not_two() {
    let text = edit(
        TOPOLOGY,
        &[("capacity = \"200Mbps\"", "capacity = \"0Mbps\"")],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: link \"office-isp\": capacity must be above zero\n",
            at(T, &text, "\"0Mbps\"")
        )
    );
}

#[test]
fn durations_and_ratios_on_links_and_nats_must_parse_and_stay_in_range() {
    let text = edit(
        TOPOLOGY,
        &[
            (
                "capacity = \"200Mbps\"",
                "capacity = \"200Mbps\"\nlatency = \"-3ms\"\njitter = \"soon\"\nloss = \"150%\"",
            ),
            (
                "outside = [\"er-nat-ce\"]",
                "outside = [\"er-nat-ce\"]\nmapping_timeout = \"0s\"",
            ),
        ],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: nat \"er-nat\": a mapping timeout must be above zero\n\
             {}: error: link \"office-isp\": \"-3ms\" is not a duration (e.g. \"20ms\", \"30s\", \"5m\", \"1h30m\")\n\
             {}: error: link \"office-isp\": \"soon\" is not a duration (e.g. \"20ms\", \"30s\", \"5m\", \"1h30m\")\n\
             {}: error: link \"office-isp\": \"150%\" is not a ratio between 0 and 1 (e.g. \"0.1%\", \"35%\", \"0.25\")\n",
            // Placed at the NAT's name rather than at the timeout.
            at(T, &text, "\"er-nat\"\npool"),
            at(T, &text, "\"-3ms\""),
            at(T, &text, "\"soon\""),
            at(T, &text, "\"150%\""),
        )
    );
}

// ----- ExpressRoute circuits -----------------------------------------------------

#[test]
fn a_circuit_route_filter_must_admit_prefixes_the_circuit_can_learn() {
    let empty = edit(
        TOPOLOGY,
        &[("route_filter = [\"12076:5030\"]", "route_filter = []")],
    );
    assert_eq!(
        topology_problems(&empty),
        format!(
            "{}: error: circuit \"er\": the route filter admits no communities, so Microsoft peering advertises nothing\n  help: add e.g. route_filter = [\"12076:5030\"] (Skype for Business and Teams)\n",
            at(T, &empty, "\"er\"\npeering")
        )
    );
    // 12076:5010 is Exchange Online's community: no region here originates it.
    let exchange = edit(
        TOPOLOGY,
        &[(
            "route_filter = [\"12076:5030\"]",
            "route_filter = [\"12076:5010\"]",
        )],
    );
    assert_eq!(
        topology_problems(&exchange),
        format!(
            "{}: error: circuit \"er\": learns no Microsoft peering prefixes: no region it reaches originates a prefix tagged 12076:5010\n",
            at(T, &exchange, "\"er\"\npeering")
        )
    );
}

#[test]
fn a_circuit_route_filter_lists_bgp_communities() {
    let text = edit(
        TOPOLOGY,
        &[(
            "route_filter = [\"12076:5030\"]",
            "route_filter = [\"skype\"]",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: circuit \"er\": the route filter admits no communities, so Microsoft peering advertises nothing\n  help: add e.g. route_filter = [\"12076:5030\"] (Skype for Business and Teams)\n\
             {}: error: circuit \"er\": \"skype\" is not a BGP community (e.g. \"12076:5030\")\n",
            at(T, &text, "\"er\"\npeering"),
            at(T, &text, "\"skype\""),
        )
    );
}

#[test]
fn a_local_or_standard_circuit_must_reach_the_home_region() {
    for (sku, word) in [("local", "local"), ("standard", "standard")] {
        let text = edit(
            TOPOLOGY,
            &[
                ("home_region = \"us-east\"", "home_region = \"eu-west\""),
                ("sku = \"standard\"", &format!("sku = \"{sku}\"")),
            ],
        );
        assert_eq!(
            topology_problems(&text),
            format!(
                "{}: error: circuit \"er\": a {word} circuit at \"Washington DC\" cannot reach the tenant's home region \"eu-west\"\n  help: use a premium circuit, or one in the home region's geography\n",
                at(T, &text, &format!("\"{sku}\""))
            )
        );
    }
    let premium = edit(
        TOPOLOGY,
        &[
            ("home_region = \"us-east\"", "home_region = \"eu-west\""),
            ("sku = \"standard\"", "sku = \"premium\""),
        ],
    );
    assert!(topology_from_source(&SourceFile::new(T, premium)).is_ok());
}

#[test]
fn a_circuit_advertises_only_public_prefixes_the_network_originates() {
    let private = edit(
        TOPOLOGY,
        &[(
            "advertise = [\"198.51.100.16/28\"]",
            "advertise = [\"10.1.0.0/16\"]",
        )],
    );
    assert_eq!(
        topology_problems(&private),
        format!(
            "{}: error: circuit \"er\": 10.1.0.0/16 is a private prefix; Microsoft peering accepts only public prefixes\n",
            at_after(T, &private, "advertise", "\"10.1.0.0/16\"")
        )
    );
    let foreign = edit(
        TOPOLOGY,
        &[(
            "advertise = [\"198.51.100.16/28\"]",
            "advertise = [\"192.0.2.0/24\"]",
        )],
    );
    assert_eq!(
        topology_problems(&foreign),
        format!(
            "{}: error: circuit \"er\": advertises 192.0.2.0/24, which nothing in your network originates\n  help: advertise a NAT pool, a public subnet or a published address\n",
            at(T, &foreign, "\"192.0.2.0/24\"")
        )
    );
}

#[test]
fn a_circuit_peering_location_must_be_one_its_region_lists() {
    let text = edit(
        TOPOLOGY,
        &[(
            "peering_location = \"Washington DC\"",
            "peering_location = \"Amsterdam\"",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: circuit \"er\": region \"us-east\" has no peering location \"Amsterdam\"\n  help: its peering locations are: Washington DC\n",
            at_after(T, &text, "peering_location = ", "\"Amsterdam\"")
        )
    );
}

// ----- the endpoint catalog ------------------------------------------------------

#[test]
fn the_endpoint_catalog_must_be_one_callflow_ships() {
    let text = edit(
        TOPOLOGY,
        &[(
            "name = \"base\"",
            "name = \"base\"\nendpoints = \"office-365\"",
        )],
    );
    assert_eq!(
        topology_problems(&text),
        format!(
            "{}: error: topology: \"office-365\" is not an endpoint catalog callflow ships\n  help: the only one is \"microsoft-365\" (data/microsoft-365-endpoints.toml, list version {})\n",
            at(T, &text, "\"office-365\""),
            EndpointCatalog::builtin().version(),
        )
    );
    let named = edit(
        TOPOLOGY,
        &[(
            "name = \"base\"",
            "name = \"base\"\nendpoints = \"microsoft-365\"",
        )],
    );
    assert!(topology_from_source(&SourceFile::new(T, named)).is_ok());
}

// ----- scenario quantities -------------------------------------------------------

#[test]
fn scenario_times_and_counts_must_be_positive_and_parse() {
    let scenario = edit(
        SCENARIO,
        &[(
            "duration = \"8h\"",
            "duration = \"0h\"\nbin = \"-5m\"\nreplications = 0\nseed = -1\nstart = \"25:00\"",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{d}: error: scenario: the duration must be above zero\n\
             {b}: error: scenario: \"-5m\" is not a duration (e.g. \"20ms\", \"30s\", \"5m\", \"1h30m\")\n\
             {b}: error: scenario: the bin width must be above zero and at most the duration\n\
             {}: error: scenario: replications must be between 1 and 10000\n\
             {}: error: scenario: the seed must be a whole number from 0\n\
             {}: error: scenario: \"25:00\" is not a time of day (e.g. \"09:00\")\n",
            at(S, &scenario, "0\nseed"),
            at(S, &scenario, "-1"),
            at(S, &scenario, "\"25:00\""),
            d = at(S, &scenario, "\"0h\""),
            b = at(S, &scenario, "\"-5m\""),
        )
    );
    for bad in ["\"-8h\"", "\"eight hours\""] {
        let scenario = edit(SCENARIO, &[("\"8h\"", bad)]);
        assert_eq!(
            scenario_problems(&scenario),
            format!(
                "{}: error: scenario: {bad} is not a duration (e.g. \"20ms\", \"30s\", \"5m\", \"1h30m\")\n",
                at(S, &scenario, bad)
            )
        );
    }
}

#[test]
fn group_sizes_holding_times_and_failures_must_be_positive() {
    let scenario = edit(
        SCENARIO,
        &[
            ("count = 5\n", "count = -5\n"),
            (
                "codec = \"teams\"",
                "codec = \"teams\"\nholding = { peer_to_peer = { distribution = \"exponential\", mean = \"0s\" }, meeting = { distribution = \"gamma\", mean = \"30m\" } }",
            ),
            (
                "duration = \"8h\"",
                "duration = \"8h\"\n\n[[failure]]\nelement = \"office-isp\"\nat = \"1h\"\nfor = \"0s\"\n\n[[failure]]\nelement = \"office-ips\"\nat = \"1h\"\nfor = \"1m\"",
            ),
        ],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: failure \"office-isp\": a failure must start within the run and last more than zero\n\
             {}: error: failure \"office-ips\": \"office-ips\" is not a link or circuit\n  help: did you mean \"office-isp\"?\n\
             {}: error: persona \"teams-office\": a mean holding time must be above zero\n\
             {}: error: persona \"teams-office\": \"gamma\" is not a distribution (expected exponential, lognormal)\n\
             {}: error: group \"interns\": a group needs at least one user\n",
            // Placed at `at`, though it is `for` that is zero.
            at(S, &scenario, "\"1h\"\nfor = \"0s\""),
            at(S, &scenario, "\"office-ips\""),
            at(S, &scenario, "\"0s\" }"),
            at(S, &scenario, "\"gamma\""),
            at(S, &scenario, "-5"),
        )
    );
}

#[test]
fn probabilities_must_lie_between_0_and_1() {
    let scenario = edit(
        SCENARIO,
        &[
            (
                "participants = { internal = \"70%\", remote = \"20%\", federated = \"10%\" }",
                "participants = { internal = \"1.3\", remote = \"-0.3\", federated = \"lots\" }",
            ),
            (
                "codec = \"teams\"",
                "codec = \"teams\"\nmodalities = { video = \"120%\", sharing = \"-1%\" }\nrates = { peer_to_peer = -1.0 }",
            ),
        ],
    );
    let ratio = "is not a ratio between 0 and 1 (e.g. \"0.1%\", \"35%\", \"0.25\")";
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: persona \"teams-office\": \"120%\" {ratio}\n\
             {}: error: persona \"teams-office\": \"-1%\" {ratio}\n\
             {}: error: persona \"teams-office\": a rate must be a number from 0 (per user per day)\n\
             {}: error: persona \"teams-office\": \"1.3\" {ratio}\n\
             {}: error: persona \"teams-office\": \"-0.3\" {ratio}\n\
             {}: error: persona \"teams-office\": \"lots\" {ratio}\n",
            at(S, &scenario, "\"120%\""),
            at(S, &scenario, "\"-1%\""),
            at(S, &scenario, "-1.0"),
            at(S, &scenario, "\"1.3\""),
            at(S, &scenario, "\"-0.3\""),
            at(S, &scenario, "\"lots\""),
        )
    );
}

#[test]
fn meeting_sizes_must_be_probabilities_of_whole_sizes() {
    let scenario = edit(
        SCENARIO,
        &[(
            "meeting_size = { \"4\" = 0.85, \"6\" = 0.10, \"11\" = 0.05 }",
            "meeting_size = { \"4\" = 0.5, \"6\" = 1.5, \"1\" = 0.5 }",
        )],
    );
    let sizes = at(S, &scenario, "{ \"4\"");
    // Entries are read in order of their key's text; the valid ones are
    // then summed. All are placed at the table.
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{sizes}: error: persona \"teams-office\": meeting size \"1\" = 0.5: sizes are whole numbers from 2 to 1000, probabilities between 0 and 1\n\
             {sizes}: error: persona \"teams-office\": meeting size \"6\" = 1.5: sizes are whole numbers from 2 to 1000, probabilities between 0 and 1\n\
             {sizes}: error: persona \"teams-office\": meeting size probabilities sum to 0.5, not 1\n"
        )
    );
}

#[test]
fn mixes_must_sum_to_1() {
    let scenario = edit(
        SCENARIO,
        &[
            (
                "meeting_size = { \"4\" = 0.85, \"6\" = 0.10, \"11\" = 0.05 }",
                "meeting_size = { \"4\" = 0.85, \"6\" = 0.10, \"11\" = 0.10 }",
            ),
            (
                "participants = { internal = \"70%\", remote = \"20%\", federated = \"10%\" }",
                "participants = { internal = \"50%\", remote = \"25%\", federated = \"50%\" }",
            ),
        ],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: persona \"teams-office\": meeting size probabilities sum to 1.05, not 1\n\
             {}: error: persona \"teams-office\": participant shares sum to 1.25, not 1\n",
            at(S, &scenario, "{ \"4\""),
            at(S, &scenario, "\"50%\", remote"),
        )
    );
}

// ----- users and their way out ---------------------------------------------------

#[test]
fn a_user_group_needs_a_path_out_of_its_site() {
    let topology = edit(
        TOPOLOGY,
        &[(
            "[[site]]\nname = \"dmz\"",
            "[[site]]\nname = \"island\"\nsubnets = [\"10.50.0.0/24\"]\n\n[[site]]\nname = \"dmz\"",
        )],
    );
    let scenario = edit(
        SCENARIO,
        &[("at = \"office\"\ncount = 10", "at = \"island\"\ncount = 10")],
    );
    assert_eq!(
        study_problems(&topology, &scenario),
        format!(
            "{}: error: group \"support\": no path leads out of \"island\": its users cannot reach the Internet or Microsoft\n  help: link the site to a router that reaches an internet-access link or a circuit\n",
            at(S, &scenario, "\"island\"")
        )
    );
}

#[test]
fn on_premises_homing_needs_a_front_end() {
    let topology = edit(
        TOPOLOGY,
        &[("kind = \"front-end\"", "kind = \"conferencing\"")],
    );
    assert_eq!(
        study_problems(&topology, SCENARIO),
        format!(
            "{}: error: group \"engineers\": users are homed on-premises but the topology has no front-end server\n  help: add a [[server]] with kind = \"front-end\" (a Hybrid deployment)\n",
            at(S, SCENARIO, "\"on-prem\"")
        )
    );
}

// ----- the Edge on the Internet (regression) -------------------------------------

#[test]
fn an_edge_whose_external_side_is_the_internet_validates() {
    let t = topology_from_source(&SourceFile::new(T, TOPOLOGY))
        .unwrap_or_else(|d| panic!("{}", InvalidInput::from(d).render()));
    let edge = t.node_named("sfb-edge").expect("the Edge");
    assert_eq!(t.node(edge).domain, Domain::Customer);
    let NodeKind::Edge(e) = &t.node(edge).kind else {
        panic!("sfb-edge is not an Edge");
    };
    let external = t.link(e.external_link);
    assert_eq!(external.name, "sfb-edge-ext");
    assert_eq!(external.kind, LinkKind::InternetAccess);
    assert_eq!(t.other_end(e.external_link, edge), t.internet);
    assert_eq!(t.link(e.internal_link).kind, LinkKind::Lan);
}

// ----- every problem at once -----------------------------------------------------

/// [`TOPOLOGY`] with ten unrelated problems, none hiding another.
fn ten_problems() -> String {
    edit(
        TOPOLOGY,
        &[
            (
                "name = \"base\"",
                "name = \"base\"\nendpoints = \"office-365\"",
            ),
            ("address = \"52.112.2.10\"", "address = \"52.113.2.10\""),
            ("subnets = [\"10.1.0.0/16\"]", "subnets = [\"10.1.0.1/16\"]"),
            ("via = \"ce-nat\"", "via = \"nowhere\""),
            (
                "pool = [\"198.51.100.0/28\"]",
                "pool = [\"198.51.100.0/33\"]",
            ),
            ("address = \"10.9.0.20\"", "address = \"10.9.0.999\""),
            ("proxy = \"web-proxy\"", "proxy = \"web-proxi\""),
            ("gateway = \"gw\"", "gateway = \"fe\""),
            (
                "ends = [\"dmz\", \"office-ce\"]",
                "ends = [\"dmz\", \"office-ce\", \"office\"]",
            ),
            (
                "peering_location = \"Washington DC\"",
                "peering_location = \"Amsterdam\"",
            ),
        ],
    )
}

fn ten_problems_rendered(file: &str, text: &str) -> String {
    let p = |needle| at(file, text, needle);
    format!(
        "{}: error: topology: \"office-365\" is not an endpoint catalog callflow ships\n  help: the only one is \"microsoft-365\" (data/microsoft-365-endpoints.toml, list version {})\n\
         {}: error: service \"us-east-registrar\": 52.113.2.10 is outside the prefixes of region \"us-east\"\n\
         {}: error: site \"office\": \"10.1.0.1/16\" has host bits set\n  help: write \"10.1.0.0/16\"\n\
         {}: error: router \"office-ce\": link \"nowhere\" names no element\n\
         {}: error: nat \"office-nat\": \"198.51.100.0/33\" is not an IPv4 or IPv6 prefix (e.g. \"10.1.0.0/16\")\n\
         {}: error: proxy \"web-proxy\": \"10.9.0.999\" is not an IP address\n\
         {}: error: pac \"office-pac\": proxy \"web-proxi\" names no element\n  help: did you mean \"web-proxy\"?\n\
         {}: error: server \"med\": \"fe\" is not a pstn-gateway server\n\
         {}: error: link \"dmz-lan\": a link has two ends; this one has 3\n\
         {}: error: circuit \"er\": region \"us-east\" has no peering location \"Amsterdam\"\n  help: its peering locations are: Washington DC\n",
        p("\"office-365\""),
        EndpointCatalog::builtin().version(),
        p("\"52.113.2.10\""),
        p("\"10.1.0.1/16\""),
        p("\"nowhere\""),
        p("\"198.51.100.0/33\""),
        p("\"10.9.0.999\""),
        p("\"web-proxi\""),
        at_after(file, text, "gateway = ", "\"fe\""),
        p("[\"dmz\", \"office-ce\", \"office\"]"),
        at_after(file, text, "peering_location = ", "\"Amsterdam\""),
    )
}

#[test]
fn one_file_with_ten_problems_reports_all_ten_in_order() {
    let text = ten_problems();
    let diagnostics = topology_diagnostics(&text);
    assert_eq!(diagnostics.len(), 10);
    let positions: Vec<Position> = diagnostics
        .iter()
        .map(|d| d.location.position.expect("a position"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(topology_problems(&text), ten_problems_rendered(T, &text));
}

// ----- variants ------------------------------------------------------------------

#[test]
fn a_variant_naming_a_missing_element_is_reported_at_the_variant() {
    let scenario = edit(
        SCENARIO,
        &[(
            "set = { \"er.sku\" = \"premium\" }",
            "remove = [\"er-chicago\"]\nset = { \"er-x.sku\" = \"premium\" }",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"premium\": remove: no element named \"er-chicago\"\n\
             {}: error: variant \"premium\": set: no element named \"er-x\"\n",
            at(S, &scenario, "\"er-chicago\""),
            at(S, &scenario, "\"premium\" }"),
        )
    );
}

#[test]
fn a_variant_adding_to_a_section_that_is_not_a_list_is_reported() {
    let scenario = edit(
        SCENARIO,
        &[(
            "set = { \"er.sku\" = \"premium\" }",
            "add = { name = [{ name = \"x\" }] }",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"premium\": add: cannot add to `name`: it is not a list of elements\n",
            at(S, &scenario, "[{ name")
        )
    );
}

#[test]
fn a_variant_whose_patched_topology_is_invalid_is_reported_at_the_variant() {
    let scenario = edit(
        SCENARIO,
        &[(
            "set = { \"er.sku\" = \"premium\" }",
            "set = { \"er.bandwidth\" = \"0Mbps\" }",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"premium\": circuit \"er\": bandwidth must be above zero\n",
            at(S, &scenario, "\"premium\"")
        )
    );
}

#[test]
fn a_variant_whose_patched_scenario_is_invalid_is_reported_at_the_variant() {
    let scenario = edit(
        SCENARIO,
        &[(
            "set = { \"er.sku\" = \"premium\" }",
            "scenario = { \"interns.count\" = 0 }",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"premium\": group \"interns\": a group needs at least one user\n",
            at(S, &scenario, "\"premium\"")
        )
    );
}

#[test]
fn a_variant_removing_a_needed_element_is_reported_at_the_variant() {
    let scenario = edit(
        SCENARIO,
        &[(
            "set = { \"er.sku\" = \"premium\" }",
            "remove = [\"office-isp\"]",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: variant \"premium\": nat \"office-nat\": link \"office-isp\" names no element\n  help: did you mean \"office-ce\"?\n",
            at(S, &scenario, "\"premium\"")
        )
    );
}

// ----- known crashes (see tests/fuzz_inputs.rs) ----------------------------------

#[test]
fn a_failure_lasting_for_ever_is_an_error_not_a_panic() {
    let scenario = edit(
        SCENARIO,
        &[(
            "duration = \"8h\"",
            "duration = \"8h\"\n\n[[failure]]\nelement = \"office-isp\"\nat = \"7h\"\nfor = \"18446744073709549568us\"",
        )],
    );
    let problems = scenario_problems(&scenario);
    assert!(problems.contains("failure \"office-isp\""), "{problems}");
}

#[test]
fn a_failure_naming_a_broken_circuit_is_an_error_not_a_panic() {
    let topology = edit(
        TOPOLOGY,
        &[("bandwidth = \"200Mbps\"", "bandwidth = \"0Mbps\"")],
    );
    let scenario = edit(
        SCENARIO,
        &[(
            "duration = \"8h\"",
            "duration = \"8h\"\n\n[[failure]]\nelement = \"er\"\nat = \"1h\"\nfor = \"1h\"",
        )],
    );
    assert_eq!(
        study_problems(&topology, &scenario),
        format!(
            "{}: error: circuit \"er\": bandwidth must be above zero\n",
            at(T, &topology, "\"0Mbps\"")
        )
    );
}

#[test]
fn a_huge_duration_is_an_error_not_an_abort() {
    // Run in a child with a 1 GB address-space limit so the abort cannot
    // take the machine's memory with it.
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("t.toml");
    let scenario = dir.path().join("s.toml");
    std::fs::write(&topology, TOPOLOGY).unwrap();
    std::fs::write(&scenario, edit(SCENARIO, &[("\"8h\"", "\"5000000000h\"")])).unwrap();
    let bin = env!("CARGO_BIN_EXE_callflow");
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000; exec \"$0\" validate \"$1\" \"$2\"")
        .arg(bin)
        .arg(&topology)
        .arg(&scenario)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("duration"));
}

#[test]
fn durations_are_at_most_a_year() {
    let year = edit(SCENARIO, &[("\"8h\"", "\"365d\"")]);
    study(TOPOLOGY, &year).unwrap_or_else(|e| panic!("{}", e.render()));
    let scenario = edit(
        SCENARIO,
        &[(
            "duration = \"8h\"",
            "duration = \"366d\"\n\n[[failure]]\nelement = \"office-isp\"\nat = \"1h\"\nfor = \"9000h\"",
        )],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: scenario: the duration \"366d\" is longer than callflow simulates\n  help: durations are at most one year (\"365d\")\n\
             {}: error: failure \"office-isp\": the duration \"9000h\" is longer than callflow simulates\n  help: durations are at most one year (\"365d\")\n",
            at(S, &scenario, "\"366d\""),
            at(S, &scenario, "\"9000h\""),
        )
    );
}

#[test]
fn a_run_has_at_most_100000_bins() {
    let scenario = edit(
        SCENARIO,
        &[("duration = \"8h\"", "duration = \"8h\"\nbin = \"100ms\"")],
    );
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: scenario: a 100ms bin cuts the 8h00m run into more than 100000 bins\n  help: use a bin of at least 288ms\n",
            at(S, &scenario, "\"100ms\"")
        )
    );
    let enough = edit(
        SCENARIO,
        &[("duration = \"8h\"", "duration = \"8h\"\nbin = \"288ms\"")],
    );
    study(TOPOLOGY, &enough).unwrap_or_else(|e| panic!("{}", e.render()));
}

#[test]
fn a_meeting_has_at_most_1000_participants() {
    let scenario = edit(SCENARIO, &[("\"11\" = 0.05", "\"1001\" = 0.05")]);
    assert_eq!(
        scenario_problems(&scenario),
        format!(
            "{}: error: persona \"teams-office\": meeting size \"1001\" = 0.05: sizes are whole numbers from 2 to 1000, probabilities between 0 and 1\n\
             {}: error: persona \"teams-office\": meeting size probabilities sum to 0.95, not 1\n",
            at(S, &scenario, "{ \"4\""),
            at(S, &scenario, "{ \"4\""),
        )
    );
}

// ----- the command line ----------------------------------------------------------

fn callflow() -> Command {
    let mut c = Command::cargo_bin("callflow").expect("the callflow binary");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn cli_validate_on_a_broken_file_exits_2_and_prints_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    let text = ten_problems();
    std::fs::write(&path, &text).unwrap();
    let shown = path.display().to_string();
    callflow()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "{}10 problems in the input\n",
            ten_problems_rendered(&shown, &text)
        ));
}

#[test]
fn cli_validate_on_a_broken_scenario_exits_2_and_names_the_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("t.toml");
    let scenario = dir.path().join("s.toml");
    std::fs::write(&topology, TOPOLOGY).unwrap();
    let text = edit(SCENARIO, &[("count = 5\n", "count = 0\n")]);
    std::fs::write(&scenario, &text).unwrap();
    callflow()
        .arg("validate")
        .arg(&topology)
        .arg(&scenario)
        .assert()
        .code(2)
        .stderr(format!(
            "{}: error: group \"interns\": a group needs at least one user\n1 problem in the input\n",
            at(&scenario.display().to_string(), &text, "0\n\n[[probe]]")
        ));
}

#[test]
fn cli_validate_on_a_missing_file_exits_2_with_a_clear_message() {
    callflow()
        .args(["validate", "topologies/no-such-file.toml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: cannot read topologies/no-such-file.toml: ",
        ));
    callflow()
        .args([
            "validate",
            "topologies/online.toml",
            "scenarios/no-such-file.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot read scenarios/no-such-file.toml: ",
        ));
}

#[test]
fn cli_validate_on_a_file_that_is_not_utf8_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.toml");
    std::fs::write(&path, b"name = \"\xff\xfe\"\n").unwrap();
    callflow()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(format!(
            "{}: error: the file is not UTF-8 text\n1 problem in the input\n",
            path.display()
        ));
}

#[test]
fn cli_bad_arguments_exit_2() {
    callflow().assert().code(2);
    callflow().arg("validate").assert().code(2);
    callflow().args(["frobnicate", "x.toml"]).assert().code(2);
}

#[test]
fn cli_validate_on_every_example_exits_0_with_a_summary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("scenarios")).unwrap() {
        let scenario = entry.unwrap().path();
        if scenario.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let stem = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let topology = format!("topologies/{stem}.toml");
        if !root.join(&topology).exists() {
            continue;
        }
        let scenario = format!("scenarios/{stem}.toml");
        let out = callflow()
            .args(["validate", &topology, &scenario])
            .assert()
            .code(0)
            .stderr("")
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with(&format!("{topology}: valid\n")), "{out}");
        assert!(out.contains(&format!("\n{scenario}: valid\n")), "{out}");
        assert!(out.contains(" home region "), "{out}");
        assert!(out.contains(" groups ("), "{out}");
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} examples");
    callflow()
        .args(["validate", "topologies/online.toml"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "topologies/online.toml: valid\n  online (Online deployment), home region us-east\n",
        ));
}

#[test]
fn cli_help_shows_examples_and_exit_codes() {
    callflow().arg("--help").assert().code(0).stdout(
        predicate::str::contains(
            "Examples:\n  callflow validate topologies/multi-site.toml scenarios/multi-site.toml",
        )
        .and(predicate::str::contains(
            "Exit codes: 0 success, 1 failure while running or writing, 2 invalid input.",
        )),
    );
    callflow()
        .args(["validate", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Examples:\n  callflow validate topologies/online.toml\n  callflow validate topologies/multi-site.toml scenarios/multi-site.toml",
        ));
}

/// The `callflow …` lines under "Examples:" in a help text.
fn help_examples(help: &str) -> Vec<Vec<String>> {
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| l.starts_with("  callflow "))
        .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
        .collect()
}

fn help_of(args: &[&str]) -> String {
    let out = callflow().args(args).arg("--help").assert().code(0);
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn every_validate_example_in_help_runs_and_passes() {
    let mut ran = 0;
    for help in [help_of(&[]), help_of(&["validate"])] {
        for example in help_examples(&help) {
            if example[0] == "validate" {
                callflow().args(&example).assert().code(0);
                ran += 1;
            }
        }
    }
    assert!(ran >= 3, "{ran} examples ran");
}

#[test]
fn every_example_in_help_names_a_real_command_and_real_files() {
    let top = help_of(&[]);
    let mut examples = help_examples(&top);
    for sub in ["validate", "trace"] {
        examples.extend(help_examples(&help_of(&[sub])));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in examples {
        callflow().args([&example[0], "--help"]).assert().code(0);
        for arg in example.iter().filter(|a| a.ends_with(".toml")) {
            assert!(root.join(arg).exists(), "{arg} in {example:?}");
        }
    }
}
