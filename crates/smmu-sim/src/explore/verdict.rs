//! One rule for reading an exhaustive run, shared by every front end: a run that found a
//! violation says so whether or not it finished and whether or not its counts are exact; a
//! count is printed only when it is exact, an estimate only labelled as one, and a run that
//! stopped early says "counts unknown" and names the bound. Never a 0 beside a counterexample.

use super::Summary;

/// What stopped a run before it covered the whole state graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// The state limit ([`super::Limits::max_states`]).
    States,
    /// A wall-clock limit of the front end.
    Time,
    /// The user cancelled it.
    Cancelled,
}

impl Bound {
    /// The bound in words, for "stopped at the … limit".
    pub fn name(self) -> &'static str {
        match self {
            Bound::States => "state",
            Bound::Time => "time",
            Bound::Cancelled => "cancel",
        }
    }
}

/// How far the interleaving counts of a run can be trusted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tally {
    /// Exact: `violating` of `total` interleavings.
    Exact {
        /// Interleavings violating a safety invariant.
        violating: u128,
        /// All complete interleavings.
        total: u128,
    },
    /// The counts exceeded `u128`; these are the explorer's estimates.
    Estimate {
        /// About this many violate a safety invariant.
        violating: f64,
        /// About this many complete interleavings.
        total: f64,
    },
    /// The run stopped at a bound (or overflowed without an estimate): no count is known.
    Unknown,
}

/// The reading of one exhaustive run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// A safety violation was found (a counterexample exists).
    pub violated: bool,
    /// The bound the run stopped at, if it did not cover the whole graph.
    pub stopped: Option<Bound>,
    /// How far the counts can be trusted, with them where they are known.
    pub counts: Tally,
}

impl Verdict {
    /// Reads `s`; `stopped` is a front end's own bound (time, cancel), if it ended the run.
    pub fn of(s: &Summary, stopped: Option<Bound>) -> Verdict {
        let stopped = stopped.or(s.limit_hit.then_some(Bound::States));
        let counts = match (stopped, s.overflow, s.approx) {
            (Some(_), _, _) | (None, true, None) => Tally::Unknown,
            (None, true, Some(a)) => Tally::Estimate { violating: a.violating, total: a.interleavings },
            (None, false, _) => Tally::Exact { violating: s.violating, total: s.interleavings },
        };
        let counted = match counts {
            Tally::Exact { violating, .. } => violating > 0,
            Tally::Estimate { violating, .. } => violating > 0.0,
            Tally::Unknown => false,
        };
        Verdict { violated: s.shortest.is_some() || counted, stopped, counts }
    }

    /// The run covered every interleaving (its counts may still be estimates).
    pub fn complete(&self) -> bool {
        self.stopped.is_none()
    }

    /// Violated, clean, or neither known: `violated`, `clean`, `incomplete`.
    pub fn word(&self) -> &'static str {
        match (self.violated, self.stopped) {
            (true, _) => "violated",
            (false, None) => "clean",
            (false, Some(_)) => "incomplete",
        }
    }

    /// How the counts may be read: `exact`, `estimate` or `unknown`.
    pub fn counts_word(&self) -> &'static str {
        match self.counts {
            Tally::Exact { .. } => "exact",
            Tally::Estimate { .. } => "estimate",
            Tally::Unknown => "unknown",
        }
    }

    /// One line for a person; `kind` names what is counted ("interleavings").
    pub fn headline(&self, kind: &str) -> String {
        let head = match self.word() {
            "violated" => "VIOLATED",
            "clean" => "CLEAN",
            _ => "INCOMPLETE",
        };
        let counts = match (self.counts, self.stopped) {
            (Tally::Exact { violating, total }, _) => {
                format!("{violating} of {total} {kind} violate a safety invariant")
            }
            (Tally::Estimate { violating, total }, _) => format!(
                "about {violating:.4e} of {total:.4e} {kind} violate a safety invariant \
                 (estimate: the exact counts exceed u128)"
            ),
            (Tally::Unknown, Some(b)) => format!("counts unknown: stopped at the {} limit", b.name()),
            (Tally::Unknown, None) => "counts unknown: they exceed u128 and no estimate was kept".into(),
        };
        match (self.violated, self.counts) {
            (true, Tally::Unknown) => format!("{head}: a counterexample was found; {counts}"),
            (false, Tally::Unknown) => format!("{head}: no violation found so far; {counts}"),
            _ => format!("{head}: {counts}"),
        }
    }

    /// The CLI's exit code: 1 violated, 0 clean and complete, 3 no violation found but stopped
    /// at a bound (2 is bad input, decided before any run).
    pub fn exit_code(&self) -> u8 {
        match self.word() {
            "violated" => 1,
            "clean" => 0,
            _ => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::Approx;
    use crate::sched::Schedule;

    fn summary(violating: u128, total: u128, found: bool) -> Summary {
        Summary { violating, interleavings: total, shortest: found.then(Schedule::default), ..Summary::default() }
    }

    #[test]
    fn a_found_counterexample_is_violated_whatever_the_counts() {
        let mut s = summary(0, 0, true);
        s.limit_hit = true;
        let v = Verdict::of(&s, None);
        assert_eq!((v.word(), v.counts_word(), v.exit_code()), ("violated", "unknown", 1));
        assert_eq!(
            v.headline("interleavings"),
            "VIOLATED: a counterexample was found; counts unknown: stopped at the state limit"
        );
        let mut s = summary(u128::MAX - u128::MAX, u128::MAX, true);
        s.overflow = true;
        s.approx = Some(Approx { interleavings: 7.6e43, violating: 2.1e43 });
        let v = Verdict::of(&s, None);
        assert_eq!((v.word(), v.counts_word(), v.exit_code()), ("violated", "estimate", 1));
        let line = v.headline("interleavings");
        assert!(line.starts_with("VIOLATED: about 2.1000e43 of 7.6000e43") && line.contains("estimate"), "{line}");
        s.approx = None;
        let line = Verdict::of(&s, None).headline("interleavings");
        assert!(line.contains("counts unknown") && !line.contains(" 0 "), "{line}");
    }

    #[test]
    fn clean_only_when_complete_and_nothing_found() {
        let v = Verdict::of(&summary(0, 44_760, false), None);
        assert_eq!((v.word(), v.exit_code()), ("clean", 0));
        assert_eq!(v.headline("interleavings"), "CLEAN: 0 of 44760 interleavings violate a safety invariant");
        let v = Verdict::of(&summary(0, 10, false), Some(Bound::Time));
        assert_eq!((v.word(), v.counts_word(), v.exit_code()), ("incomplete", "unknown", 3));
        assert_eq!(
            v.headline("interleavings"),
            "INCOMPLETE: no violation found so far; counts unknown: stopped at the time limit"
        );
        let v = Verdict::of(&summary(3, 10, false), None);
        assert_eq!((v.word(), v.exit_code()), ("violated", 1), "counted violations without a kept schedule");
        assert_eq!(Verdict::of(&summary(0, 10, false), Some(Bound::Cancelled)).stopped, Some(Bound::Cancelled));
    }
}
