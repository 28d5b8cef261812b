//! The lockdep-style diagram: one column per CPU thread, a step number in the gutter, DMA
//! steps on full-width lines marked with their lane (`DMA_A:`), violations under the step
//! that broke them (`^^`). With more CPU threads than columns fit side by side, every step
//! goes on a full-width line marked with its thread instead.

use super::wrap::wrap;
use super::{ascii, WIDTH};
use crate::trace::{Trace, TraceStep};
use crate::world::World;
use std::fmt::Write as _;

/// Narrowest CPU column: below this, CPU steps go on marked lines too.
const MIN_COL: usize = 30;
/// Narrowest text beside a lane marker.
const MIN_TEXT: usize = 24;
/// Indent of a column line that continues the one above.
const HANG: usize = 2;

/// Kernel names without the common prefix, as the thread writes them.
pub fn short(f: &str) -> &str {
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
    ascii(&s)
}

enum Layout {
    /// CPU threads side by side, columns this wide.
    Columns(usize),
    /// Every step on a marked full-width line.
    Rows,
}

struct Diagram<'a> {
    world: &'a World,
    /// The CPU threads, in column order.
    cpus: Vec<usize>,
    layout: Layout,
    /// Width of the step-number gutter, its space included.
    num: usize,
    /// Width of a lane marker (`DMA_A:`), padded so that marked lines align.
    mark: usize,
    out: String,
}

/// Draws the diagram of `trace`.
pub fn draw(world: &World, trace: &Trace, out: &mut String) {
    let cpus: Vec<usize> = (0..world.n_threads()).filter(|t| !world.programs[*t].device).collect();
    let num = trace.steps.len().saturating_sub(1).to_string().len().max(3) + 1;
    let col = (WIDTH - num) / cpus.len().max(1);
    let fits = cpus.iter().all(|c| ascii(&world.programs[*c].name).len() < col);
    let layout = if col >= MIN_COL && fits { Layout::Columns(col) } else { Layout::Rows };
    let marked = |t: &usize| matches!(layout, Layout::Rows) || world.programs[*t].device;
    let mark =
        (0..world.n_threads()).filter(marked).map(|t| ascii(&world.programs[t].name).len() + 1).max().unwrap_or(0);
    let mut d = Diagram { world, cpus, layout, num, mark, out: String::new() };
    d.head();
    let mut last: Vec<Option<&TraceStep>> = vec![None; world.n_threads()];
    for (i, s) in trace.steps.iter().enumerate() {
        d.step(i, s, last[s.thread.ix()]);
        last[s.thread.ix()] = Some(s);
    }
    out.push_str(&d.out);
}

impl Diagram<'_> {
    /// The column heads: `CPU0` over `----`.
    fn head(&mut self) {
        let Layout::Columns(col) = self.layout else { return };
        if self.cpus.is_empty() {
            return;
        }
        let mut head = " ".repeat(self.num);
        let mut rule = head.clone();
        for c in &self.cpus {
            let name = ascii(&self.world.programs[*c].name);
            let _ = write!(head, "{name:<col$}");
            let _ = write!(rule, "{:<col$}", "-".repeat(name.len()));
        }
        let _ = writeln!(self.out, "{}\n{}", head.trim_end(), rule.trim_end());
    }

    fn line(&mut self, num: Option<usize>, text: &str) {
        let gutter = match num {
            Some(n) => format!("{n:>w$} ", w = self.num - 1),
            None => " ".repeat(self.num),
        };
        let _ = writeln!(self.out, "{}", format!("{gutter}{text}").trim_end());
    }

    /// Text in thread `lane`'s column, `indent` deep; continuation lines hang a little more.
    fn column(&mut self, num: Option<usize>, lane: usize, indent: usize, text: &str) {
        let pos = self.cpus.iter().position(|c| *c == lane).unwrap_or(0);
        let Layout::Columns(col) = self.layout else { return self.marked(num, lane, indent, &[text]) };
        let width = col - 1;
        let indent = indent.min(width / 3);
        let lead = " ".repeat(pos * col + indent);
        let hang = " ".repeat(HANG);
        for (k, piece) in wrap("", text, width - indent, &hang).into_iter().enumerate() {
            self.line(num.filter(|_| k == 0), &format!("{lead}{piece}"));
        }
    }

    /// Text on full-width lines, every one marked with the thread's name. Each of `parts`
    /// starts a line; lines after the first hang a little deeper.
    fn marked(&mut self, num: Option<usize>, lane: usize, indent: usize, parts: &[&str]) {
        let marker = format!("{:<w$} ", format!("{}:", ascii(&self.world.programs[lane].name)), w = self.mark);
        let first = format!("{marker}{}", " ".repeat(indent));
        let hang = format!("{first}{}", " ".repeat(HANG));
        // A name near the length limit leaves no room: such lines overflow instead.
        let width = (WIDTH - self.num).max(hang.len() + MIN_TEXT);
        let mut num = num;
        for (k, part) in parts.iter().enumerate() {
            for piece in wrap(if k == 0 { &first } else { &hang }, part, width, &hang) {
                self.line(num.take(), &piece);
            }
        }
    }

    /// A DMA step: `DMA_A: A DMA to 0x1000 (RID): walk ...`, the result on a line of its own
    /// when the two do not fit on one.
    fn dma(&mut self, i: usize, s: &TraceStep) {
        let lane = s.thread.ix();
        let label = terse(&s.label);
        let dma = s.outcome.dma.map(|d| ascii(&crate::trace::access_text(self.world, &d))).unwrap_or_default();
        if dma.is_empty() {
            return self.marked(Some(i), lane, 0, &[&label]);
        }
        let one = format!("{label}: {dma}");
        if self.num + self.mark + 1 + one.len() <= WIDTH {
            self.marked(Some(i), lane, 0, &[&one]);
        } else {
            self.marked(Some(i), lane, 0, &[&format!("{label}:"), &dma]);
        }
    }

    /// A violation, under the step that broke it.
    fn note(&mut self, text: &str) {
        for piece in wrap("  ^^ ", &ascii(text), WIDTH - self.num, "     ") {
            self.line(None, &piece);
        }
    }

    fn step(&mut self, i: usize, s: &TraceStep, prev: Option<&TraceStep>) {
        let lane = s.thread.ix();
        if self.world.programs[lane].device {
            self.dma(i, s);
        } else {
            let same = prev.map_or(0, |p| p.stack.iter().zip(&s.stack).take_while(|(a, b)| a == b).count());
            for (depth, f) in s.stack.iter().enumerate().skip(same) {
                self.column(None, lane, depth, &format!("{}()", short(f)));
            }
            self.column(Some(i), lane, s.stack.len(), &terse(&s.label));
        }
        for v in s.violations.iter().filter(|v| v.invariant.is_safety()) {
            self.note(&format!("{} broken: {}", v.invariant.id(), v.message));
        }
    }
}
