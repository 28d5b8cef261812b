//! `export`, `link` and `import`: a scenario as mail text, JSON, SVG or a permalink, and back.

use crate::{emit, load, Target, Usage};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link};
use smmu_sim::{mail, svg, trace::Trace, World};
use std::process::ExitCode;

/// Where the served playground lives, for `Link:` lines.
pub const DEFAULT_BASE: &str = "http://127.0.0.1:8080/";

fn run(target: &Target, schedule: Option<&str>) -> Result<(smmu_sim::Scenario, World, Trace), Usage> {
    let (scenario, world) = load(target)?;
    let text = match schedule {
        Some(s) => s.to_string(),
        None => scenario.default_schedule(world.variant, world.granularity).unwrap_or("").to_string(),
    };
    let schedule = Schedule::parse(&text, &world).map_err(|e| Usage(e.to_string()))?;
    let trace = sched::run(&world, &schedule).map_err(|e| Usage(e.to_string()))?;
    Ok((scenario, world, trace))
}

fn url(base: &str, scenario: &smmu_sim::Scenario, world: &World, trace: &Trace) -> Result<String, Usage> {
    let link = Link {
        scenario: scenario.clone(),
        variant: world.variant,
        granularity: world.granularity,
        schedule: trace.schedule(),
        cursor: None,
    };
    let code = share::encode(&link).map_err(|e| Usage(format!("cannot make a link: {e}")))?;
    Ok(format!("{base}#{code}"))
}

/// `smmu-sim export`.
pub fn export(target: &Target, schedule: Option<&str>, format: &str, base: &str) -> Result<ExitCode, Usage> {
    let (scenario, world, trace) = run(target, schedule)?;
    match format {
        "text" => {
            emit(&mail::render(&world, &trace, Some(&url(base, &scenario, &world, &trace)?)));
            if let Some(p) = scenario.patch.as_ref().filter(|p| p.base == world.variant) {
                emit(&format!("\n{}", smmu_sim::patch::print(p, Some(&scenario))));
            }
        }
        "json" => emit(&format!("{}\n", scenario.with_schedule(&world, &trace.schedule()).to_json())),
        "svg" => emit(&svg::render(&world, &trace)),
        other => return Err(Usage(format!("unknown format '{other}' (expected text, json or svg)"))),
    }
    Ok(if trace.safety_violations().next().is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `smmu-sim link`.
pub fn link(target: &Target, schedule: Option<&str>, base: Option<&str>) -> Result<ExitCode, Usage> {
    let (scenario, world, trace) = run(target, schedule)?;
    let full = url(base.unwrap_or(""), &scenario, &world, &trace)?;
    emit(&format!("{}\n", if base.is_some() { full.as_str() } else { full.trim_start_matches('#') }));
    Ok(ExitCode::SUCCESS)
}

/// `smmu-sim import`.
pub fn import(text: &str) -> Result<ExitCode, Usage> {
    let link = share::decode(text).map_err(|e| Usage(e.to_string()))?;
    let world = link
        .scenario
        .compile(link.variant, link.granularity)
        .map_err(|e| Usage(format!("the link's scenario: {e}")))?;
    let s = link.scenario.with_schedule(&world, &link.schedule);
    emit(&format!("{}\n", s.to_json()));
    Ok(ExitCode::SUCCESS)
}
