//! A device's transaction, as the SMMU handles it (not driver code).

use super::Builder;
use crate::ids::MasterId;
use crate::program::Op;
use crate::source::File;

/// One DMA by master `m` with substream `ssid` to `iova`.
pub fn dma(b: &mut Builder<'_>, m: MasterId, ssid: u8, iova: u64) {
    b.func("DMA", File::Device, |b| {
        let who = b.topo.master(m).to_string();
        let label = match ssid {
            0 => format!("{who} DMA to {iova:#x} (RID)"),
            p => format!("{who} DMA to {iova:#x} (pasid {p})"),
        };
        b.step(Op::Dma(m, ssid, iova), "dma", label);
    });
}
