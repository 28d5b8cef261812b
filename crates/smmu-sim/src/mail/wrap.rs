//! Filling lines at token boundaries, so that no identifier is ever cut in two.
//!
//! A line may break at a space (which is dropped), after `(` or `,`, or before `->`
//! (`lock(smmu_domain` / `->devices_lock)`). Nothing else is a break point, so a token with
//! none of them inside (an identifier, a number, `CD_A[0]`) always stays on one line. A token
//! wider than the whole line goes on a line of its own and overflows the width rather than
//! being cut: a long line reads better in a reply than a mangled name.

/// A piece of text that is never broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atom {
    /// The text.
    pub text: String,
    /// A space came before it (dropped when a line breaks there).
    pub space: bool,
}

/// Cuts `text` at its break points.
pub fn atoms(text: &str) -> Vec<Atom> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut space = false;
    let mut push = |cur: &mut String, space: &mut bool| {
        if !cur.is_empty() {
            out.push(Atom { text: std::mem::take(cur), space: *space });
            *space = false;
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if c == ' ' {
            push(&mut cur, &mut space);
            space = true;
            continue;
        }
        if c == '-' && next == Some('>') {
            push(&mut cur, &mut space);
        }
        cur.push(c);
        if matches!(c, '(' | ',') && next.is_some_and(|n| n != ')' && n != ' ') {
            push(&mut cur, &mut space);
        }
    }
    push(&mut cur, &mut space);
    out
}

/// Fills lines of at most `width` characters with `atoms`: the first line starts with
/// `first`, every other with `hang`. Lines break at spaces where they can; a word (the atoms
/// between two spaces) breaks inside, at its other break points, only when it does not fit
/// on a line of its own. Always at least one line.
pub fn fill(first: &str, atoms: &[Atom], width: usize, hang: &str) -> Vec<String> {
    let mut lines = Lines { lines: vec![first.to_string()], fresh: true, width, hang };
    let mut rest = atoms;
    while !rest.is_empty() {
        let n = 1 + rest[1..].iter().take_while(|a| !a.space).count();
        let (word, tail) = rest.split_at(n);
        let len: usize = word.iter().map(|a| a.text.chars().count()).sum();
        if !lines.fresh && lines.len() + 1 + len > width && hang.chars().count() + len <= width {
            lines.new_line();
        }
        for a in word {
            lines.push(a);
        }
        rest = tail;
    }
    lines.lines
}

struct Lines<'a> {
    lines: Vec<String>,
    /// Nothing on the last line but its prefix.
    fresh: bool,
    width: usize,
    hang: &'a str,
}

impl Lines<'_> {
    fn len(&self) -> usize {
        self.lines.last().map_or(0, |l| l.chars().count())
    }

    fn new_line(&mut self) {
        self.lines.push(self.hang.to_string());
        self.fresh = true;
    }

    /// Appends an atom, on a new line if it does not fit on this one.
    fn push(&mut self, a: &Atom) {
        let sep = usize::from(a.space && !self.fresh);
        if !self.fresh && self.len() + sep + a.text.chars().count() > self.width {
            self.new_line();
        }
        let fresh = self.fresh;
        let line = self.lines.last_mut().expect("never empty");
        if a.space && !fresh {
            line.push(' ');
        }
        line.push_str(&a.text);
        self.fresh = false;
    }
}

/// [`fill`] of a text.
pub fn wrap(first: &str, text: &str, width: usize, hang: &str) -> Vec<String> {
    fill(first, &atoms(text), width, hang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        atoms(text).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn breaks_after_parens_and_commas_and_before_arrows() {
        assert_eq!(texts("lock(smmu_domain->devices_lock)"), ["lock(", "smmu_domain", "->devices_lock)"]);
        assert_eq!(texts("xa_alloc() -> y->cd.asid"), ["xa_alloc()", "->", "y", "->cd.asid"]);
        assert_eq!(texts("tlb_inv_asid(smmu,asid)"), ["tlb_inv_asid(", "smmu,", "asid)"]);
        assert_eq!(texts("CD_A[0] := 0x1000"), ["CD_A[0]", ":=", "0x1000"]);
    }

    #[test]
    fn fills_to_the_width_and_keeps_long_tokens_whole() {
        let lines = wrap("", "lock(smmu_domain->devices_lock)", 20, "  ");
        assert_eq!(lines, ["lock(smmu_domain", "  ->devices_lock)"]);
        let lines = wrap("> ", "a an_identifier_longer_than_the_line b", 10, "> ");
        assert_eq!(lines, ["> a", "> an_identifier_longer_than_the_line", "> b"]);
        assert_eq!(wrap("x: ", "", 10, ""), ["x: "]);
        let lines = wrap("", "STE_A := abort STE (master->domain is NULL)", 30, "  ");
        assert_eq!(lines, ["STE_A := abort STE", "  (master->domain is NULL)"], "spaces first");
    }
}
