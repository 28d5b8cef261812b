//! Mail text, for every built-in scenario, variant and granularity: it pastes into a reply
//! unchanged (ASCII, 72 columns, no identifier cut in two), DMA lanes have marked lines of
//! their own, the header names the commit as a `Fixes:` tag does and the thread, and the
//! `Schedule:` line replays the run.

mod common;

use common::*;
use expect_test::expect_file;
use serde_json::json;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::trace::{self, Trace};
use smmu_sim::{builtin, cause, mail, Granularity, Scenario, Variant, World};
use std::collections::HashSet;

const LINK: &str = "http://127.0.0.1:8080/#v1.example";

/// Every built-in × variant × granularity, with its default schedule and two random ones.
fn each(mut f: impl FnMut(&str, &World, &Trace, &str)) {
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let (w, t) = run_default(id, v, g);
                let mut runs = vec![t];
                for seed in [1, 2] {
                    runs.push(sched::run(&w, &sched::random(&w, seed)).expect("the schedule runs"));
                }
                for t in runs {
                    let what = format!("{id} {v} {g} {}", t.schedule().to_text());
                    f(&what, &w, &t, &mail::render(&w, &t, Some(LINK)));
                }
            }
        }
    }
}

#[test]
fn every_line_is_ascii_and_fits_72_columns() {
    each(|what, _, _, text| {
        for line in text.lines().filter(|l| !l.starts_with("Link: ")) {
            assert!(line.chars().count() <= mail::WIDTH, "{what}: too wide: {line}\n{text}");
            assert!(line.is_ascii(), "{what}: not ASCII: {line}");
        }
    });
}

fn ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Maximal runs of identifier characters.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c| !ident(c)).filter(|w| !w.is_empty())
}

/// Every identifier the text can contain whole: from the step labels, functions, DMA
/// results and violations, the causal chains, the names and the commit line.
fn vocabulary(w: &World, t: &Trace) -> HashSet<String> {
    let mut sources: Vec<String> = vec![w.id.clone(), w.variant.title().to_string()];
    sources.extend(w.programs.iter().map(|p| p.name.clone()));
    for s in &t.steps {
        sources.push(format!("{} {} {}", s.label, s.function, s.stack.join(" ")));
        sources.extend(s.outcome.dma.map(|d| trace::dma_text(w, &d.result)));
        sources.extend(s.violations.iter().map(|v| v.message.clone()));
    }
    sources.extend(cause::chains(w, t).into_iter().flatten().map(|l| l.what));
    sources.iter().flat_map(|s| words(s).map(str::to_string).collect::<Vec<_>>()).collect()
}

/// The text of `line` if it continues the line before: not if it starts a row with a step
/// number (in the diagram's gutter or a causal chain's), and without a lane marker (`CPU1:`).
fn continuation<'a>(line: &'a str, lanes: &[String]) -> Option<&'a str> {
    let rest = line.trim_start();
    let number = rest.split(' ').next().is_some_and(|n| n.parse::<usize>().is_ok());
    let end = line.len() - rest.len() + rest.find(' ').unwrap_or(rest.len());
    if number && (end == 3 || end == 5) {
        return None;
    }
    let rest = lanes.iter().find_map(|l| rest.strip_prefix(l.as_str())).unwrap_or(rest);
    Some(rest.trim_start())
}

/// When a line ends inside a word and the next line continues it, the two halves joined
/// must not be an identifier the text uses: `devices_l` + `ock` is `devices_lock`.
#[test]
fn no_identifier_is_split_across_lines() {
    each(|what, w, t, text| {
        let vocab = vocabulary(w, t);
        let lanes: Vec<String> = w.programs.iter().map(|p| format!("{}:", p.name)).collect();
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let Some(next) = continuation(pair[1], &lanes) else { continue };
            let tail = pair[0].rsplit(|c| !ident(c)).next().unwrap_or("");
            let head = next.split(|c| !ident(c)).next().unwrap_or("");
            if tail.is_empty() || head.is_empty() {
                continue;
            }
            let joined = format!("{tail}{head}");
            assert!(!vocab.contains(&joined), "{what}: '{joined}' is cut in two:\n{}\n{}\n\n{text}", pair[0], pair[1]);
        }
    });
}

/// The lines of step `i` when it is drawn on full-width lines marked with the lane name: the
/// numbered line and the marked continuations right after it, without the markers.
fn marked_lines(text: &str, i: usize, name: &str) -> Option<String> {
    let first = format!("{i:>3} {name}:");
    let more = format!("    {name}:");
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&first));
    let head = lines.next()?.strip_prefix(&first)?.to_string();
    let rest: Vec<&str> = lines.map_while(|l| l.strip_prefix(&more)).collect();
    Some(format!("{head}{}", rest.concat()))
}

fn squeeze(s: &str) -> String {
    s.replace('→', "->").replace('·', "-").split_whitespace().collect()
}

/// Each DMA step is on full-width lines marked `DMA_A:`, all of its text on those lines
/// (none of it in a CPU column), and no CPU column holds a line marked with a DMA lane.
#[test]
fn dma_steps_have_marked_lines_of_their_own() {
    let mut seen = 0;
    each(|what, w, t, text| {
        for (i, s) in t.steps.iter().enumerate() {
            let p = &w.programs[s.thread.ix()];
            if !p.device {
                continue;
            }
            let got = marked_lines(text, i, &p.name).unwrap_or_else(|| panic!("{what}: step {i} unmarked\n{text}"));
            let dma = s.outcome.dma.map(|d| trace::dma_text(w, &d.result)).unwrap_or_default();
            let want = if dma.is_empty() { s.label.clone() } else { format!("{}: {dma}", s.label) };
            assert_eq!(squeeze(&got), squeeze(&want), "{what}: step {i}\n{text}");
            seen += 1;
        }
        for p in w.programs.iter().filter(|p| p.device) {
            let marker = format!("{}:", p.name);
            let mut rows = text.lines().filter_map(|l| l.get(4..));
            let inside = rows.find(|r| r.starts_with(' ') && r.trim_start().starts_with(&marker));
            assert!(inside.is_none(), "{what}: a {marker} line inside a CPU column: {inside:?}");
        }
    });
    assert!(seen > 0, "some built-in has DMA lanes");
}

#[test]
fn the_header_names_the_commit_in_12_characters_and_the_thread() {
    each(|what, w, _, text| {
        let mut lines = text.lines();
        assert!(lines.next().is_some_and(|l| l.starts_with(&format!("Scenario: {}", w.id))), "{what}");
        let kernel = lines.next().unwrap_or("");
        let short = &w.variant.commit()[..12];
        let head = format!("Kernel: {} {short}", w.variant.name());
        assert!(kernel.starts_with(&head), "{what}: {kernel}");
        assert!(!kernel[head.len()..].starts_with(|c: char| c.is_ascii_hexdigit()), "{what}: {kernel}");
        let thread = "Thread: https://lore.kernel.org/r/20240201132443.GP1455070@nvidia.com";
        assert!(text.lines().take(5).any(|l| l == thread), "{what}\n{text}");
    });
}

/// The value of a `Key:` line and of the indented lines that continue it.
fn field(text: &str, key: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(key));
    let first = lines.next()?.strip_prefix(key)?.to_string();
    let rest: Vec<&str> = lines.take_while(|l| l.starts_with(' ')).collect();
    Some(format!("{first} {}", rest.join(" ")))
}

fn threads(t: &Trace) -> Vec<usize> {
    t.steps.iter().map(|s| s.thread.ix()).collect()
}

/// The `Schedule:` line (thread names, for `smmu-sim check --schedule`) and the numeric one
/// both parse against the world and replay the same steps.
#[test]
fn the_schedule_lines_replay_the_run() {
    each(|what, w, t, text| {
        for key in ["Schedule: ", "Schedule (indices): "] {
            let value = field(text, key).unwrap_or_else(|| panic!("{what}: no {key}\n{text}"));
            let s = Schedule::parse(&value, w).unwrap_or_else(|e| panic!("{what}: {key}{value}: {e}"));
            let again = sched::run(w, &s).expect("the schedule runs");
            assert_eq!(threads(&again), threads(t), "{what}: {key}{value}");
        }
        let names = field(text, "Schedule: ").unwrap_or_default();
        assert!(w.programs.iter().any(|p| names.contains(&p.name)) || t.steps.is_empty(), "{what}: {names}");
    });
}

/// Names at the length limit, outside ASCII, with spaces: the text stays ASCII, nothing
/// panics, and the `Schedule:` line still replays the run.
#[test]
fn odd_names_still_render_and_replay() {
    let mut v: serde_json::Value = serde_json::from_str(&builtin::get("seed-race").unwrap().to_json()).unwrap();
    v["threads"][0]["name"] = json!("\u{e9}".repeat(64));
    v["threads"][1]["name"] = json!("cpu one");
    v["dma"][0]["name"] = json!("D".repeat(64));
    v["schedules"] = json!([]);
    let scenario = Scenario::from_json(&v.to_string()).expect("names within the limits");
    for g in Granularity::ALL {
        let w = scenario.compile(Variant::Pre, g).unwrap();
        let t = sched::run(&w, &sched::random(&w, 5)).expect("the schedule runs");
        let text = mail::render(&w, &t, None);
        assert!(text.is_ascii(), "{text}");
        let s = Schedule::parse(&field(&text, "Schedule: ").unwrap(), &w).unwrap();
        assert_eq!(threads(&sched::run(&w, &s).unwrap()), threads(&t), "{text}");
    }
}

/// More CPU threads than fit side by side: every step on a line marked with its thread.
#[test]
fn attach_storm_3_mail_text() {
    let (w, t) = run_default("attach-storm-3", Variant::Pre, Granularity::Mail);
    expect_file!["snapshots/attach-storm-3-pre-mail.mail.txt"].assert_eq(&mail::render(&w, &t, Some(LINK)));
}
