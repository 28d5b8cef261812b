//! `--patch` and `smmu-sim patch`: read, check and show patches of the step scripts.

use crate::{emit, Usage};
use smmu_sim::patch::{self, presets, Patch, MAX_PATCH_TEXT};
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
