//! The header: scenario, kernel variant, granularity and the fix switch.

use smmu_sim::{builtin, Granularity, Variant};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;
use crate::theme::{self, Theme};

/// The commit the fix switch stands for.
pub const FIX_COMMIT: &str = "9f7c68911579";

/// Page header with the controls that pick what is simulated.
#[component]
pub fn Header() -> Html {
    let app = use_app();
    // `selected` on an option no longer moves a select the user has changed, so the selects
    // follow the state (an import, a link) through their value.
    let scenario_sel = use_node_ref();
    let granularity_sel = use_node_ref();
    {
        let (a, b) = (scenario_sel.clone(), granularity_sel.clone());
        use_effect_with((app.scenario.id.clone(), app.granularity), move |(id, g)| {
            if let Some(s) = a.cast::<HtmlSelectElement>() {
                s.set_value(id);
            }
            if let Some(s) = b.cast::<HtmlSelectElement>() {
                s.set_value(g.name());
            }
        });
    }
    let on_scenario = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            app.dispatch(Action::Scenario(select.value()));
        })
    };
    let on_granularity = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(g) = select.value().parse::<Granularity>() {
                app.dispatch(Action::Granularity(g));
            }
        })
    };
    let variants = Variant::ALL.iter().map(|&v| {
        let checked = app.variant == v;
        let onclick = {
            let app = app.clone();
            Callback::from(move |_| app.dispatch(Action::Variant(v)))
        };
        let onkeydown = radio_keys(&app, v);
        html! {
            <button type="button" role="radio" aria-checked={checked.to_string()} id={format!("variant-{}", v.name())}
                tabindex={if checked { "0" } else { "-1" }}
                class={classes!("seg", checked.then_some("on"))} title={v.title()} {onclick} {onkeydown}>
                { v.name() }
            </button>
        }
    });
    let groups = use_memo((), |_| picker_groups());
    // A scenario that came in a link and is no built-in.
    let custom = !groups.iter().any(|(_, ids)| ids.contains(&app.scenario.id));
    let option = |id: &String| {
        html! {
            <option value={id.clone()} selected={*id == app.scenario.id}>{ id }</option>
        }
    };
    html! {
        <header class="top">
            <div class="brand">
                <h1>{ "smmu-playground" }</h1>
                <span class="sub">{ "arm-smmu-v3 ASID races, step by step" }</span>
                <a class="gallery-link" id="gallery-link" href={format!("#{}", crate::route::GALLERY)}>
                    { "Gallery of every scenario" }
                </a>
            </div>
            <ThemeToggle />
            <div class="controls">
                <label class="ctl">
                    <span>{ "scenario" }</span>
                    <select id="scenario" ref={scenario_sel} onchange={on_scenario}
                        aria-describedby="scenario-desc scenario-expect">
                        { for groups.iter().map(|(group, ids)| html! {
                            <optgroup label={group.clone()}>{ for ids.iter().map(option) }</optgroup>
                        }) }
                        if custom {
                            <optgroup label="From a link">{ option(&app.scenario.id) }</optgroup>
                        }
                    </select>
                </label>
                <div class="ctl">
                    <span id="variant-label">{ "kernel" }</span>
                    <div class="segs" role="radiogroup" aria-labelledby="variant-label">{ for variants }</div>
                </div>
                <label class="ctl" title={app.granularity.title()}>
                    <span>{ "granularity" }</span>
                    <select id="granularity" ref={granularity_sel} onchange={on_granularity}
                        aria-describedby="granularity-note">
                        { for Granularity::ALL.iter().map(|g| html! {
                            <option value={g.name()} title={g.title()} selected={*g == app.granularity}>{ g.name() }</option>
                        }) }
                    </select>
                    <span class="sr-only" id="granularity-note">
                        { "What folds into one step. " }{ app.granularity.title() }
                    </span>
                </label>
                <FixSwitch />
            </div>
        </header>
    }
}

/// The built-ins' ids by group, in the library's order: the scenario picker's optgroups.
fn picker_groups() -> Vec<(String, Vec<String>)> {
    builtin::grouped().into_iter().map(|(g, list)| (g, list.into_iter().map(|s| s.id).collect())).collect()
}

/// The colour theme: auto (the system's), light or dark; the choice is stored.
#[component]
fn ThemeToggle() -> Html {
    let current = use_state(theme::shown);
    let choose = {
        let current = current.clone();
        move |t: Theme| {
            theme::apply(t);
            theme::save(t);
            current.set(t);
        }
    };
    let options = Theme::ALL.iter().enumerate().map(|(at, &t)| {
        let checked = *current == t;
        let onclick = {
            let choose = choose.clone();
            Callback::from(move |_| choose(t))
        };
        // Arrows move the choice and the focus, as in the kernel group.
        let onkeydown = {
            let choose = choose.clone();
            Callback::from(move |e: KeyboardEvent| {
                let Some(next) = arrow_choice(&e.key(), at, Theme::ALL.len()).map(|i| Theme::ALL[i]) else { return };
                e.prevent_default();
                e.stop_propagation();
                choose(next);
                crate::hooks::focus(&format!("theme-{}", next.label()));
            })
        };
        html! {
            <button type="button" role="radio" aria-checked={checked.to_string()} id={format!("theme-{}", t.label())}
                tabindex={if checked { "0" } else { "-1" }}
                class={classes!("seg", checked.then_some("on"))} title={t.title()} {onclick} {onkeydown}>
                { t.label() }
            </button>
        }
    });
    html! {
        <div class="segs theme" id="theme" role="radiogroup" aria-label="colour theme">{ for options }</div>
    }
}

/// The fix toggle: a switch that flips between `pre` and `fix`.
#[component]
pub fn FixSwitch() -> Html {
    let app = use_app();
    let on = app.fix_on();
    let v69 = app.variant == Variant::V69;
    let onclick = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::ToggleFix))
    };
    let note = if v69 {
        "v6.9 (327e10b47ae9) includes this fix; pick pre or fix to toggle it".to_string()
    } else if on {
        format!("on: the {} kernel ({FIX_COMMIT})", Variant::Fix.name())
    } else {
        "off: the parent commit 71b0aa10b18d".to_string()
    };
    html! {
        <div class="fix">
            <button type="button" id="fix-switch" role="switch" aria-checked={on.to_string()}
                aria-disabled={v69.to_string()} aria-describedby="fix-note"
                class={classes!("switch", on.then_some("on"))} {onclick}>
                <span class="knob" aria-hidden="true"></span>
                <span class="switch-label">
                    { "Hold " }<code>{ "arm_smmu_asid_lock" }</code>{ " during all of " }<code>{ "attach_dev" }</code>
                </span>
            </button>
            <span class="fix-note" id="fix-note">
                <a href={format!("https://git.kernel.org/torvalds/c/{FIX_COMMIT}")} target="_blank" rel="noopener">
                    { "commit " }{ FIX_COMMIT }
                </a>
                { " · " }{ note }
            </span>
        </div>
    }
}

/// Arrow keys in the kernel radio group: the previous or next kernel, selected and focused
/// (one tab stop for the group, as radio groups have).
fn radio_keys(app: &crate::AppContext, v: Variant) -> Callback<KeyboardEvent> {
    let app = app.clone();
    Callback::from(move |e: KeyboardEvent| {
        let all = Variant::ALL;
        let at = all.iter().position(|x| *x == v).unwrap_or(0);
        let Some(next) = arrow_choice(&e.key(), at, all.len()).map(|i| all[i]) else { return };
        e.prevent_default();
        e.stop_propagation();
        app.dispatch(Action::Variant(next));
        crate::hooks::focus(&format!("variant-{}", next.name()));
    })
}

/// The choice an arrow key moves a radio group of `n` to from `at`: Right or Down the
/// next, Left or Up the previous, wrapping around.
fn arrow_choice(key: &str, at: usize, n: usize) -> Option<usize> {
    match key {
        "ArrowRight" | "ArrowDown" => Some((at + 1) % n),
        "ArrowLeft" | "ArrowUp" => Some((at + n - 1) % n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{arrow_choice, picker_groups};

    #[test]
    fn the_picker_lists_every_built_in_once_under_its_group() {
        let groups = picker_groups();
        let ids: Vec<&str> = groups.iter().flat_map(|(_, ids)| ids.iter().map(String::as_str)).collect();
        let mut want: Vec<&str> = smmu_sim::builtin::ids().collect();
        let mut got = ids.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(groups[0].0, "The seed race");
        assert!(groups.iter().any(|(g, ids)| g == "Mutations" && ids.iter().any(|i| i == "stale-cd-reuse")));
    }

    #[test]
    fn arrows_move_a_radio_choice_and_wrap() {
        assert_eq!(arrow_choice("ArrowRight", 0, 3), Some(1));
        assert_eq!(arrow_choice("ArrowDown", 2, 3), Some(0));
        assert_eq!(arrow_choice("ArrowLeft", 0, 3), Some(2));
        assert_eq!(arrow_choice("ArrowUp", 1, 3), Some(0));
        assert_eq!(arrow_choice("Enter", 1, 3), None);
    }
}
