//! A device's transaction, as the SMMU handles it (not driver code).

use super::Builder;
use crate::ids::MasterId;
use crate::program::Op;
use crate::source::File;

/// One DMA by master `m` with substream `ssid` to `iova`.
pub fn dma(b: &mut Builder<'_>, m: MasterId, ssid: u8, iova: u64) {
    b.func("DMA", File::Device, |b| {
        let label = format!("{} DMA to {iova:#x} {}", b.topo.master(m), stream(ssid));
        b.step(Op::Dma(m, ssid, iova), "dma", label);
    });
}

/// One walk for master `m`, substream `ssid`, address `iova` with no transaction: the SMMU
/// caching a translation through the configuration it may use before (or without) any
/// access, as a speculative walk or a prefetch does.
pub fn walk(b: &mut Builder<'_>, m: MasterId, ssid: u8, iova: u64) {
    b.func("walk", File::Device, |b| {
        let label = format!("SMMU walks {iova:#x} for {} {}, no transaction", b.topo.master(m), stream(ssid));
        b.step(Op::Walk(m, ssid, iova), "walk", label);
    });
}

/// The SMMU fetching master `m`'s STE into its configuration cache.
pub fn fetch_ste(b: &mut Builder<'_>, m: MasterId) {
    b.func("SMMU fetch", File::Device, |b| {
        let label = format!("SMMU reads STE_{} qword by qword", b.topo.master(m));
        b.step(Op::FetchSte(m), "fetch", label);
    });
}

/// The SMMU fetching master `m`'s CD at `ssid` into its configuration cache.
pub fn fetch_cd(b: &mut Builder<'_>, m: MasterId, ssid: u8) {
    b.func("SMMU fetch", File::Device, |b| {
        let label = format!("SMMU reads CD_{}[{ssid}] qword by qword", b.topo.master(m));
        b.step(Op::FetchCd(m, ssid), "fetch", label);
    });
}

fn stream(ssid: u8) -> String {
    match ssid {
        0 => "(RID)".into(),
        p => format!("(pasid {p})"),
    }
}
