//! `--patch` and `smmu-sim patch`: read, check and show patches of the step scripts.

use crate::{emit, Usage};
use smmu_sim::patch::{self, presets, LockName, Patch, MAX_PATCH_TEXT};
use smmu_sim::text::quote;
use smmu_sim::{builtin, Scenario, Variant};
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum PatchCmd {
    /// List the preset patches.
    Presets,
    /// Print a patch (a file or a preset id) with the diff of the scripts it changes.
    Show {
        /// A patch file or a preset id.
        patch: String,
        /// The scenario whose calls the diff shows.
        #[arg(long, default_value = "seed-race")]
        scenario: String,
    },
    /// List the steps of a function that edits can name, with their anchors.
    Steps {
        /// The kernel function, e.g. arm_smmu_attach_dev.
        function: String,
        /// The variant whose scripts to list.
        #[arg(long, default_value = "pre")]
        variant: String,
    },
}

/// Reads a patch from a preset id or a file of at most [`MAX_PATCH_TEXT`] bytes, and checks
/// it against the scripts of its base (over the built-ins and `scenario`).
pub(crate) fn read(arg: &str, scenario: Option<&Scenario>) -> Result<Patch, Usage> {
    let patch = match presets::get(arg) {
        Some(p) => p.patch(),
        None => {
            let text = read_text(arg)?;
            patch::parse(&text).map_err(|e| Usage(format!("{}: {e}", quote(arg))))?
        }
    };
    patch::check(&patch, scenario).map_err(|e| Usage(format!("{}: {e}", quote(arg))))?;
    Ok(patch)
}

fn read_text(path: &str) -> Result<String, Usage> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| {
        let ids: Vec<_> = presets::PRESETS.iter().map(|p| p.id).collect();
        Usage(format!("cannot read patch {}: {e} (presets: {})", quote(path), ids.join(", ")))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(MAX_PATCH_TEXT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_PATCH_TEXT {
        return Err(Usage(format!("{}: larger than {MAX_PATCH_TEXT} bytes (the limit for a patch)", quote(path))));
    }
    String::from_utf8(bytes).map_err(|_| Usage(format!("{}: not UTF-8 text", quote(path))))
}

pub(crate) fn run(cmd: &PatchCmd) -> Result<ExitCode, Usage> {
    match cmd {
        PatchCmd::Presets => {
            for p in presets::PRESETS {
                emit(&format!("{:<20} {:<5} {}\n", p.id, p.base.name(), p.title));
            }
        }
        PatchCmd::Show { patch, scenario } => {
            let s = builtin::get(scenario).ok_or_else(|| Usage(format!("unknown scenario {}", quote(scenario))))?;
            let p = read(patch, Some(&s))?;
            emit(&patch::print(&p, Some(&s)));
        }
        PatchCmd::Steps { function, variant } => {
            let v: Variant = variant.parse().map_err(Usage)?;
            let cat = patch::catalogue(v, None);
            let steps = cat.functions.get(function.as_str()).ok_or_else(|| {
                let names: Vec<_> = cat.functions.keys().copied().collect();
                Usage(format!("{} is not a function of {v} (functions: {})", quote(function), names.join(", ")))
            })?;
            for s in steps {
                emit(&format!("{:<36} {}\n", s.anchor.to_string(), s.label));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Shards a search over the machine's cores (at most [`MAX_SEARCH_THREADS`]) and runs them
/// side by side; the result is the whole search's, whatever the number of cores.
fn search_on_every_core(finder: smmu_sim::patch::find::Finder) -> smmu_sim::patch::find::Merged {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_SEARCH_THREADS);
    let shards: Vec<_> = (0..n).map(|k| finder.clone().shard(k, n)).collect();
    let done: Vec<_> = std::thread::scope(|s| {
        let running: Vec<_> = shards
            .into_iter()
            .map(|mut f| {
                s.spawn(move || {
                    while !f.step(256).done {}
                    f
                })
            })
            .collect();
        running.into_iter().map(|h| h.join().expect("a search thread does not panic")).collect()
    });
    smmu_sim::patch::find::merged(&done)
}

/// Most threads one find-fix search runs on.
const MAX_SEARCH_THREADS: usize = 8;

/// What `find-fix` reports beyond the search itself.
pub(crate) struct FindOpts {
    pub max_states: u64,
    pub top: usize,
    pub lock_rule: bool,
    pub rank_of: Option<String>,
}

/// `smmu-sim find-fix`: the clean patches of one critical section (and at most one move) of
/// `function`, ranked; the ones printed are each re-checked by a full exhaustive run.
pub(crate) fn find_fix(
    target: &crate::Target,
    function: &str,
    locks: &[String],
    o: &FindOpts,
) -> Result<ExitCode, Usage> {
    use smmu_sim::patch::find::{self, Finder};
    let (scenario, world) = crate::load(target)?;
    let locks: Vec<LockName> = locks.iter().map(|l| l.parse().map_err(Usage)).collect::<Result<_, _>>()?;
    let wanted = o.rank_of.as_deref().map(|p| read(p, Some(&scenario))).transpose()?;
    let finder =
        Finder::new(&scenario, world.variant, world.granularity, function, &locks, o.max_states).map_err(Usage)?;
    let start = std::time::Instant::now();
    let result = search_on_every_core(finder);
    let (progress, elapsed) = (result.progress, start.elapsed());
    let found: Vec<_> = result.found.into_iter().filter(|f| f.keeps_lock_rule || !o.lock_rule).collect();
    let rank = wanted.as_ref().and_then(|w| found.iter().position(|f| f.patch == *w)).map(|i| i + 1);
    let mut rows = Vec::new();
    for (i, f) in found.iter().take(o.top).enumerate() {
        let (verified, n) = match find::verify(&scenario, &f.patch, world.granularity, 5_000_000).map_err(Usage)? {
            find::Rechecked::Clean { interleavings } => (true, interleavings),
            find::Rechecked::Violated | find::Rechecked::Incomplete => (false, 0),
        };
        rows.push((i + 1, f, verified, n));
    }
    let head = format!(
        "{} candidates for {function} on {} ({}, {}): {} clean{}, {} undecided at the state bound, {} the script cannot express, {} verdicts taken from other candidates; {:.2} s",
        progress.total,
        scenario.id,
        world.variant,
        world.granularity,
        found.len(),
        if o.lock_rule { " keeping the lock rule" } else { "" },
        progress.undecided,
        progress.refused,
        progress.inferred,
        elapsed.as_secs_f64()
    );
    let rank_line = wanted.as_ref().map(|_| match rank {
        Some(r) => format!("the given patch ranks #{r} of {}", found.len()),
        None => "the given patch is not among the clean candidates".to_string(),
    });
    if target.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(rank, f, verified, n)| {
                serde_json::json!({
                    "rank": rank, "edits": f.size, "held": f.held, "index": f.index,
                    "keeps_lock_rule": f.keeps_lock_rule, "verified": verified, "interleavings": n.to_string(),
                    "patch": f.patch.edits.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let v = serde_json::json!({
            "scenario": scenario.id, "variant": world.variant.name(), "function": function,
            "candidates": progress.total, "undecided": progress.undecided, "refused": progress.refused,
            "inferred": progress.inferred, "clean": found.len(),
            "rank_of_given": rank, "elapsed_ms": elapsed.as_millis() as u64, "found": rows,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&v).expect("JSON values serialise")));
    } else {
        emit(&format!("{head}\n"));
        if let Some(line) = &rank_line {
            emit(&format!("{line}\n"));
        }
        if let Some(p) = &result.first_undecided {
            let edits: Vec<String> = p.edits.iter().map(|e| e.to_string()).collect();
            emit(&format!("first undecided candidate: {}\n", edits.join("; ")));
        }
        for (rank, f, verified, n) in &rows {
            let check = if *verified {
                format!("re-checked clean over {n} interleavings")
            } else {
                "NOT clean on re-check".into()
            };
            let rule = if f.keeps_lock_rule { "keeps" } else { "breaks" };
            emit(&format!(
                "#{rank}: {} edit(s), the section holds {} step(s), {rule} the lock rule; {check}\n",
                f.size, f.held
            ));
            for e in &f.patch.edits {
                emit(&format!("    {e}\n"));
            }
        }
    }
    let all_verified = rows.iter().all(|r| r.2);
    Ok(if found.is_empty() || !all_verified { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
