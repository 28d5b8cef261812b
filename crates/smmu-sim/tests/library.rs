//! The scenario library: every built-in's expected verdicts (`expect`) are what the exhaustive
//! explorer finds, and the README's table of the library is rendered from them.

use smmu_sim::check::Invariant;
use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::scenario::{Mutation, Scenario};
use smmu_sim::{builtin, Granularity, Variant};
use std::collections::BTreeSet;

/// Built-ins without expected verdicts, and why: each is too large to explore at every
/// variant and granularity within this test's budget (`smmu-sim explore` checks them).
const EXEMPT: &[(&str, &str)] = &[
    ("attach-storm-3", "pre at source granularity keeps over two million states"),
    ("attach-storm-4", "pre keeps millions of states even at mail granularity"),
    ("attach-storm-5", "larger still than attach-storm-4"),
];

#[test]
fn every_built_in_has_expected_verdicts_or_says_why_not() {
    for s in builtin::all() {
        let exempt = EXEMPT.iter().any(|(id, _)| *id == s.id);
        assert_ne!(s.expect.is_some(), exempt, "{}: expected verdicts, or an entry in EXEMPT, not both", s.id);
    }
    for (id, _) in EXEMPT {
        assert!(builtin::get(id).is_some(), "{id} is exempt but not a built-in");
    }
}

/// The safety invariants some interleaving violates, after a search that must complete.
fn violated(s: &Scenario, v: Variant, g: Granularity) -> BTreeSet<Invariant> {
    let w = s.compile(v, g).expect("built-ins compile");
    let sum = Explorer::new(&w, Limits::default()).with_graph_limit(0).run();
    assert!(!sum.limit_hit && !sum.overflow, "{} {v} {g}: the search must complete", s.id);
    sum.by_invariant.iter().filter(|(i, n)| i.is_safety() && *n > 0).map(|(i, _)| *i).collect()
}

#[test]
fn the_explorer_finds_exactly_the_expected_verdicts() {
    let mut checked = 0;
    for s in builtin::all() {
        let Some(expect) = &s.expect else { continue };
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let want: BTreeSet<_> = expect.of(v).at(g).iter().copied().collect();
                let ids = |set: &BTreeSet<Invariant>| set.iter().map(|i| i.id()).collect::<Vec<_>>();
                let got = violated(&s, v, g);
                assert_eq!(ids(&got), ids(&want), "{} {v} {g}", s.id);
                checked += 1;
            }
        }
    }
    assert!(checked >= 6 * 8, "every scenario of the library is checked");
}

#[test]
fn the_seed_race_and_the_release_race_have_the_verdicts_of_kernel_history() {
    use Invariant::{Dma, Inv1, Inv2, Inv3};
    let seed = builtin::get("seed-race").unwrap().expect.unwrap();
    assert_eq!(seed.pre.at(Granularity::Mail), [Inv1, Inv2, Inv3, Dma]);
    assert!(seed.fix.at(Granularity::Source).is_empty() && seed.v69.at(Granularity::Source).is_empty());
    let release = builtin::get("release-race").unwrap().expect.unwrap();
    assert!(!release.pre.at(Granularity::Mail).is_empty() && !release.fix.at(Granularity::Mail).is_empty());
    assert!(release.v69.at(Granularity::Mail).is_empty());
}

/// Each mutation has a scenario that runs under it, a source-order counterpart differing only
/// in the mutation (and the prose), and changes some verdict.
#[test]
fn every_mutation_has_a_counterpart_that_differs_only_by_it() {
    let all = builtin::all();
    for m in Mutation::ALL {
        let mutated = all.iter().find(|s| s.mutations == [m]).unwrap_or_else(|| panic!("{}: no scenario", m.id()));
        let plain = all
            .iter()
            .find(|s| s.mutations.is_empty() && same_world(s, mutated))
            .unwrap_or_else(|| panic!("{}: no counterpart", mutated.id));
        assert_ne!(plain.expect, mutated.expect, "{} changes no verdict", m.id());
    }
}

fn same_world(a: &Scenario, b: &Scenario) -> bool {
    let strip = |s: &Scenario| Scenario {
        id: String::new(),
        title: String::new(),
        description: String::new(),
        group: String::new(),
        expect: None,
        mutations: Vec::new(),
        patch: None,
        schedules: Vec::new(),
        ..s.clone()
    };
    strip(a) == strip(b)
}

/// Markers around the table in README.md.
const START: &str = "<!-- library table: rendered by crates/smmu-sim/tests/library.rs -->";
const END: &str = "<!-- end of library table -->";

/// The README's table of the library, from the built-ins.
fn table() -> String {
    let mut out = String::from("| Scenario | Group | What it shows | pre | fix | v6.9 |\n|---|---|---|---|---|---|\n");
    for s in builtin::all() {
        let cell = |v: Variant| s.expect.as_ref().map_or("—".to_string(), |e| e.of(v).summary());
        let mutations = s.mutations.iter().map(|m| format!(" (mutation `{}`)", m.id())).collect::<String>();
        out.push_str(&format!(
            "| `{}` | {} | {}{} | {} | {} | {} |\n",
            s.id,
            s.group,
            s.title.replace('|', "\\|"),
            mutations,
            cell(Variant::Pre),
            cell(Variant::Fix),
            cell(Variant::V69)
        ));
    }
    out
}

#[test]
fn the_readme_table_is_the_library() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (head, rest) = readme.split_once(START).expect("the README has the table's start marker");
    let (_, tail) = rest.split_once(END).expect("the README has the table's end marker");
    let want = format!("{head}{START}\n{}{END}{tail}", table());
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(path, &want).expect("README.md is writable");
        return;
    }
    assert!(
        readme == want,
        "the README's library table is stale: run UPDATE_EXPECT=1 cargo test -p smmu-sim --test library\n{}",
        table()
    );
}

/// The position of the first instruction of CPU0's program matching `f`.
fn first(s: &Scenario, v: Variant, f: impl Fn(&smmu_sim::program::Op) -> bool) -> Option<usize> {
    let w = s.compile(v, Granularity::Source).expect("compiles");
    w.programs[0].instrs.iter().position(|i| matches!(i.kind, smmu_sim::program::Kind::Op(op) if f(&op)))
}

#[test]
fn mutations_reorder_or_drop_exactly_their_step() {
    use smmu_sim::program::{CdSrc, Op};
    let get = |id: &str| builtin::get(id).unwrap();
    let cd = |op: &Op| matches!(op, Op::CdStoreTtb(_, 0, CdSrc::Domain(_)));
    let list = |op: &Op| matches!(op, Op::ListAdd(..));
    let clear = |op: &Op| matches!(op, Op::CdStoreQ0(_, 0, CdSrc::Clear));
    for v in Variant::ALL {
        let (plain, swapped) = (get("list-before-cd"), get("list-before-cd-swapped"));
        assert!(first(&plain, v, list) < first(&plain, v, cd), "{v}: the source adds to the list first");
        assert!(first(&swapped, v, cd) < first(&swapped, v, list), "{v}: cd-before-list writes the CD first");
        assert!(first(&get("stale-cd-cleared"), v, clear).is_some(), "{v}");
        assert_eq!(first(&get("stale-cd-reuse"), v, clear), None, "{v}: no-cd-clear drops the clear");
        let flush = |op: &Op| matches!(op, Op::TlbiVmid(_));
        let free = |op: &Op| matches!(op, Op::VmidFree(_));
        let (plain, swapped) = (get("vmid-lifecycle"), get("vmid-lifecycle-swapped"));
        assert!(first(&plain, v, flush) < first(&plain, v, free), "{v}");
        assert!(first(&swapped, v, free) < first(&swapped, v, flush), "{v}");
    }
}

#[test]
fn scenario_files_refuse_unknown_and_repeated_mutations() {
    let with = |m: &str| {
        let mut json: serde_json::Value = serde_json::from_str(&builtin::get("seed-race").unwrap().to_json()).unwrap();
        json["mutations"] = serde_json::from_str(m).unwrap();
        Scenario::from_json(&json.to_string())
    };
    assert_eq!(with(r#"["no-cd-clear"]"#).unwrap().mutations, [Mutation::NoCdClear]);
    assert!(with(r#"["no-such-change"]"#).is_err());
    let twice = with(r#"["no-cd-clear", "no-cd-clear"]"#).unwrap_err();
    assert!(twice.message.contains("twice"), "{twice}");
}

/// A range of names written `X1..X3`: `true` when `text` has two dots between letters or digits.
fn has_dotted_range(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(4).any(|w| w[0].is_ascii_alphanumeric() && &w[1..3] == b".." && w[3].is_ascii_alphanumeric())
}

/// Titles and paragraphs list masters, CPUs and domains as a reviewer writes them: never
/// `M1..M1` for one of them, nor any `X1..XN` range.
#[test]
fn built_in_texts_list_names_in_words() {
    assert!(has_dotted_range("Masters M1..M1 start") && has_dotted_range("CPU1..CPU3"));
    assert!(!has_dotted_range("M0, M1 and M2") && !has_dotted_range("so it stays tractable..."));
    for s in builtin::all() {
        for text in [&s.title, &s.description] {
            assert!(!has_dotted_range(text), "{}: {text}", s.id);
        }
    }
    let one = builtin::get("attach-storm-1").unwrap().description;
    assert!(one.contains("Master M0 starts") && one.contains("CPU0 moves it"), "{one}");
    let three = builtin::get("attach-storm-3").unwrap().description;
    assert!(three.contains("Masters M0, M1 and M2") && three.contains("CPU0, CPU1 and CPU2 each"), "{three}");
}

/// The thread of a scenario whose first call is `attach_dev` or the SVA bind.
fn thread_calling(s: &Scenario, attach: bool) -> Vec<&str> {
    use smmu_sim::scenario::Call;
    let wanted = |c: &Call| match c {
        Call::AttachDev { .. } => attach,
        Call::SvaSetDevPasid { .. } => !attach,
        _ => false,
    };
    s.threads.iter().filter(|t| t.calls.first().is_some_and(wanted)).map(|t| t.name.as_str()).collect()
}

/// The storms give the CPUs the seed race's roles: the seed race's attaching CPU attaches in
/// every storm, and with one mover its binding CPU binds.
#[test]
fn the_storms_keep_the_seed_race_roles() {
    let seed = builtin::get("seed-race").unwrap();
    let (attacher, binder) = (thread_calling(&seed, true), thread_calling(&seed, false));
    assert_eq!((attacher.as_slice(), binder.as_slice()), (&["CPU0"][..], &["CPU1"][..]));
    let one = builtin::get("attach-storm-1").unwrap();
    assert_eq!((thread_calling(&one, true), thread_calling(&one, false)), (attacher.clone(), binder));
    for n in 2..=builtin::MAX_STORM {
        let s = builtin::attach_storm(n);
        let movers = thread_calling(&s, true);
        assert_eq!(movers.len(), n);
        assert_eq!(movers[0], attacher[0], "{}", s.id);
        assert_eq!(thread_calling(&s, false), [format!("CPU{n}")], "{}", s.id);
    }
}
