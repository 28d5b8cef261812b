//! The scenario editor's model: a draft scenario as JSON, edited one field at a time by its
//! path (`masters.1.domain`, the same paths [`smmu_sim::scenario::ScenarioError`] names), and
//! checked on every edit by the same loader and compiler the JSON import uses. An edit that
//! leaves the draft valid becomes the page's scenario; one that does not keeps the draft with
//! the message at the field at fault, and the page keeps the last valid scenario.

use serde_json::{json, Value};
use smmu_sim::scenario::ScenarioError;
use smmu_sim::{builtin, Granularity, Scenario, Variant};

/// The id an edited scenario takes, so that it is never mistaken for the built-in it started
/// from (whose expected verdicts and prose no longer apply).
pub const EDITED_ID: &str = "custom";

/// How a field's text becomes a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A name or other text.
    Text,
    /// Text whose empty value means "none" (`null`).
    OptText,
    /// A decimal number.
    Num,
    /// A decimal number or nothing (`null`).
    OptNum,
    /// An address: hexadecimal with `0x`, or decimal.
    Addr,
    /// A checkbox: `true` or `false`.
    Check,
    /// Page table mappings: `iova=pa` pairs, separated by commas or spaces.
    Map,
    /// DMA accesses: `ssid:iova` pairs, separated by commas or spaces.
    Accesses,
    /// Words separated by commas or spaces (a lane's SMMU fetches: `ste`).
    Words,
}

/// One edit of the draft.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Set the field at `path` from the text the user typed, read as `input`.
    Set {
        /// The field's dotted path.
        path: String,
        /// How to read the text.
        input: Input,
        /// What the user entered.
        text: String,
    },
    /// Append a new item of its kind to the list at `path` (`masters`, `threads.0.calls`);
    /// for calls, `kind` is the function (`attach_dev`).
    Add {
        /// The list's dotted path.
        path: String,
        /// For calls, the function to call; otherwise unused.
        kind: String,
    },
    /// Remove the item at `path` (`masters.1`).
    Remove {
        /// The item's dotted path.
        path: String,
    },
    /// Start over from an empty topology (`None`) or from a built-in scenario.
    Start(Option<String>),
}

/// The draft being edited, and why it is not the page's scenario, if it is not.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The scenario as JSON.
    pub value: Value,
    /// Why the draft does not compile, at its field.
    pub error: Option<ScenarioError>,
    /// Text typed into a field that could not be read (path, text): the field keeps showing
    /// it beside its message, so nothing typed is lost.
    pub typed: Option<(String, String)>,
}

impl Draft {
    /// A draft with its error, if any.
    pub fn new(value: Value, error: Option<ScenarioError>) -> Draft {
        Draft { value, error, typed: None }
    }

    /// What a field shows: the text typed into it if that could not be read, else its value.
    pub fn shown(&self, input: Input, path: &str) -> String {
        match &self.typed {
            Some((p, text)) if p == path => text.clone(),
            _ => show(input, get(&self.value, path)),
        }
    }
}

/// The calls the palette offers, as the JSON names them, with the C function each runs.
pub const CALLS: [(&str, &str); 9] = [
    ("attach_dev", "arm_smmu_attach_dev"),
    ("sva_set_dev_pasid", "arm_smmu_sva_set_dev_pasid"),
    ("sva_remove_dev_pasid", "arm_smmu_sva_remove_dev_pasid"),
    ("release_device", "arm_smmu_release_device"),
    ("domain_free", "arm_smmu_domain_free"),
    ("map", "iommu_map → arm_smmu_map_pages"),
    ("unmap", "iommu_unmap → arm_smmu_unmap_pages"),
    ("mm_invalidate", "arm_smmu_mm_arch_invalidate_secondary_tlbs"),
    ("mm_release", "arm_smmu_mm_release"),
];

/// A scenario with no objects at all.
pub fn empty() -> Value {
    json!({
        "format": smmu_sim::scenario::FORMAT, "id": EDITED_ID, "title": "A new scenario", "description": "",
        "variant": "pre", "granularity": "mail", "asid_bits": 8, "page_tables": [], "processes": [],
        "domains": [], "masters": [], "threads": [], "dma": []
    })
}

/// The draft of a scenario, to edit.
pub fn draft_of(s: &Scenario) -> Draft {
    Draft::new(serde_json::to_value(s).unwrap_or_else(|_| empty()), None)
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("/{}", path.replace('.', "/"))
    }
}

/// The value at a dotted path, if any.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(&pointer(path))
}

/// The names of the items of a top-level list (`masters`), to choose from.
pub fn names(v: &Value, list: &str) -> Vec<String> {
    let items = v.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    items.iter().filter_map(|i| i.get("name")?.as_str().map(String::from)).collect()
}

/// `prefix` followed by the first number that makes a name no item of `list` has (CPU
/// threads and DMA lanes share one namespace, so either list means both).
fn fresh(v: &Value, list: &str, prefix: &str) -> String {
    let lists: &[&str] = if matches!(list, "threads" | "dma") { &["threads", "dma"] } else { &[list] };
    let taken: Vec<String> = lists.iter().flat_map(|l| names(v, l)).collect();
    (0..).map(|n| format!("{prefix}{n}")).find(|n| !taken.contains(n)).unwrap_or_default()
}

fn first(v: &Value, list: &str) -> Value {
    names(v, list).into_iter().next().map_or(Value::Null, Value::String)
}

/// A new item for the list at `path`, filled from the objects that exist.
fn new_item(v: &Value, path: &str, kind: &str) -> Result<Value, String> {
    let free_asid = (1u64..).find(|a| {
        let used = v["processes"].as_array().into_iter().flatten().any(|p| p["cpu_asid"].as_u64() == Some(*a));
        !used
    });
    Ok(match path {
        "page_tables" => json!({ "name": fresh(v, "page_tables", "PT"), "map": [[0x1000, 0xa000]] }),
        "processes" => {
            json!({ "name": fresh(v, "processes", "P"), "cpu_asid": free_asid, "page_table": first(v, "page_tables") })
        }
        "domains" => {
            json!({ "name": fresh(v, "domains", "d"), "stage": "s1", "page_table": first(v, "page_tables"), "id": null })
        }
        "masters" => {
            json!({ "name": fresh(v, "masters", "M"), "domain": null, "sva": false, "ats": false, "ssids": 2 })
        }
        "threads" => json!({ "name": fresh(v, "threads", "CPU"), "calls": [] }),
        "dma" => json!({ "name": fresh(v, "dma", "DMA"), "master": first(v, "masters"), "accesses": [[0, 0x1000]] }),
        p if p.starts_with("threads.") && p.ends_with(".calls") => new_call(v, kind)?,
        p => return Err(format!("nothing can be added at {p}")),
    })
}

fn new_call(v: &Value, kind: &str) -> Result<Value, String> {
    let (m, d, p) = (first(v, "masters"), first(v, "domains"), first(v, "processes"));
    Ok(match kind {
        "attach_dev" => json!({ "fn": kind, "master": m, "domain": d }),
        "sva_set_dev_pasid" => json!({ "fn": kind, "master": m, "pasid": 1, "process": p }),
        "sva_remove_dev_pasid" => json!({ "fn": kind, "master": m, "pasid": 1 }),
        "release_device" => json!({ "fn": kind, "master": m }),
        "domain_free" => json!({ "fn": kind, "domain": d }),
        "map" => json!({ "fn": kind, "domain": d, "iova": 0x1000, "pa": 0xb000 }),
        "unmap" => json!({ "fn": kind, "domain": d, "iova": 0x1000 }),
        "mm_invalidate" => json!({ "fn": kind, "process": p, "va": 0x1000 }),
        "mm_release" => json!({ "fn": kind, "process": p }),
        k => return Err(format!("the model has no call {k}")),
    })
}

fn number(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("{} is not a number", smmu_sim::text::quote(t)))
}

fn pairs(text: &str, sep: char, what: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for item in text.split([',', ' ', '\n']).filter(|s| !s.is_empty()) {
        let Some((a, b)) = item.split_once(sep) else {
            return Err(format!("{} is not {what}", smmu_sim::text::quote(item)));
        };
        out.push(json!([number(a)?, number(b)?]));
    }
    Ok(Value::Array(out))
}

/// The JSON value of a field's text.
pub fn parse(input: Input, text: &str) -> Result<Value, String> {
    let t = text.trim();
    Ok(match input {
        Input::Text => json!(t),
        Input::OptText | Input::OptNum if t.is_empty() => Value::Null,
        Input::OptText => json!(t),
        Input::Num | Input::OptNum | Input::Addr => json!(number(t)?),
        Input::Check => json!(t == "true"),
        Input::Map => pairs(t, '=', "a mapping iova=pa")?,
        Input::Accesses => pairs(t, ':', "an access ssid:iova")?,
        Input::Words => Value::Array(t.split([',', ' ', '\n']).filter(|s| !s.is_empty()).map(|w| json!(w)).collect()),
    })
}

/// The text a field shows for its value.
pub fn show(input: Input, v: Option<&Value>) -> String {
    let hex = |n: &Value| n.as_u64().map_or_else(String::new, |n| format!("{n:#x}"));
    let list = |sep: &str, first_hex: bool| {
        let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let item = |p: &Value| {
            let a = if first_hex { hex(&p[0]) } else { p[0].to_string() };
            format!("{a}{sep}{}", hex(&p[1]))
        };
        items.iter().map(item).collect::<Vec<_>>().join(", ")
    };
    match (input, v) {
        (Input::Map, _) => list("=", true),
        (Input::Accesses, _) => list(":", false),
        (Input::Words, _) => {
            let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        (_, None | Some(Value::Null)) => String::new(),
        (Input::Addr, Some(n)) => hex(n),
        (_, Some(Value::String(s))) => s.clone(),
        (_, Some(other)) => other.to_string(),
    }
}

/// Applies an edit to a draft's JSON; the message says why it could not be made.
pub fn apply(value: &Value, edit: &Edit) -> Result<Value, ScenarioError> {
    let mut v = value.clone();
    match edit {
        Edit::Start(None) => return Ok(empty()),
        Edit::Start(Some(id)) => {
            let s = builtin::get(id).ok_or_else(|| ScenarioError::new(format!("no built-in scenario {id}")))?;
            return Ok(draft_of(&s).value);
        }
        Edit::Set { path, input, text } => {
            let new = parse(*input, text).map_err(|m| ScenarioError::new(m).or_at(|| path.clone()))?;
            // A rename onto a name another object has is refused by the loader, and renames no
            // reference; nor does renaming it away again, so renaming it back loses nothing.
            let unique = |l: &str| {
                let taken = names(&v, l);
                let old = get(&v, path).and_then(Value::as_str).unwrap_or_default();
                let count = |n: &str| taken.iter().filter(|x| *x == n).count();
                count(old) == 1 && new.as_str().is_some_and(|n| count(n) == 0)
            };
            let list = renamed_list(path).filter(|l| unique(l));
            let slot = slot_of(&mut v, path)?;
            let old = std::mem::replace(slot, new.clone());
            if let (Some(list), Value::String(old), Value::String(new)) = (list, old, new) {
                rename(&mut v, list, &old, &new);
            }
        }
        Edit::Add { path, kind } => {
            let item = new_item(&v, path, kind).map_err(|m| ScenarioError::new(m).or_at(|| path.clone()))?;
            v.pointer_mut(&pointer(path)).and_then(Value::as_array_mut).ok_or_else(|| missing(path))?.push(item);
        }
        Edit::Remove { path } => {
            let (list, ix) = path.rsplit_once('.').ok_or_else(|| missing(path))?;
            let ix: usize = ix.parse().map_err(|_| missing(path))?;
            let items = v.pointer_mut(&pointer(list)).and_then(Value::as_array_mut).ok_or_else(|| missing(path))?;
            if ix >= items.len() {
                return Err(missing(path));
            }
            items.remove(ix);
        }
    }
    Ok(v)
}

/// The list whose item's name `path` is (`masters.1.name` → `masters`), for the lists other
/// objects refer to by name.
fn renamed_list(path: &str) -> Option<&str> {
    let mut parts = path.split('.');
    let (list, ix, name) = (parts.next()?, parts.next()?, parts.next()?);
    let referred = ["page_tables", "processes", "domains", "masters"].contains(&list);
    (referred && ix.parse::<usize>().is_ok() && name == "name" && parts.next().is_none()).then_some(list)
}

/// Renames the references to an object of `list` from `old` to `new`, so that a rename keeps
/// every call, lane and object that named it.
fn rename(v: &mut Value, list: &str, old: &str, new: &str) {
    let (holders, key): (&[&str], &str) = match list {
        "page_tables" => (&["processes", "domains"], "page_table"),
        "processes" => (&["calls"], "process"),
        "domains" => (&["masters", "calls"], "domain"),
        _ => (&["calls", "dma"], "master"),
    };
    let mut objects: Vec<&mut Value> = Vec::new();
    let Some(o) = v.as_object_mut() else { return };
    for (k, items) in o.iter_mut() {
        let Some(items) = items.as_array_mut() else { continue };
        if k == "threads" && holders.contains(&"calls") {
            let calls = items.iter_mut().filter_map(|t| t.get_mut("calls")?.as_array_mut());
            objects.extend(calls.flatten());
        } else if holders.contains(&k.as_str()) {
            objects.extend(items.iter_mut());
        }
    }
    for field in objects.into_iter().filter_map(|o| o.get_mut(key)) {
        if field.as_str() == Some(old) {
            *field = Value::String(new.to_string());
        }
    }
}

/// The value at `path`; a field the draft leaves out because it has its default (`walk_only`,
/// `fetches`) is added to its object first.
fn slot_of<'a>(v: &'a mut Value, path: &str) -> Result<&'a mut Value, ScenarioError> {
    if v.pointer(&pointer(path)).is_none() {
        let (parent, key) = path.rsplit_once('.').ok_or_else(|| missing(path))?;
        let object = v.pointer_mut(&pointer(parent)).and_then(Value::as_object_mut).ok_or_else(|| missing(path))?;
        object.insert(key.to_string(), Value::Null);
    }
    v.pointer_mut(&pointer(path)).ok_or_else(|| missing(path))
}

fn missing(path: &str) -> ScenarioError {
    ScenarioError::new(format!("the draft has no field {path}"))
}

/// The scenario a draft describes, loaded as an import is and compiled for `variant` and
/// `granularity`: the same limits and messages. An edited scenario carries no expected
/// verdicts, the built-in's id or its default schedules (round-robin runs instead).
pub fn check(value: &Value, variant: Variant, granularity: Granularity) -> Result<Scenario, ScenarioError> {
    let mut v = value.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("expect");
        o.insert("schedules".into(), json!([]));
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() || builtin::get(id).is_some() {
            o.insert("id".into(), json!(EDITED_ID));
        }
    }
    let s = Scenario::from_json(&v.to_string())?;
    s.compile(variant, granularity)?;
    Ok(s)
}

/// An unfinished scenario saved as JSON text, read back: at most [`smmu_sim::limits::MAX_FILE`]
/// bytes of a JSON object; its error, if it still does not compile, is shown at its field.
pub fn restore(text: &str, variant: Variant, granularity: Granularity) -> Result<Draft, String> {
    let max = smmu_sim::limits::MAX_FILE;
    if text.len() > max {
        return Err(format!("it is larger than {} KiB (the limit)", max / 1024));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
    if !value.is_object() {
        return Err("it is not a scenario".into());
    }
    let error = check(&value, variant, granularity).err();
    Ok(Draft::new(value, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &Value, path: &str, input: Input, text: &str) -> Value {
        apply(v, &Edit::Set { path: path.into(), input, text: text.into() }).unwrap()
    }

    fn add(v: &Value, path: &str, kind: &str) -> Value {
        apply(v, &Edit::Add { path: path.into(), kind: kind.into() }).unwrap()
    }

    /// The scenario the page's E2E test builds by clicking: two masters, one SVA bind, one attach.
    fn from_scratch() -> Value {
        let mut v = empty();
        for list in ["page_tables", "page_tables", "processes", "domains", "domains", "masters", "masters"] {
            v = add(&v, list, "");
        }
        v = set(&v, "domains.0.id", Input::OptNum, "1");
        v = set(&v, "processes.0.cpu_asid", Input::Num, "1");
        v = set(&v, "masters.0.domain", Input::OptText, "d0");
        v = set(&v, "masters.1.sva", Input::Check, "true");
        v = add(&v, "threads", "");
        v = add(&v, "threads.0.calls", "attach_dev");
        v = set(&v, "threads.0.calls.0.domain", Input::Text, "d1");
        v = add(&v, "threads", "");
        v = add(&v, "threads.1.calls", "sva_set_dev_pasid");
        set(&v, "threads.1.calls.0.master", Input::Text, "M1")
    }

    #[test]
    fn a_scenario_built_from_scratch_compiles() {
        let s = check(&from_scratch(), Variant::Pre, Granularity::Mail).unwrap();
        assert_eq!(s.masters.len(), 2);
        assert_eq!(s.threads[0].name, "CPU0");
        assert_eq!(s.threads[1].name, "CPU1");
        assert_eq!(s.id, EDITED_ID);
    }

    #[test]
    fn the_palette_offers_every_call_as_the_loader_reads_it() {
        let v = from_scratch();
        let mut kinds = Vec::new();
        for (kind, _) in CALLS {
            let call: smmu_sim::scenario::Call = serde_json::from_value(new_call(&v, kind).unwrap()).unwrap();
            kinds.push(std::mem::discriminant(&call));
        }
        kinds.dedup();
        assert_eq!(kinds.len(), CALLS.len(), "one call of each kind");
        let all = add(&v, "threads", "");
        let all = CALLS.iter().fold(all, |v, (k, _)| add(&v, "threads.2.calls", k));
        assert_eq!(items_of(&all, "threads.2.calls"), CALLS.len());
    }

    fn items_of(v: &Value, path: &str) -> usize {
        get(v, path).and_then(Value::as_array).map_or(0, Vec::len)
    }

    #[test]
    fn an_empty_topology_asks_for_a_thread() {
        let e = check(&empty(), Variant::Pre, Granularity::Mail).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("threads"));
    }

    #[test]
    fn bad_text_is_refused_at_its_field() {
        let v = from_scratch();
        let e = apply(&v, &Edit::Set { path: "domains.0.id".into(), input: Input::OptNum, text: "one".into() });
        let e = e.unwrap_err();
        assert_eq!((e.field.as_deref(), e.message.as_str()), (Some("domains.0.id"), "'one' is not a number"));
        let typed = Draft { typed: Some(("domains.0.id".into(), "one".into())), ..Draft::new(v.clone(), Some(e)) };
        assert_eq!(typed.shown(Input::OptNum, "domains.0.id"), "one", "what was typed stays in its field");
        assert_eq!(typed.shown(Input::OptNum, "domains.1.id"), "");
        let e = apply(&v, &Edit::Set { path: "page_tables.0.map".into(), input: Input::Map, text: "0x1000".into() });
        assert_eq!(e.unwrap_err().message, "'0x1000' is not a mapping iova=pa");
    }

    #[test]
    fn fields_show_what_they_parse() {
        for (input, text) in [
            (Input::Map, "0x1000=0xa000, 0x2000=0xb000"),
            (Input::Accesses, "1:0x1000"),
            (Input::Addr, "0x1000"),
            (Input::Words, "ste, ste"),
        ] {
            assert_eq!(show(input, Some(&parse(input, text).unwrap())), text);
        }
        assert_eq!(parse(Input::OptNum, " ").unwrap(), Value::Null);
    }

    #[test]
    fn an_edited_built_in_loses_its_id_and_expectations() {
        let v = apply(&empty(), &Edit::Start(Some("seed-race".into()))).unwrap();
        let v = set(&v, "masters.0.ats", Input::Check, "true");
        let s = check(&v, Variant::Pre, Granularity::Mail).unwrap();
        assert_eq!((s.id.as_str(), s.expect.is_none(), s.schedules.is_empty()), (EDITED_ID, true, true));
        assert!(s.masters[0].ats);
    }

    /// A fetch lane is added to the seed race by typing `ste`; a word the loader does not know
    /// is its message at the field.
    #[test]
    fn a_lane_gets_smmu_fetches_from_a_typed_word() {
        let v = apply(&empty(), &Edit::Start(Some("seed-race".into()))).unwrap();
        let v = set(&v, "dma.0.fetches", Input::Words, "ste");
        let s = check(&v, Variant::Pre, Granularity::Source).unwrap();
        assert_eq!(s.dma[0].fetches, [smmu_sim::scenario::FetchSpec::Ste]);
        let bad = set(&v, "dma.0.fetches", Input::Words, "tlb");
        let e = check(&bad, Variant::Pre, Granularity::Source).unwrap_err();
        assert!(e.message.contains("unknown fetch 'tlb'"), "{}", e.message);
    }

    #[test]
    fn a_rename_keeps_every_reference() {
        let v = from_scratch();
        let v = set(&v, "masters.1.name", Input::Text, "B");
        let v = set(&v, "domains.1.name", Input::Text, "y");
        let v = set(&v, "page_tables.0.name", Input::Text, "PT_z");
        let v = set(&v, "processes.0.name", Input::Text, "P");
        let s = check(&v, Variant::Pre, Granularity::Mail).unwrap();
        let calls: Vec<String> = s.threads.iter().flat_map(|t| &t.calls).map(|c| format!("{c:?}")).collect();
        assert!(calls[0].contains("domain: \"y\""), "{calls:?}");
        assert!(calls[1].contains("master: \"B\"") && calls[1].contains("process: \"P\""), "{calls:?}");
        assert!(s.domains.iter().all(|d| d.page_table == "PT_z"));
        assert_eq!(s.masters[0].domain.as_deref(), Some("d0"), "other names stay");
        // A rename onto another object's name is the loader's error at that name.
        let clash = set(&v, "masters.1.name", Input::Text, "M0");
        let e = check(&clash, Variant::Pre, Granularity::Mail).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("masters.1.name"));
        let back = check(&set(&clash, "masters.1.name", Input::Text, "B"), Variant::Pre, Granularity::Mail).unwrap();
        assert_eq!(back, s, "renaming it back gives the scenario before the clash");
    }

    #[test]
    fn an_unfinished_scenario_is_restored_and_a_corrupt_one_refused() {
        let text = empty().to_string();
        let d = restore(&text, Variant::Pre, Granularity::Mail).unwrap();
        assert_eq!(d.error.and_then(|e| e.field).as_deref(), Some("threads"));
        for bad in ["{", "[1]", "\"x\""] {
            assert!(restore(bad, Variant::Pre, Granularity::Mail).is_err(), "{bad}");
        }
        let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(smmu_sim::limits::MAX_FILE));
        assert!(restore(&huge, Variant::Pre, Granularity::Mail).unwrap_err().contains("larger than"));
    }

    #[test]
    fn removing_a_referenced_object_is_an_error_at_the_reference() {
        let v = from_scratch();
        let v = apply(&v, &Edit::Remove { path: "domains.1".into() }).unwrap();
        let e = check(&v, Variant::Pre, Granularity::Mail).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("threads.0.calls.0.domain"), "{e}");
        assert!(apply(&v, &Edit::Remove { path: "domains.7".into() }).is_err());
    }
}
