//! A trace as plain text for a mailing-list reply: a lockdep-style diagram with one column
//! per CPU, at most 72 columns wide, the violated invariants with step numbers, the variant
//! and commit, and a `Link:` line.

use crate::trace::{Trace, TraceStep};
use crate::world::World;
use std::fmt::Write as _;

/// Width of the text.
pub const WIDTH: usize = 72;
const NUM: usize = 4;

/// Word-wraps `text` to `width` columns (hard-breaking words that are too long).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let line = lines.last_mut().expect("never empty");
            let need =
                if line.is_empty() { word.chars().count() } else { line.chars().count() + 1 + word.chars().count() };
            if need <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if line.is_empty() {
                let head: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                line.push_str(&head);
                lines.push(String::new());
                if word.is_empty() {
                    break;
                }
            } else {
                lines.push(String::new());
            }
        }
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// Kernel names without the common prefix, as the thread writes them.
fn short(f: &str) -> &str {
    f.trim_start_matches("__").trim_start_matches("arm_smmu_")
}

/// A step label in the thread's shorthand: `lock(x)` for the lock calls, no xarray argument.
fn terse(label: &str) -> String {
    let mut s = label.to_string();
    for (from, to) in [
        ("spin_lock_irqsave(", "lock("),
        ("spin_unlock_irqrestore(", "unlock("),
        ("mutex_lock(&", "lock("),
        ("mutex_unlock(&", "unlock("),
        ("mutex_lock(", "lock("),
        ("mutex_unlock(", "unlock("),
        ("&arm_smmu_asid_xa, ", ""),
        ("(&arm_smmu_asid_xa)", "()"),
        ("arm_smmu_", ""),
        (" + CFGI_CD + SYNC", ""),
        (" + CFGI_STE + SYNC", ""),
    ] {
        s = s.replace(from, to);
    }
    s
}

struct Diagram<'a> {
    world: &'a World,
    cpus: Vec<usize>,
    col: usize,
    out: String,
}

impl Diagram<'_> {
    fn row(&mut self, num: Option<usize>, lane: Option<usize>, indent: usize, text: &str) {
        let (start, width) = match lane.and_then(|l| self.cpus.iter().position(|c| *c == l)) {
            Some(i) => (NUM + i * self.col, self.col - 1),
            None => (NUM, WIDTH - NUM),
        };
        let indent = indent.min(width / 3);
        for (k, piece) in wrap(&ascii(text), width - indent).into_iter().enumerate() {
            let n = match (k, num) {
                (0, Some(n)) => format!("{n:>3} "),
                _ => " ".repeat(NUM),
            };
            let _ = writeln!(self.out, "{n}{}{}{piece}", " ".repeat(start - NUM), " ".repeat(indent));
        }
    }

    fn step(&mut self, i: usize, s: &TraceStep, prev: Option<&TraceStep>) {
        let lane = s.thread.ix();
        if self.world.programs[lane].device {
            let name = &self.world.programs[lane].name;
            let dma = s.outcome.dma.map(|d| crate::trace::dma_text(self.world, &d.result)).unwrap_or_default();
            self.row(Some(i), None, 0, &format!("[{name}] {}: {dma}", terse(&s.label)));
        } else {
            let same = prev.map_or(0, |p| p.stack.iter().zip(&s.stack).take_while(|(a, b)| a == b).count());
            for (depth, f) in s.stack.iter().enumerate().skip(same) {
                self.row(None, Some(lane), depth, &format!("{}()", short(f)));
            }
            self.row(Some(i), Some(lane), s.stack.len(), &terse(&s.label));
        }
        for v in s.violations.iter().filter(|v| v.invariant.is_safety()) {
            self.row(None, None, 2, &format!("^^ {} broken: {}", v.invariant.id(), v.message));
        }
    }
}

/// Renders a trace for a mail. `link` is the permalink URL, if any.
pub fn render(world: &World, trace: &Trace, link: Option<&str>) -> String {
    let cpus: Vec<usize> = (0..world.n_threads()).filter(|t| !world.programs[*t].device).collect();
    let col = (WIDTH - NUM) / cpus.len().max(1);
    let mut d = Diagram { world, cpus: cpus.clone(), col, out: String::new() };
    let _ = writeln!(d.out, "Scenario: {} ({} granularity)", world.id, world.granularity);
    for line in wrap(&format!("Kernel: {} {}", world.variant.name(), world.variant.title()), WIDTH) {
        let _ = writeln!(d.out, "{line}");
    }
    d.out.push('\n');
    let mut head = " ".repeat(NUM);
    let mut rule = " ".repeat(NUM);
    for c in &cpus {
        let name = &world.programs[*c].name;
        let _ = write!(head, "{name:<col$}");
        let _ = write!(rule, "{:<col$}", "-".repeat(name.len()));
    }
    let _ = writeln!(d.out, "{}\n{}", head.trim_end(), rule.trim_end());
    let mut last: Vec<Option<&TraceStep>> = vec![None; world.n_threads()];
    for (i, s) in trace.steps.iter().enumerate() {
        d.step(i, s, last[s.thread.ix()]);
        last[s.thread.ix()] = Some(s);
    }
    d.out.push('\n');
    for line in crate::trace::verdict(trace).lines() {
        for piece in wrap(&ascii(line), WIDTH) {
            let _ = writeln!(d.out, "{piece}");
        }
    }
    why(world, trace, &mut d.out);
    let _ = writeln!(d.out, "Schedule: {}", trace.schedule().to_text());
    if let Some(link) = link {
        let _ = writeln!(d.out, "Link: {link}");
    }
    ascii(&d.out)
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
            let line = ascii(&format!("{:>3} {name} {}: {}", l.step, short(s.function), l.what));
            for piece in wrap(&line, WIDTH - 2) {
                let _ = writeln!(out, "  {piece}");
            }
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
