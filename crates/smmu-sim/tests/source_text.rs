//! Every step's displayed source lines hold its statement.
//!
//! The lines are those of `Src::lines()`, which the trace's `file:L` references and links use.
//! `vectors/source-text.txt` holds the kernel text of every line some step displays (built-ins
//! and a scenario that calls every modelled function, all variants, both granularities). Each
//! `Op` names the text its lines must contain, so a step whose reference points one line off
//! fails here, and a new `Op` does not compile until it names its text.

use smmu_sim::program::{CdSrc, Kind, LockArg, Op};
use smmu_sim::source::{File, Src};
use smmu_sim::{builtin, Granularity, Scenario, Variant};
use std::collections::{BTreeMap, BTreeSet};

/// Calls every modelled kernel function, with domains of every stage.
const EVERY_CALL: &str = r#"{
  "format": 1, "id": "every-call", "title": "every call", "variant": "pre", "granularity": "mail",
  "page_tables": [
    { "name": "PT_a", "map": [[4096, 40960]] }, { "name": "PT_b", "map": [[4096, 45056]] },
    { "name": "PT_c", "map": [[4096, 49152]] }, { "name": "PT_P", "map": [[4096, 53248]] }
  ],
  "processes": [{ "name": "P", "cpu_asid": 1, "page_table": "PT_P" }],
  "domains": [
    { "name": "s1", "stage": "s1", "page_table": "PT_a", "id": 1 },
    { "name": "t1", "stage": "s1", "page_table": "PT_b" },
    { "name": "s2", "stage": "s2", "page_table": "PT_c" },
    { "name": "id", "stage": "bypass", "page_table": "PT_c" }
  ],
  "masters": [{ "name": "A", "domain": "s1", "ats": true }, { "name": "B", "domain": "s1", "sva": true }],
  "threads": [
    { "name": "CPU0", "calls": [
      { "fn": "attach_dev", "master": "A", "domain": "t1" },
      { "fn": "attach_dev", "master": "A", "domain": "s2" },
      { "fn": "attach_dev", "master": "A", "domain": "id" },
      { "fn": "release_device", "master": "A" } ] },
    { "name": "CPU1", "calls": [
      { "fn": "sva_set_dev_pasid", "master": "B", "pasid": 1, "process": "P" },
      { "fn": "mm_invalidate", "process": "P", "va": 4096 },
      { "fn": "mm_release", "process": "P" },
      { "fn": "sva_remove_dev_pasid", "master": "B", "pasid": 1 } ] },
    { "name": "CPU2", "calls": [
      { "fn": "map", "domain": "s1", "iova": 8192, "pa": 57344 },
      { "fn": "unmap", "domain": "s1", "iova": 4096 },
      { "fn": "map", "domain": "s2", "iova": 8192, "pa": 61440 },
      { "fn": "unmap", "domain": "s2", "iova": 4096 },
      { "fn": "domain_free", "domain": "s1" }, { "fn": "domain_free", "domain": "s2" },
      { "fn": "domain_free", "domain": "id" } ] }
  ]
}"#;

/// The commit a file's text is read at for a variant (sva.c as `source/lines.rs` reads it).
fn commit(v: Variant, f: File) -> &'static str {
    match (f, v) {
        (File::Sva, Variant::V69) => "ae91f6552c301e5e8569667e9d5440d5f75a90c4",
        (File::Sva, _) => "b5bf7778b722105d7a04b1d51e884497b542638b",
        _ => v.commit(),
    }
}

/// The text a step's lines must contain (any one of them), by what the step does: the
/// statement itself, or the call that issues it.
fn tokens(op: Op, label: &str) -> &'static [&'static str] {
    match op {
        Op::Lock(LockArg::Asid) => &["mutex_lock(&arm_smmu_asid_lock)"],
        Op::Unlock(LockArg::Asid) => &["mutex_unlock(&arm_smmu_asid_lock)"],
        Op::Lock(LockArg::Sva) => &["mutex_lock(&sva_lock)", "arm_smmu_master_sva_enabled(master)"],
        Op::Unlock(LockArg::Sva) => &["mutex_unlock(&sva_lock)", "arm_smmu_master_sva_enabled(master)"],
        Op::Lock(LockArg::Init(_)) => &["mutex_lock(&smmu_domain->init_mutex)"],
        Op::Unlock(LockArg::Init(_)) => &["mutex_unlock(&smmu_domain->init_mutex)"],
        // The core's mutex (iommu.c) shows no lines; the model keeps none for that file.
        Op::Lock(LockArg::Group(_)) => &["mutex_lock(&group->mutex)"],
        Op::Unlock(LockArg::Group(_)) => &["mutex_unlock(&group->mutex)"],
        Op::Lock(LockArg::Devices(_)) => &["spin_lock_irqsave(&smmu_domain->devices_lock"],
        Op::Unlock(LockArg::Devices(_)) => &["spin_unlock_irqrestore(&smmu_domain->devices_lock"],
        Op::ReadOldDomain(_) => &["= master->domain;", "iommu_get_domain_for_dev(master->dev)"],
        Op::SetDomain(_, Some(_)) => &["master->domain = smmu_domain;"],
        Op::SetDomain(_, None) => &["master->domain = NULL;"],
        Op::AtsOff(_) => &["arm_smmu_disable_ats(master"],
        Op::AtsOn(_) => &["arm_smmu_enable_ats(master"],
        Op::AtsSupported(_) => &["master->ats_enabled = arm_smmu_ats_supported(master);"],
        Op::ListDel(..) => &["list_del(&master->domain_head)", "list_del_init(&master->domain_head)"],
        Op::ListAdd(..) => &["list_add(&master->domain_head, &smmu_domain->devices)"],
        Op::CdtabAlloc(_) => &["arm_smmu_alloc_cd_tables(master)"],
        Op::XaAllocDomain(_) => &["xa_alloc(&arm_smmu_asid_xa, &asid, cd,"],
        Op::VmidAlloc(_) => &["ida_alloc_range(&smmu->vmid_map"],
        Op::MarkFinalised(_) => &["ARM_SMMU_DOMAIN_BYPASS"],
        Op::CdWrite(..) => &["WRITE_ONCE(cdptr[0], cpu_to_le64(val));"],
        Op::CdStoreTtb(..) => &["cdptr[1] = cpu_to_le64(cd->ttbr"],
        Op::CdStoreQ0(_, _, CdSrc::Clear) => &["val = 0;"],
        Op::CdStoreQ0(_, _, CdSrc::Quiet) => &["val |= CTXDESC_CD_0_TCR_EPD0;"],
        Op::CdStoreQ0(..) if label.ends_with("(live)") => &["val |= FIELD_PREP(CTXDESC_CD_0_ASID, cd->asid);"],
        Op::CdStoreQ0(..) => &["WRITE_ONCE(cdptr[0], cpu_to_le64(val));"],
        Op::CfgiCd(..) => &["arm_smmu_sync_cd(master, ssid, true);"],
        Op::SteInstall(..) => {
            &["arm_smmu_write_strtab_ent(master, sid, step);", "arm_smmu_write_ste(master, sid, step"]
        }
        Op::SteBegin(..) => &["arm_smmu_entry_qword_diff(entry, target, &unused_update)"],
        // The qword stores and the CFGI_STE after each are both done by entry_set().
        Op::SteStore(..) | Op::CfgiSte(_) | Op::SteNextPhase => &["entry_set(smmu, sid, entry,"],
        Op::TlbiAsid(..) => &["arm_smmu_tlb_inv_asid(", "free_io_pgtable_ops("],
        Op::TlbiVmid(_) => &["free_io_pgtable_ops("],
        Op::ContextGet(_) => &["asid = arm64_mm_context_get(mm);"],
        Op::ContextPut(_) => &["arm64_mm_context_put(mm);"],
        Op::ContextPutCtx => &["arm64_mm_context_put(cd->mm);"],
        Op::CtxAlloc => &["cd = kzalloc(sizeof(*cd), GFP_KERNEL);"],
        Op::XaLoad => &["cd = xa_load(&arm_smmu_asid_xa, asid);"],
        Op::CtxShareExisting => &["refcount_inc(&cd->refs);"],
        Op::XaAllocMove => &["xa_alloc(&arm_smmu_asid_xa, &new_asid, cd,"],
        Op::ShareFailed => &["return ERR_PTR(-ENOSPC);"],
        Op::SetFoundAsid => &["cd->asid = new_asid;"],
        Op::XaEraseOld => &["xa_erase(&arm_smmu_asid_xa, asid);"],
        Op::XaInsertCtx => &["xa_insert(&arm_smmu_asid_xa, asid, cd, GFP_KERNEL);"],
        Op::CtxFill(_) => &["cd->ttbr = virt_to_phys(mm->pgd);"],
        Op::NotifierFind(..) => &["list_for_each_entry(smmu_mn, &smmu_domain->mmu_notifiers, list)"],
        Op::NotifierRef => &["refcount_inc(&smmu_mn->refs);"],
        Op::NotifierAdd(..) => &["list_add(&smmu_mn->list, &smmu_domain->mmu_notifiers);"],
        Op::BondAdd(..) => &["list_add(&bond->list, &master->bonds);"],
        Op::BondDel(..) => &["list_del(&bond->list);"],
        Op::NotifierPut => &["refcount_dec_and_test(&smmu_mn->refs)"],
        Op::FreeCtx => &["arm_smmu_free_asid(cd)"],
        Op::FreeDomainAsid(_) => &["xa_erase(&arm_smmu_asid_xa, cd->asid);"],
        Op::VmidFree(_) => &["ida_free(&smmu->vmid_map, cfg->vmid);"],
        Op::MarkFreed(_) => &["kfree(smmu_domain);"],
        Op::Release(_) => &["arm_smmu_free_cd_tables(master);"],
        Op::CursorNext | Op::CursorReset => &["list_for_each_entry(master, &smmu_domain->devices, domain_head)"],
        Op::PteSet(..) => &["ops->map_pages("],
        // The CPU's own PTE clear (the mm core) shows no lines; the model keeps none for it.
        Op::PteClear(..) => &["ops->unmap_pages("],
        Op::TlbiVa(..) => &["cmd.tlbi.asid\t= smmu_domain->cd.asid;", "arm_smmu_tlb_inv_range_asid("],
        Op::TlbiIpa(..) => &["cmd.tlbi.vmid\t= smmu_domain->s2_cfg.vmid;"],
        Op::SetCleared => &["smmu_mn->cleared = true;"],
        Op::NotifierFree => &["mmu_notifier_put(&smmu_mn->mn);"],
        // Silent steps show no lines of their own; these name the code they stand for.
        Op::UnmapDone => &["arm_smmu_iotlb_sync("],
        Op::NotifierWalk | Op::NotifierAt(_) => &["hlist_for_each_entry_rcu(subscription"],
        // A device's transaction or walk is not driver code and shows no lines.
        Op::Dma(..) | Op::Walk(..) | Op::FetchSte(_) | Op::FetchCd(..) => &[],
    }
}

/// (file name, commit) → line number → text.
type Text = BTreeMap<(String, String), BTreeMap<u32, String>>;

fn text() -> Text {
    let mut out = Text::new();
    let mut section = None;
    for line in include_str!("vectors/source-text.txt").lines().filter(|l| !l.starts_with('#')) {
        if let Some(head) = line.strip_prefix("== ") {
            let (file, commit) = head.split_once(' ').expect("== <file> <commit>");
            section = Some((file.to_string(), commit.to_string()));
            continue;
        }
        let (n, t) = line.split_once('\t').unwrap_or((line, ""));
        let key = section.clone().expect("a line before any section");
        let n: u32 = n.parse().unwrap_or_else(|_| panic!("bad line number in {line:?}"));
        assert!(out.entry(key).or_default().insert(n, t.to_string()).is_none(), "line {n} twice");
    }
    out
}

/// A step that shows source lines: where, and what it does.
struct Shown {
    src: Src,
    lines: (u32, u32),
    op: Op,
    label: String,
}

fn key(src: &Src) -> (String, String) {
    (src.file.name().to_string(), commit(src.variant, src.file).to_string())
}

/// Every visible instruction of every built-in and of [`EVERY_CALL`], as the trace shows it.
fn shown() -> Vec<Shown> {
    let mut scenarios = builtin::all();
    scenarios.push(Scenario::from_json(EVERY_CALL).expect("parses"));
    let mut out = Vec::new();
    for s in &scenarios {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let w = s.compile(v, g).expect("compiles");
                for i in w.programs.iter().flat_map(|p| &p.instrs).filter(|i| i.visible) {
                    let Kind::Op(op) = i.kind else { panic!("a visible jump: {}", i.label) };
                    if i.src.file == File::Device {
                        assert!(
                            matches!(op, Op::Dma(..) | Op::Walk(..) | Op::FetchSte(_) | Op::FetchCd(..))
                                && i.src.lines().is_none(),
                            "{}",
                            i.label
                        );
                        continue;
                    }
                    if i.src.file == File::Mm {
                        // The CPU's PTE clear, or a thread's first (always visible) instruction.
                        let cpu = matches!(op, Op::PteClear(..) | Op::NotifierWalk);
                        assert!(cpu && i.src.lines().is_none(), "{}", i.label);
                        continue;
                    }
                    if i.src.file == File::Core {
                        let group = matches!(op, Op::Lock(LockArg::Group(_)) | Op::Unlock(LockArg::Group(_)));
                        assert!(group && i.src.lines().is_none(), "{}", i.label);
                        continue;
                    }
                    let lines = i.src.lines().unwrap_or_else(|| panic!("{v}: no lines for {}", i.label));
                    out.push(Shown { src: i.src, lines, op, label: i.label.clone() });
                }
            }
        }
    }
    out
}

/// The text of lines `a..=b`, or which line has none.
fn range_text(text: &Text, src: &Src, (a, b): (u32, u32)) -> Result<String, String> {
    let (file, commit) = key(src);
    let lines = text.get(&(file.clone(), commit.clone()));
    let get = |n| lines.and_then(|l| l.get(&n)).ok_or_else(|| format!("no text of {file}:{n} @{commit}"));
    Ok((a..=b).map(get).collect::<Result<Vec<_>, _>>()?.into_iter().cloned().collect::<Vec<_>>().join("\n"))
}

#[test]
fn every_step_shows_its_statement() {
    let text = text();
    let mut wrong = BTreeSet::new();
    for s in shown() {
        let body = range_text(&text, &s.src, s.lines).unwrap_or_else(|e| e);
        if !tokens(s.op, &s.label).iter().any(|t| body.contains(t)) {
            let (v, f, p, (a, b)) = (s.src.variant, s.src.func, s.src.part, s.lines);
            wrong.insert(format!("{v} {f} {p:?} L{a}-{b} ({}): {:?}\n{body}", s.label, tokens(s.op, &s.label)));
        }
    }
    assert!(wrong.is_empty(), "{} steps show lines without their statement:\n{}", wrong.len(), {
        let all: Vec<String> = wrong.into_iter().collect();
        all.join("\n\n")
    });
}

#[test]
fn the_text_holds_exactly_the_shown_lines() {
    let mut needed: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    for s in shown() {
        needed.entry(key(&s.src)).or_default().extend(s.lines.0..=s.lines.1);
    }
    let have: BTreeMap<_, BTreeSet<u32>> = text().into_iter().map(|(k, l)| (k, l.into_keys().collect())).collect();
    for (k, lines) in &have {
        let extra: Vec<_> = lines.difference(needed.get(k).unwrap_or(&BTreeSet::new())).copied().collect();
        assert!(extra.is_empty(), "{k:?}: lines no step shows: {extra:?}");
    }
    for (k, lines) in &needed {
        let missing: Vec<_> = lines.difference(have.get(k).unwrap_or(&BTreeSet::new())).copied().collect();
        assert!(missing.is_empty(), "{k:?}: shown lines without text: {missing:?}");
    }
}

/// The copied text has the source's shape at the line numbers of `source/lines.rs`: a shown
/// whole-function range starts with the function's name and ends with its closing brace, and
/// no shown range starts or ends on an empty line.
#[test]
fn the_text_has_the_source_shape() {
    let text = text();
    for s in shown() {
        let body = range_text(&text, &s.src, s.lines).unwrap_or_else(|e| panic!("{e}"));
        let (first, last) = (body.lines().next().unwrap_or(""), body.lines().last().unwrap_or(""));
        let whole = Src { part: "fn", ..s.src }.lines() == Some(s.lines);
        let at = format!("{} {} {:?} L{}-{}", s.src.variant, s.src.func, s.src.part, s.lines.0, s.lines.1);
        if whole {
            let name = first.split('(').next().unwrap_or("");
            assert!(name.ends_with(s.src.func) || first.starts_with(s.src.func), "{at} starts with {first:?}");
            assert_eq!(last, "}", "{at} ends with {last:?}");
        }
        assert!(!first.trim().is_empty() && !last.trim().is_empty(), "{at} starts or ends on an empty line");
    }
}

/// Where two sections must agree: 9f7c68911579 changes arm-smmu-v3.c only from line 2589 on,
/// and ae91f6552c30 changes arm-smmu-v3-sva.c only from line 367 on.
#[test]
fn unchanged_lines_agree_between_commits() {
    let text = text();
    let pairs = [(File::Main, Variant::Pre, Variant::Fix, 2589), (File::Sva, Variant::Pre, Variant::V69, 367)];
    for (file, a, b, until) in pairs {
        let get = |v| &text[&(file.name().to_string(), commit(v, file).to_string())];
        let (ta, tb) = (get(a), get(b));
        let shared = ta.keys().filter(|n| **n < until && tb.contains_key(n)).count();
        assert!(shared > 20, "{file:?}: {shared} shared lines");
        for (n, t) in ta.range(..until) {
            if let Some(u) = tb.get(n) {
                assert_eq!(t, u, "{file:?} line {n}: {a} and {b} differ");
            }
        }
    }
}
