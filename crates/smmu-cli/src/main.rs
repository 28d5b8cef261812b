//! `smmu-sim`: list, check and explore scenarios of the arm-smmu-v3 model from a terminal.
//!
//! Exit codes: 0 clean, 1 a safety invariant was violated (for `kunit`: a transition missed
//! the table), 2 bad input.

mod analysis;
mod json;
mod kunit;
mod library;
mod patch;
mod share;

use clap::{Parser, Subcommand};
use smmu_sim::explore::{Bound, Explorer, Limits, Verdict};
use smmu_sim::limits::MAX_FILE;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{builtin, trace, Granularity, Scenario, Variant, World};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "smmu-sim", version, about = "Simulate the arm-smmu-v3 ASID race step by step")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug)]
pub(crate) struct Target {
    /// A built-in scenario id (see `smmu-sim scenarios`) or a scenario JSON file.
    scenario: String,
    /// Kernel variant: pre, fix or v6.9 (default: the scenario's).
    #[arg(long)]
    variant: Option<String>,
    /// Step granularity (default: the scenario's), i.e. what folds into one step. mail: one step
    /// per line of the thread's diagrams; a whole STE or CD write, with its CFGI + CMD_SYNC, is one
    /// step, and bookkeeping stores fold into the step before them. source: every qword store,
    /// CFGI + CMD_SYNC and STE writer phase is a step of its own, as the source does them; between
    /// a store and its sync the SMMU may use either image.
    #[arg(long)]
    granularity: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Run the scenario's base variant under a patch of its step scripts: a patch file (as
    /// `smmu-sim patch show` prints it) or a preset id (`smmu-sim patch presets`).
    #[arg(long)]
    patch: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the built-in scenarios by group.
    Scenarios {
        /// Print JSON: id, title, group, paragraph, mutations and expected verdicts per variant.
        #[arg(long)]
        json: bool,
    },
    /// Run one interleaving and print the trace and the verdict.
    Check {
        #[command(flatten)]
        target: Target,
        /// Thread choices, e.g. "CPU0*3 CPU1 0 1" (default: the scenario's schedule).
        #[arg(long)]
        schedule: Option<String>,
        /// Use a seeded random schedule instead.
        #[arg(long, conflicts_with = "schedule")]
        seed: Option<u64>,
        /// Use a round-robin schedule instead.
        #[arg(long, conflicts_with_all = ["schedule", "seed"])]
        round_robin: bool,
    },
    /// Check every interleaving. Exit 1: a violation was found (even if the run stopped early);
    /// 0: complete and clean; 3: stopped at a bound before finding one.
    Explore {
        #[command(flatten)]
        target: Target,
        /// Stop after this many unique states.
        #[arg(long, default_value_t = Limits::default().max_states)]
        max_states: u64,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
        /// Also compute the danger windows: for each pair of steps of different threads, how
        /// many violating interleavings run one before the other (keeps the whole graph).
        #[arg(long)]
        danger: bool,
        /// Partial-order reduction: run only one of the orders of independent steps. Which
        /// invariants are violated, deadlocks and counterexamples stay exact; the counts are
        /// of representative interleavings, not of all of them.
        #[arg(long, conflicts_with = "danger")]
        reduce: bool,
        /// Keep every state apart, rather than one per class of states that differ only by
        /// which allocated ASID went to which descriptor. Every count, verdict and
        /// counterexample length is the same either way; only the states and transitions grow.
        /// (A scenario that frees a domain's or an SVA descriptor's ASID is searched state by
        /// state anyway.)
        #[arg(long)]
        no_symmetry: bool,
    },
    /// Shrink a violating schedule: fewest choices, same invariant, the schedule's own order.
    Shrink {
        #[command(flatten)]
        target: Target,
        /// The violating schedule, e.g. "CPU0*4 CPU1*6 DMA_A".
        #[arg(long)]
        schedule: String,
        /// The invariant to keep violating (default: the first safety invariant the schedule violates).
        #[arg(long)]
        invariant: Option<String>,
    },
    /// Export a run as mail text (a lockdep-style diagram), scenario JSON or an SVG timeline.
    Export {
        #[command(flatten)]
        target: Target,
        /// Thread choices (default: the scenario's schedule).
        #[arg(long)]
        schedule: Option<String>,
        /// text, json or svg.
        #[arg(long, default_value = "text")]
        format: String,
        /// Base URL of the playground for the Link: line.
        #[arg(long, default_value = share::DEFAULT_BASE)]
        base: String,
    },
    /// Print the permalink fragment of a run (with --base, the whole URL).
    Link {
        #[command(flatten)]
        target: Target,
        /// Thread choices (default: the scenario's schedule).
        #[arg(long)]
        schedule: Option<String>,
        /// Base URL of the playground.
        #[arg(long)]
        base: Option<String>,
    },
    /// Print the scenario JSON of a permalink (a URL, a fragment or a bare v1.… code).
    Import {
        /// The link.
        link: String,
    },
    /// Run the kernel's KUnit entry-writer vectors (arm-smmu-v3-test.c) through the model's
    /// used-bits writer: per transition the hitless flag, the syncs and the table's values.
    /// Exit 0 when every transition meets the table, 1 otherwise.
    Kunit {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Use the masks and disruptive step of the pinned pre-fix commit (71b0aa10b18d)
        /// instead of those the table was written for; the transitions that differ say why.
        #[arg(long)]
        pinned: bool,
    },
    /// Search for the smallest patches to one function that make the scenario clean: one
    /// critical section of a lock (replacing the function's own steps of it) and at most one
    /// move. Exit 0 when some are found (each re-checked by a full run), 1 when none is.
    FindFix {
        #[command(flatten)]
        target: Target,
        /// The function to patch, e.g. arm_smmu_attach_dev.
        #[arg(long)]
        function: String,
        /// Only this lock (repeatable; default: every lock the model has).
        #[arg(long)]
        lock: Vec<String>,
        /// Per candidate, stop after this many unique states: the candidate is then
        /// undecided, counted as such and never reported clean.
        #[arg(long, default_value_t = 20_000)]
        max_states: u64,
        /// Print (and re-check by a full run) this many of the ranked clean patches.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Only patches that also keep the fix's design rule (`lock`).
        #[arg(long)]
        lock_rule: bool,
        /// Say where this patch (a file or a preset id) ranks among the clean ones.
        #[arg(long)]
        rank_of: Option<String>,
    },
    /// Patches of the step scripts: presets, a patch's diff, a function's steps.
    Patch {
        #[command(subcommand)]
        what: patch::PatchCmd,
    },
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub(crate) fn emit(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Bad input: one line on stderr, exit code 2.
pub(crate) struct Usage(pub(crate) String);

/// Reads a scenario file, at most [`MAX_FILE`] bytes of it: a larger file (or `/dev/zero`) is
/// refused after reading one byte past the limit, not after reading all of it.
fn read_bounded(path: &str) -> Result<String, Usage> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| Usage(format!("cannot read {}: {e}", smmu_sim::text::quote(path)));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE as u64 + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() > MAX_FILE {
        return Err(Usage(format!(
            "{}: larger than {} KiB (the limit for a scenario file)",
            smmu_sim::text::quote(path),
            MAX_FILE / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| Usage(format!("{}: not UTF-8 text", smmu_sim::text::quote(path))))
}

pub(crate) fn load(target: &Target) -> Result<(Scenario, World), Usage> {
    let scenario = match builtin::get(&target.scenario) {
        Some(s) => s,
        None if target.scenario.ends_with(".json") || std::path::Path::new(&target.scenario).exists() => {
            let text = read_bounded(&target.scenario)?;
            Scenario::from_json(&text).map_err(|e| Usage(format!("{}: {e}", target.scenario)))?
        }
        None => {
            let ids: Vec<_> = builtin::ids().collect();
            return Err(Usage(format!("unknown scenario '{}' (built-in: {})", target.scenario, ids.join(", "))));
        }
    };
    let mut scenario = scenario;
    if let Some(arg) = &target.patch {
        scenario.patch = Some(patch::read(arg, Some(&scenario))?);
    }
    let variant = match &target.variant {
        Some(v) => v.parse::<Variant>().map_err(Usage)?,
        None => scenario.patch.as_ref().map_or(scenario.variant, |p| p.base),
    };
    let granularity = match &target.granularity {
        Some(g) => g.parse::<Granularity>().map_err(Usage)?,
        None => scenario.granularity,
    };
    let world = scenario.compile(variant, granularity).map_err(|e| Usage(e.to_string()))?;
    Ok((scenario, world))
}

fn check(target: &Target, schedule: Option<&str>, seed: Option<u64>, rr: bool) -> Result<ExitCode, Usage> {
    let (scenario, world) = load(target)?;
    let schedule = match (schedule, seed, rr) {
        (_, Some(seed), _) => sched::random(&world, seed),
        (_, _, true) => sched::round_robin(&world),
        (Some(text), _, _) => Schedule::parse(text, &world).map_err(|e| Usage(e.to_string()))?,
        (None, _, _) => {
            let text = scenario.default_schedule(world.variant, world.granularity).unwrap_or("");
            Schedule::parse(text, &world).map_err(|e| Usage(format!("the scenario's default schedule: {e}")))?
        }
    };
    let trace = sched::run(&world, &schedule).map_err(|e| Usage(e.to_string()))?;
    if target.json {
        emit(&format!("{}\n", json::trace(&world, &trace)));
    } else {
        emit(&trace::render(&world, &trace));
        emit(&format!("replay: --schedule {}\n", trace.schedule().to_text()));
    }
    Ok(if trace.safety_violations().next().is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The explorer's progress line on a terminal's stderr: redrawn in place, and ended with a
/// newline before the report so the two never share a line. Not drawn when stderr is a file
/// or a pipe, where `\r` redraws would only be noise.
struct Progress {
    enabled: bool,
    drawn: bool,
}

impl Progress {
    fn new(wanted: bool) -> Self {
        Progress { enabled: wanted && std::io::stderr().is_terminal(), drawn: false }
    }

    fn show(&mut self, line: &str) {
        if self.enabled {
            eprint!("\r{line}   ");
            self.drawn = true;
        }
    }

    fn finish(&mut self) {
        if std::mem::take(&mut self.drawn) {
            eprintln!();
        }
    }
}

/// How `explore` searches: partial-order reduction, ASID symmetry.
#[derive(Clone, Copy)]
struct Search {
    reduce: bool,
    symmetry: bool,
}

fn explore(
    target: &Target,
    max_states: u64,
    max_seconds: u64,
    danger: bool,
    search: Search,
) -> Result<ExitCode, Usage> {
    let (_, world) = load(target)?;
    let start = Instant::now();
    let mut explorer =
        Explorer::new(&world, Limits { max_states }).with_reduction(search.reduce).with_symmetry(search.symmetry);
    if danger {
        explorer = explorer.with_graph_limit(max_states);
    }
    let deadline = Duration::from_secs(max_seconds);
    let mut timed_out = false;
    let mut progress = Progress::new(!target.json);
    loop {
        let p = explorer.step(20_000);
        if p.done {
            break;
        }
        if start.elapsed() > deadline {
            timed_out = true;
            break;
        }
        if start.elapsed() > Duration::from_secs(2) {
            progress.show(&format!("{} states, depth {}, frontier {}", p.states, p.depth, p.frontier));
        }
    }
    progress.finish();
    let summary = explorer.summary();
    let danger = danger.then(|| explorer.danger_windows());
    let elapsed = start.elapsed();
    if target.json {
        let text = match danger {
            None => json::explore(&world, &summary, timed_out, elapsed),
            Some(danger) => {
                let mut value = json::explore_value(&world, &summary, timed_out, elapsed);
                value["danger_windows"] = match danger {
                    Ok(map) => analysis::danger_json(&map),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                };
                serde_json::to_string_pretty(&value).expect("JSON values serialise")
            }
        };
        emit(&format!("{text}\n"));
    } else {
        emit(&json::explore_text(&world, &summary, timed_out, elapsed));
        match danger {
            Some(Ok(map)) => emit(&analysis::danger_text(&map, 12)),
            Some(Err(e)) => emit(&format!("danger windows: {e}\n")),
            None => {}
        }
    }
    Ok(ExitCode::from(Verdict::of(&summary, timed_out.then_some(Bound::Time)).exit_code()))
}

fn shrink(target: &Target, schedule: &str, invariant: Option<&str>) -> Result<ExitCode, Usage> {
    let (_, world) = load(target)?;
    let shrunk = analysis::shrink(&world, schedule, invariant, target.json).map_err(Usage)?;
    emit(&shrunk.report);
    Ok(if shrunk.unsafe_ { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let first = e.to_string();
            let line = first.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            eprintln!("smmu-sim: {line} (see smmu-sim --help)");
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let result = match &cli.command {
        Command::Scenarios { json } => {
            emit(&if *json { format!("{}\n", library::json()) } else { library::text() });
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { target, schedule, seed, round_robin } => {
            check(target, schedule.as_deref(), *seed, *round_robin)
        }
        Command::Explore { target, max_states, max_seconds, danger, reduce, no_symmetry } => {
            explore(target, *max_states, *max_seconds, *danger, Search { reduce: *reduce, symmetry: !*no_symmetry })
        }
        Command::Shrink { target, schedule, invariant } => shrink(target, schedule, invariant.as_deref()),
        Command::Export { target, schedule, format, base } => share::export(target, schedule.as_deref(), format, base),
        Command::Link { target, schedule, base } => share::link(target, schedule.as_deref(), base.as_deref()),
        Command::Import { link } => share::import(link),
        Command::Kunit { json, pinned } => {
            let era = if *pinned { smmu_sim::ste::kunit::Era::Pinned } else { smmu_sim::ste::kunit::Era::Kunit };
            let (report, all_ok) = kunit::report(era, *json);
            emit(&report);
            Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Patch { what } => patch::run(what),
        Command::FindFix { target, function, lock, max_states, top, lock_rule, rank_of } => {
            let opts =
                patch::FindOpts { max_states: *max_states, top: *top, lock_rule: *lock_rule, rank_of: rank_of.clone() };
            patch::find_fix(target, function, lock, &opts)
        }
    };
    result.unwrap_or_else(|Usage(msg)| {
        eprintln!("smmu-sim: {msg}");
        ExitCode::from(2)
    })
}
