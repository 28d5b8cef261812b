//! The explorer's compact state encoding: a [`State`] as a short byte string.
//!
//! The explorer keeps the states of a layer in one byte arena, hashes and compares them as
//! bytes, and decodes a state into a reused [`State`] (whose vectors keep their capacity) to
//! run a step. So no state owns heap memory while it waits, and expanding one allocates
//! nothing once the buffers have grown.
//!
//! A state is encoded in two levels. Each part of it ([`Part`]: a master, a domain, a thread,
//! the descriptors, ...) is written as bytes: small integers as LEB128 varints, with what the
//! world fixes (how many masters, domains, locks, processes, threads, CD slots) left out, and
//! the wide values (an STE slot, a CD slot, an IOTLB entry, a thread's registers) as indices
//! into tables of those seen so far: they change rarely, so a one-entry cache per position
//! answers most lookups, and decoding one is a copy. Then each part's bytes are interned in
//! that part's own table, and the state is the sequence of the parts' table indices, one
//! varint each (the component tables of SPIN's COLLAPSE mode). A part takes few distinct
//! values over a search while states are their product, so a state costs about a byte or two
//! per part. Interning follows the order of first sight, which the explorer's order fixes, so
//! encodings are deterministic. Decoding reads back exactly what encoding wrote:
//! `decode(encode(s)) == s` (tested over every reachable state of the built-in scenarios).

use super::fingerprint::FxBuild;
use super::parts::{Bounds, Layout, Part};
use crate::ids::{CtxId, DomainId, MasterId, MmId, PtId};
use crate::state::{Cd, CtxDesc, Notifier, Regs, Slot, State, Tag, TagHistory, TlbEntry, Unmapped};
use crate::ste::Ste;
use std::collections::HashMap;
use std::hash::Hash;

/// Values seen so far, each with a dense index.
struct Interner<T> {
    items: Vec<T>,
    index: HashMap<T, u32, FxBuild>,
}

impl<T: Copy + Eq + Hash> Interner<T> {
    fn new() -> Self {
        Interner { items: Vec::new(), index: HashMap::default() }
    }

    fn id(&mut self, v: T) -> u32 {
        let next = self.items.len() as u32;
        let id = *self.index.entry(v).or_insert(next);
        if id == next {
            self.items.push(v);
        }
        id
    }

    fn get(&self, id: u64) -> T {
        self.items[id as usize]
    }

    /// [`Interner::id`] through a one-entry cache per position (most steps leave a given
    /// master's STE and a given IOTLB slot as they were).
    fn id_at(&mut self, cache: &mut Vec<Option<(T, u32)>>, at: usize, v: T) -> u32 {
        if cache.len() <= at {
            cache.resize(at + 1, None);
        }
        match cache[at] {
            Some((c, id)) if c == v => id,
            _ => {
                let id = self.id(v);
                cache[at] = Some((v, id));
                id
            }
        }
    }
}

/// Encodes and decodes states of one world.
pub(super) struct Packer {
    stes: Interner<Slot<Ste>>,
    tlbs: Interner<TlbEntry>,
    cds: Interner<Slot<Cd>>,
    regs: Interner<Regs>,
    /// The last value interned per position: an STE slot per master, a CD slot per master
    /// and SSID, an entry per IOTLB position, registers per thread.
    ste_cache: Vec<Option<(Slot<Ste>, u32)>>,
    cd_cache: Vec<Option<(Slot<Cd>, u32)>>,
    tlb_cache: Vec<Option<(TlbEntry, u32)>>,
    regs_cache: Vec<Option<(Regs, u32)>>,
    /// Per part index, the distinct encodings of that part.
    parts: Vec<PartTable>,
    /// Per step site and part index, the id that step last wrote there (`u32::MAX`: none).
    guesses: Vec<u32>,
    /// A part being encoded.
    tmp: Vec<u8>,
}

/// The distinct byte encodings of one part, each with a dense id.
#[derive(Default)]
struct PartTable {
    /// Encoding `id` is `bytes[ends[id - 1]..ends[id]]`.
    bytes: Vec<u8>,
    ends: Vec<u32>,
    index: HashMap<Box<[u8]>, u32, FxBuild>,
}

impl PartTable {
    fn get(&self, id: u64) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.bytes[start..self.ends[id] as usize]
    }

    /// Whether `id` is the id of `part`'s encoding.
    fn is(&self, id: u64, part: &[u8]) -> bool {
        let b = self.get(id);
        b.len() == part.len() && same(b, part)
    }

    /// The id of `part`'s encoding. Two guesses are tried before the table: `hint`, its id
    /// before the step (many dirty parts come out of a step as they went in), and `guess`,
    /// what the same step last made of it.
    fn id(&mut self, part: &[u8], hint: Option<u64>, guess: Option<u64>) -> u64 {
        if let Some(h) = [hint, guess].into_iter().flatten().find(|h| self.is(*h, part)) {
            return h;
        }
        if let Some(id) = self.index.get(part) {
            return u64::from(*id);
        }
        let id = self.ends.len() as u32;
        self.index.insert(part.into(), id);
        self.bytes.extend_from_slice(part);
        self.ends.push(self.bytes.len() as u32);
        u64::from(id)
    }
}

/// A byte sink.
struct W<'a>(&'a mut Vec<u8>);

impl W<'_> {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    /// An optional small id: 0 for `None`, id + 1 otherwise.
    fn opt(&mut self, v: Option<u8>) {
        self.u(v.map_or(0, |x| u64::from(x) + 1));
    }

    fn flags(&mut self, bits: &[bool]) {
        self.u(bits.iter().enumerate().fold(0, |acc, (i, b)| acc | (u64::from(*b) << i)));
    }
}

/// A byte source over an encoding this module wrote.
struct R<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl R<'_> {
    fn u(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.bytes[self.at];
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn u8(&mut self) -> u8 {
        self.u() as u8
    }

    fn u16(&mut self) -> u16 {
        self.u() as u16
    }

    fn opt(&mut self) -> Option<u8> {
        self.u().checked_sub(1).map(|v| v as u8)
    }

    fn flag_bits(&mut self) -> impl Fn(u32) -> bool {
        let v = self.u();
        move |i| v & (1 << i) != 0
    }

    /// Refills `out` with `n` items read by `f`.
    fn list<T>(&mut self, out: &mut Vec<T>, mut f: impl FnMut(&mut Self) -> T) {
        let n = self.u() as usize;
        out.clear();
        for _ in 0..n {
            let v = f(self);
            out.push(v);
        }
    }
}

fn tag_code(tag: Tag) -> u64 {
    match tag {
        Tag::Asid(a) => u64::from(a) << 1,
        Tag::Vmid(v) => (u64::from(v) << 1) | 1,
    }
}

fn tag_of(code: u64) -> Tag {
    match code & 1 {
        0 => Tag::Asid((code >> 1) as u16),
        _ => Tag::Vmid((code >> 1) as u16),
    }
}

/// The cache position of master `i`'s CD slot `ssid` (positions of SSIDs past 15 are
/// shared, which costs hits, never correctness: a cached value is compared before use).
fn cd_position(i: usize, ssid: usize) -> usize {
    i << 4 | ssid.min(15)
}

/// A part written as its own bytes rather than as a table id: the parts that change most
/// often and take a few bytes, where a table lookup at nearly every step would cost more than
/// it saves: a thread (its program counter changes at every step), the lock owners and pinned
/// ASIDs (a byte each), and the broken set (one byte).
fn is_raw(part: Part) -> bool {
    matches!(part, Part::Thread(_) | Part::MmLocks | Part::Broken)
}

/// `a == b` for slices of equal length, without a `memcmp` call for the short ones (most
/// parts are a few bytes).
fn same(a: &[u8], b: &[u8]) -> bool {
    match a.len() {
        0..=16 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

impl Packer {
    pub(super) fn new() -> Self {
        Packer {
            stes: Interner::new(),
            tlbs: Interner::new(),
            cds: Interner::new(),
            regs: Interner::new(),
            ste_cache: Vec::new(),
            cd_cache: Vec::new(),
            tlb_cache: Vec::new(),
            regs_cache: Vec::new(),
            parts: Vec::new(),
            guesses: Vec::new(),
            tmp: Vec::new(),
        }
    }

    /// Writes part `k` of `s` as its table id; `hint` is the id it had before the step, and
    /// `site` numbers the step (see [`Packer::encode_from`]).
    fn put_id(
        &mut self,
        s: &State,
        layout: Layout,
        k: usize,
        hint: Option<u64>,
        site: Option<usize>,
        out: &mut Vec<u8>,
    ) {
        let part = layout.part(k);
        if is_raw(part) {
            return self.put(s, part, &mut W(out));
        }
        if self.parts.len() < layout.len() {
            self.parts.resize_with(layout.len(), PartTable::default);
        }
        let mut tmp = std::mem::take(&mut self.tmp);
        tmp.clear();
        self.put(s, part, &mut W(&mut tmp));
        let slot = site.map(|site| self.guess_slot(site * layout.len() + k));
        let guess = slot.map(|slot| self.guesses[slot]).filter(|g| *g != u32::MAX).map(u64::from);
        let id = self.parts[k].id(&tmp, hint, guess);
        if let Some(slot) = slot {
            self.guesses[slot] = id as u32;
        }
        self.tmp = tmp;
        W(out).u(id);
    }

    /// `slot` of [`Packer::guesses`], grown to hold it.
    fn guess_slot(&mut self, slot: usize) -> usize {
        if slot >= self.guesses.len() {
            self.guesses.resize(slot + 1, u32::MAX);
        }
        slot
    }

    /// Appends the encoding of `s` to `out`.
    pub(super) fn encode(&mut self, s: &State, out: &mut Vec<u8>) {
        out.reserve(64);
        let layout = Layout::of(s);
        for k in 0..layout.len() {
            self.put_id(s, layout, k, None, None, out);
        }
    }

    /// Appends the encoding of `s` to `out`, given that it differs from the state encoded as
    /// `base` (with part ends `bounds`) at most in the `dirty` parts: those are encoded, the
    /// others copied. `site` numbers the step that made `s` (a thread and program counter):
    /// the same step tends to write the same values.
    pub(super) fn encode_from(&mut self, s: &State, from: (&[u8], &[u32]), dirty: u64, site: usize, out: &mut Vec<u8>) {
        let (base, bounds) = from;
        out.reserve(base.len() + 32);
        let layout = Layout::of(s);
        let mut clean_from = 0;
        for k in layout.each(dirty) {
            let start = if k == 0 { 0 } else { bounds[k - 1] as usize };
            out.extend_from_slice(&base[clean_from..start]);
            let hint = (!is_raw(layout.part(k))).then(|| R { bytes: base, at: start }.u());
            self.put_id(s, layout, k, hint, Some(site), out);
            clean_from = bounds[k] as usize;
        }
        out.extend_from_slice(&base[clean_from..]);
    }

    fn put(&mut self, s: &State, part: Part, w: &mut W<'_>) {
        match part {
            Part::Master(i) => self.put_master(s, i, w),
            Part::Domain(i) => {
                let d = &s.domains[i];
                w.flags(&[d.finalised, d.freed]);
                w.u(u64::from(d.vmid));
                w.u(d.devices.len() as u64);
                d.devices.iter().for_each(|m| w.u(u64::from(m.0)));
            }
            Part::Ctxs => {
                w.u(s.ctxs.len() as u64);
                for c in &s.ctxs {
                    w.u(u64::from(c.asid));
                    w.opt(c.ttb0.map(|p| p.0));
                    w.opt(c.mm.map(|m| m.0));
                    w.u(u64::from(c.refs));
                }
            }
            Part::Ids => {
                w.u(s.xa.len() as u64);
                for &(a, c) in &s.xa {
                    w.u(u64::from(a));
                    w.u(u64::from(c.0));
                }
                w.u(s.vmids.len() as u64);
                s.vmids.iter().for_each(|v| w.u(u64::from(*v)));
            }
            Part::Notifiers => {
                w.u(s.notifiers.len() as u64);
                for n in &s.notifiers {
                    match n {
                        None => w.u(0),
                        Some(n) => {
                            [1, n.domain.0, n.mm.0, n.ctx.0, n.refs].iter().for_each(|v| w.u(u64::from(*v)));
                            w.flags(&[n.cleared]);
                        }
                    }
                }
            }
            Part::MmLocks => s.mm_pinned.iter().chain(&s.locks).for_each(|v| w.u(u64::from(*v))),
            Part::Tlb => {
                w.u(s.iotlb.len() as u64);
                for (i, e) in s.iotlb.iter().enumerate() {
                    w.u(u64::from(self.tlbs.id_at(&mut self.tlb_cache, i, *e)));
                }
            }
            Part::History => {
                w.u(s.history.len() as u64);
                for h in &s.history {
                    w.u(tag_code(h.tag));
                    w.u(u64::from(h.pts));
                }
            }
            Part::Pts => {
                // How many tables there are is fixed by the world.
                for map in &s.pts {
                    w.u(map.len() as u64);
                    map.iter().for_each(|&(iova, pa)| [iova, pa].iter().for_each(|v| w.u(*v)));
                }
                w.u(s.unmapped.len() as u64);
                for u in &s.unmapped {
                    [u64::from(u.pt.0), u.iova, u.pa].iter().for_each(|v| w.u(*v));
                }
            }
            Part::Thread(i) => {
                let t = &s.threads[i];
                w.u(u64::from(t.pc));
                w.u(u64::from(t.steps));
                w.u(u64::from(self.regs.id_at(&mut self.regs_cache, i, t.regs)));
            }
            Part::Broken => w.u(u64::from(s.broken)),
        }
    }

    fn put_master(&mut self, s: &State, i: usize, w: &mut W<'_>) {
        let m = &s.masters[i];
        w.opt(m.domain.map(|d| d.0));
        w.flags(&[m.ats, m.sva_enabled, m.cdtab, m.released]);
        w.u(u64::from(self.stes.id_at(&mut self.ste_cache, i, m.ste)));
        for (ssid, slot) in m.cds.iter().enumerate() {
            w.u(u64::from(self.cds.id_at(&mut self.cd_cache, cd_position(i, ssid), *slot)));
        }
        w.u(m.bonds.len() as u64);
        for &(p, n) in &m.bonds {
            w.u(u64::from(p));
            w.u(u64::from(n));
        }
    }

    /// Overwrites `s` (a state of the same world, whose vectors are reused) with the state
    /// `bytes` encodes, and `bounds` with where each of its parts ends.
    pub(super) fn decode(&self, bytes: &[u8], s: &mut State, bounds: &mut Bounds) {
        let mut r = R { bytes, at: 0 };
        let layout = Layout::of(s);
        bounds.clear();
        for k in 0..layout.len() {
            self.get_id(&mut r, layout, k, s);
            bounds.push(r.at as u32);
        }
        debug_assert_eq!(r.at, bytes.len(), "a state's encoding is read to its end");
    }

    /// Like [`Packer::decode`], given that `s` holds the state encoded as `prev` (whose parts
    /// end at `prev_bounds`): decodes only the parts whose bytes differ from `prev`'s, and
    /// returns them as a bit set (parts past the 64th count as changed). A part's encoding
    /// determines its length, so equal bytes mean an equal part.
    pub(super) fn decode_from(
        &self,
        bytes: &[u8],
        s: &mut State,
        bounds: &mut Bounds,
        prev: &[u8],
        prev_bounds: &[u32],
    ) -> u64 {
        let mut r = R { bytes, at: 0 };
        let layout = Layout::of(s);
        let mut changed = 0;
        bounds.clear();
        for k in 0..layout.len() {
            let old = &prev[if k == 0 { 0 } else { prev_bounds[k - 1] as usize }..prev_bounds[k] as usize];
            if bytes.get(r.at..r.at + old.len()).is_some_and(|new| same(new, old)) {
                r.at += old.len();
            } else {
                self.get_id(&mut r, layout, k, s);
                changed |= 1u64.checked_shl(k as u32).unwrap_or(0);
            }
            bounds.push(r.at as u32);
        }
        debug_assert_eq!(r.at, bytes.len(), "a state's encoding is read to its end");
        changed
    }

    /// Reads part `k`'s table id and decodes that part.
    fn get_id(&self, r: &mut R<'_>, layout: Layout, k: usize, s: &mut State) {
        if is_raw(layout.part(k)) {
            return self.get(r, layout.part(k), s);
        }
        let bytes = self.parts[k].get(r.u());
        self.get(&mut R { bytes, at: 0 }, layout.part(k), s);
    }

    fn get(&self, r: &mut R<'_>, part: Part, s: &mut State) {
        match part {
            Part::Master(i) => {
                let m = &mut s.masters[i];
                m.domain = r.opt().map(DomainId);
                let f = r.flag_bits();
                (m.ats, m.sva_enabled, m.cdtab, m.released) = (f(0), f(1), f(2), f(3));
                m.ste = self.stes.get(r.u());
                for slot in &mut m.cds {
                    *slot = self.cds.get(r.u());
                }
                r.list(&mut m.bonds, |r| (r.u8(), r.u8()));
            }
            Part::Domain(i) => {
                let d = &mut s.domains[i];
                let f = r.flag_bits();
                (d.finalised, d.freed) = (f(0), f(1));
                d.vmid = r.u16();
                r.list(&mut d.devices, |r| MasterId(r.u8()));
            }
            Part::Ctxs => r.list(&mut s.ctxs, |r| CtxDesc {
                asid: r.u16(),
                ttb0: r.opt().map(PtId),
                mm: r.opt().map(MmId),
                refs: r.u8(),
            }),
            Part::Ids => {
                r.list(&mut s.xa, |r| (r.u16(), CtxId(r.u8())));
                r.list(&mut s.vmids, R::u16);
            }
            Part::Notifiers => r.list(&mut s.notifiers, |r| {
                (r.u() == 1).then(|| Notifier {
                    domain: DomainId(r.u8()),
                    mm: MmId(r.u8()),
                    ctx: CtxId(r.u8()),
                    refs: r.u8(),
                    cleared: r.flag_bits()(0),
                })
            }),
            Part::MmLocks => s.mm_pinned.iter_mut().chain(&mut s.locks).for_each(|v| *v = r.u8()),
            Part::Tlb => r.list(&mut s.iotlb, |r| self.tlbs.get(r.u())),
            Part::History => r.list(&mut s.history, |r| TagHistory { tag: tag_of(r.u()), pts: r.u() as u32 }),
            Part::Pts => {
                for map in &mut s.pts {
                    r.list(map, |r| (r.u(), r.u()));
                }
                r.list(&mut s.unmapped, |r| Unmapped { pt: PtId(r.u8()), iova: r.u(), pa: r.u() });
            }
            Part::Thread(i) => {
                let t = &mut s.threads[i];
                t.pc = r.u16();
                t.steps = r.u16();
                t.regs = self.regs.get(r.u());
            }
            Part::Broken => s.broken = r.u16(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;
    use crate::exec::{self, Readiness};
    use crate::ids::ThreadId;
    use crate::{builtin, Granularity, Variant};

    /// Every state reachable in the built-in scenarios decodes to itself, into a buffer that
    /// last held a different state.
    #[test]
    fn decoding_gives_back_every_reachable_state() {
        for name in ["seed-race", "release-race", "attach-storm-2", "unmap-during-asid-change", "sva-unbind-reuse"] {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    let world = builtin::get(name).unwrap().compile(v, g).unwrap();
                    let mut p = Packer::new();
                    let mut scratch = world.initial.clone();
                    let mut seen = std::collections::HashSet::new();
                    let mut todo = vec![world.initial.clone()];
                    while let Some(s) = todo.pop() {
                        let mut bytes = Vec::new();
                        p.encode(&s, &mut bytes);
                        p.decode(&bytes, &mut scratch, &mut Vec::new());
                        assert_eq!(scratch, s, "{name} {v:?} {g:?}");
                        if !seen.insert(bytes) {
                            continue;
                        }
                        for t in 0..world.n_threads() {
                            let t = ThreadId(t as u8);
                            if exec::readiness(&world, &s, t) == Readiness::Ready {
                                let mut next = s.clone();
                                let outcome = exec::step(&world, &mut next, t);
                                check::after_step(&world, &mut next, &outcome, 0, None);
                                todo.push(next);
                            }
                        }
                    }
                }
            }
        }
    }
}
