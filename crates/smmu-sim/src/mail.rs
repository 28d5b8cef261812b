//! A trace as plain text for a mailing-list reply, meant to be pasted unchanged: ASCII only,
//! at most [`WIDTH`] columns (the `Link:` URL aside), lines broken only between tokens, never
//! inside an identifier. A header names the scenario, the kernel variant with its commit as a
//! `Fixes:` tag writes it (12 characters) and the thread on lore; then a lockdep-style diagram
//! with one column per CPU and DMA steps on full-width lines marked with their lane; the
//! violated invariants with step numbers and their causal chains; the schedule by thread
//! names (for `smmu-sim check --schedule`) and by indices; and a `Link:` line.

mod diagram;
mod wrap;

use crate::sched::Schedule;
use crate::trace::Trace;
use crate::world::World;
use std::fmt::Write as _;
use wrap::{fill, wrap, Atom};

/// Width of the text.
pub const WIDTH: usize = 72;

/// The thread the playground is about: Jason Gunthorpe's reply of 1 Feb 2024 in "Re: [PATCH v4
/// 06/16] iommu/arm-smmu-v3: Hold arm_smmu_asid_lock during all of attach_dev".
pub const THREAD: &str = "https://lore.kernel.org/r/20240201132443.GP1455070@nvidia.com";

/// Renders a trace for a mail. `link` is the permalink URL, if any.
pub fn render(world: &World, trace: &Trace, link: Option<&str>) -> String {
    let mut out = String::new();
    header(world, &mut out);
    out.push('\n');
    diagram::draw(world, trace, &mut out);
    out.push('\n');
    for line in crate::trace::verdict(trace).lines() {
        put(&mut out, wrap("", &ascii(line), WIDTH, "    "));
    }
    why(world, trace, &mut out);
    schedules(world, trace, &mut out);
    if let Some(link) = link {
        let _ = writeln!(out, "Link: {link}");
    }
    ascii(&out)
}

fn put(out: &mut String, lines: Vec<String>) {
    for line in lines {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn header(world: &World, out: &mut String) {
    let scenario = format!("{} ({} granularity)", ascii(&world.id), world.granularity);
    put(out, wrap("Scenario: ", &scenario, WIDTH, "  "));
    let v = world.variant;
    put(out, wrap("Kernel: ", &format!("{} {}", v.name(), v.title()), WIDTH, "        "));
    let _ = writeln!(out, "Thread: {THREAD}");
}

/// The schedule by names (`CPU0*4 CPU1*6 DMA_A`) and by indices (`0.0.0.0.1`), each wrapped
/// at its separators: [`Schedule::parse`] reads the lines back as one. When the names do not
/// read back as this schedule (a name outside ASCII, or one that is another's index), the
/// `Schedule:` line gives the indices too.
fn schedules(world: &World, trace: &Trace, out: &mut String) {
    let schedule = trace.schedule();
    let names = ascii(&schedule.to_names(world));
    match Schedule::parse(&names, world) {
        Ok(back) if back == schedule => put(out, wrap("Schedule: ", &names, WIDTH, "  ")),
        _ => put(out, fill("Schedule: ", &indices(&schedule), WIDTH, "  ")),
    }
    put(out, fill("Schedule (indices): ", &indices(&schedule), WIDTH, "  "));
}

/// `0.0.1` as atoms that may break after each dot.
fn indices(schedule: &Schedule) -> Vec<Atom> {
    let n = schedule.0.len();
    let dot = |i: usize| if i + 1 < n { "." } else { "" };
    schedule.0.iter().enumerate().map(|(i, t)| Atom { text: format!("{}{}", t.0, dot(i)), space: false }).collect()
}

/// The causal chain of the first violation of each safety invariant.
fn why(world: &World, trace: &Trace, out: &mut String) {
    let chains = crate::cause::chains(world, trace);
    let mut shown = Vec::new();
    for (v, chain) in trace.violations.iter().zip(&chains) {
        if !v.invariant.is_safety() || shown.contains(&v.invariant) {
            continue;
        }
        shown.push(v.invariant);
        let _ = writeln!(out, "Why {} broke at step {}:", v.invariant.id(), v.step);
        for l in chain {
            let s = &trace.steps[l.step];
            let name = &world.programs[s.thread.ix()].name;
            let first = format!("  {:>3} ", l.step);
            let text = ascii(&format!("{name} {}: {}", diagram::short(s.function), l.what));
            put(out, wrap(&first, &text, WIDTH, &" ".repeat(first.len() + 2)));
        }
    }
}

/// Mail text in ASCII: arrows as `->`, anything else outside ASCII as `?`.
fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '→' => out.push_str("->"),
            '·' => out.push('-'),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}
