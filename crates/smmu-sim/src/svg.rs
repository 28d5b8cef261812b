//! The timeline of a trace as a standalone SVG picture, for docs.

use crate::trace::Trace;
use crate::view;
use crate::world::World;
use std::fmt::Write as _;

const COL: usize = 26;
const ROW: usize = 56;
const LEFT: usize = 90;
const TOP: usize = 40;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Renders lanes as rows and steps as columns; violated steps are red, deferred ones amber.
pub fn render(world: &World, trace: &Trace) -> String {
    let blocks = view::blocks(world, trace);
    let lanes = view::lanes(world);
    let width = LEFT + COL * blocks.len().max(1) + 20;
    let height = TOP + ROW * lanes.len() + 30;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
    );
    let title = format!("{} · {} ({}) · {}", world.id, world.variant, &world.variant.commit()[..12], world.granularity);
    let _ = writeln!(out, r#"<text x="8" y="18" font-size="13">{}</text>"#, esc(&title));
    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + i * ROW;
        let _ = writeln!(out, r##"<text x="8" y="{}" fill="#333">{}</text>"##, y + ROW / 2, esc(&lane.name));
        let _ =
            writeln!(out, r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="#ddd"/>"##, y + ROW / 2, width - 10);
    }
    for b in &blocks {
        let x = LEFT + b.index * COL;
        let y = TOP + b.lane * ROW + 8;
        let fill = match (b.violations.iter().any(|v| *v != "lock"), b.waited.is_some()) {
            (true, _) => "#e5484d",
            (false, true) => "#f5a524",
            _ => "#5b8def",
        };
        let tip = format!("{} {}: {} [{}]", b.index, b.function, b.label, b.violations.join(" "));
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="{}" height="{}" rx="3" fill="{fill}"><title>{}</title></rect>"#,
            COL - 4,
            ROW - 16,
            esc(&tip)
        );
        let _ = writeln!(out, r#"<text x="{}" y="{}" fill="white" font-size="9">{}</text>"#, x + 3, y + 14, b.index);
    }
    let verdict = crate::trace::verdict(trace).lines().next().unwrap_or("").to_string();
    let _ = writeln!(out, r#"<text x="8" y="{}" font-size="12">{}</text>"#, height - 10, esc(&verdict));
    out.push_str("</svg>\n");
    out
}
