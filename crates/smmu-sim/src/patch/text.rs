//! A patch as text, the way it travels in mail: a header with the base and the edit lines
//! (what is read back), then a unified diff of the step scripts the edits change, printed
//! from one scenario's calls (what a reader looks at).

use super::{Edit, Patch, MAX_EDITS, MAX_PATCH_TEXT};
use crate::program::Instr;
use crate::scenario::Scenario;
use crate::variant::{Granularity, Variant};

/// Prints a patch: header and edits, then, given a scenario, the diff of its scripts.
pub fn print(patch: &Patch, scenario: Option<&Scenario>) -> String {
    let mut out = format!("Base: {}\nEdits:\n", patch.base);
    for e in &patch.edits {
        out.push_str(&format!("  {e}\n"));
    }
    if let Some(s) = scenario {
        out.push('\n');
        out.push_str(&diff(patch, s));
    }
    out
}

/// Reads a patch printed by [`print`]: the `Base:` line and the indented lines under
/// `Edits:`. The diff after them is for people and is not read.
pub fn parse(text: &str) -> Result<Patch, String> {
    if text.len() > MAX_PATCH_TEXT {
        return Err(format!("the patch is {} bytes; the limit is {MAX_PATCH_TEXT}", text.len()));
    }
    let mut lines = text.lines().enumerate().skip_while(|(_, l)| l.trim().is_empty());
    let base = match lines.next() {
        Some((_, l)) if l.starts_with("Base:") => l["Base:".len()..].trim(),
        _ => return Err("a patch starts with a line `Base: pre|fix|v6.9`".to_string()),
    };
    let base: Variant = base.parse().map_err(|e| format!("line 1: {e}"))?;
    match lines.next() {
        Some((_, "Edits:")) => {}
        _ => return Err("line 2 must be `Edits:`".to_string()),
    }
    let mut edits = Vec::new();
    for (i, line) in lines.take_while(|(_, l)| l.starts_with("  ")) {
        if edits.len() == MAX_EDITS {
            return Err(format!("more than {MAX_EDITS} edits (the limit)"));
        }
        edits.push(line.trim().parse::<Edit>().map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(Patch { base, edits })
}

/// The diff of every function the patch edits, as one call of it in `scenario` emits it at
/// `source` granularity (the first call, by thread order). Functions the scenario never
/// calls are named with no hunk.
pub fn diff(patch: &Patch, scenario: &Scenario) -> String {
    let mut funcs: Vec<&str> = Vec::new();
    for e in &patch.edits {
        if !funcs.contains(&e.func()) {
            funcs.push(e.func());
        }
    }
    let patched = Scenario { patch: Some(patch.clone()), ..scenario.clone() };
    let (Ok(old), Ok(new)) = (
        Scenario { patch: None, ..scenario.clone() }.compile(patch.base, Granularity::Source),
        patched.compile(patch.base, Granularity::Source),
    ) else {
        return format!("(no diff: scenario {} does not compile with this patch)\n", scenario.id);
    };
    let mut out = format!(
        "A diff of the model's step scripts for {}, not of the C file; {} is {}.\n",
        scenario.id,
        patch.base,
        &patch.base.commit()[..12]
    );
    for f in funcs {
        let instance = |w: &crate::World| w.programs.iter().find_map(|p| call_of(&p.instrs, f));
        match (instance(&old), instance(&new)) {
            (Some(a), Some(b)) => out.push_str(&hunk(f, patch.base, &a, &b)),
            _ => out.push_str(&format!("(scenario {} never calls {f})\n", scenario.id)),
        }
    }
    out
}

/// The visible steps of the first call of `func` in a program.
fn call_of(instrs: &[Instr], func: &str) -> Option<Vec<Instr>> {
    let first = instrs.iter().position(|i| i.stack.contains(&func))?;
    let depth = instrs[first].stack.iter().position(|f| *f == func)?;
    let inside = |i: &Instr| i.stack.get(depth) == Some(&func);
    let call = instrs[first..].iter().take_while(|i| inside(i)).filter(|i| i.visible).cloned().collect();
    Some(call)
}

fn line(i: &Instr) -> String {
    let indent = "\t".repeat(i.stack.len().saturating_sub(1).min(4));
    let at = match i.src.lines() {
        _ if i.src.part == super::INSERTED => "  /* inserted */".to_string(),
        Some((a, _)) => format!("  /* :{a} */"),
        None => String::new(),
    };
    format!("{indent}{}{at}", i.label)
}

fn hunk(func: &str, base: Variant, old: &[Instr], new: &[Instr]) -> String {
    let file = old.first().map_or("", |i| i.src.file.path());
    let a: Vec<String> = old.iter().map(line).collect();
    let b: Vec<String> = new.iter().map(line).collect();
    let start = old.first().and_then(|i| crate::source::Src { part: "fn", ..i.src }.lines()).map_or(1, |(s, _)| s);
    let start = if old.first().is_some_and(|i| i.src.func == func) { start } else { 1 };
    let mut out = format!("--- a/{file}\t({base})\n+++ b/{file}\t(patched)\n");
    out.push_str(&format!("@@ -{start},{} +{start},{} @@ {func}\n", a.len(), b.len()));
    for (tag, text) in lcs_diff(&a, &b) {
        out.push_str(&format!("{tag}{text}\n"));
    }
    out
}

/// Largest table the line diff builds (old lines × new lines); longer calls print whole.
const MAX_DIFF_CELLS: usize = 1 << 20;

/// A line diff by longest common subsequence: (' ' | '-' | '+', line).
fn lcs_diff<'a>(a: &'a [String], b: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > MAX_DIFF_CELLS {
        return a.iter().map(|l| ('-', l.as_str())).chain(b.iter().map(|l| ('+', l.as_str()))).collect();
    }
    let mut len = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i][j] = if a[i] == b[j] { len[i + 1][j + 1] + 1 } else { len[i + 1][j].max(len[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((' ', a[i].as_str()));
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || len[i][j + 1] >= len[i + 1][j]) {
            out.push(('+', b[j].as_str()));
            j += 1;
        } else {
            out.push(('-', a[i].as_str()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::presets::PRESETS;

    #[test]
    fn every_preset_round_trips_through_its_text() {
        let seed = crate::builtin::get("seed-race").unwrap();
        for p in PRESETS {
            let patch = p.patch();
            assert_eq!(parse(&print(&patch, Some(&seed))).unwrap(), patch, "{}", p.id);
            assert_eq!(parse(&print(&patch, None)).unwrap(), patch, "{}", p.id);
        }
    }

    #[test]
    fn bad_texts_say_where() {
        for (text, says) in [
            ("", "starts with a line `Base:"),
            ("Base: 6.8\nEdits:\n", "line 1"),
            ("Base: pre\n", "line 2"),
            ("Base: pre\nEdits:\n  delete f\n", "line 3"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
        let many = format!("Base: pre\nEdits:\n{}", "  delete f a#1\n".repeat(MAX_EDITS + 1));
        assert!(parse(&many).unwrap_err().contains("limit"));
        assert!(parse(&" ".repeat(MAX_PATCH_TEXT + 1)).unwrap_err().contains("limit"));
    }
}
