//! Source references: every instruction points at the kernel lines it models.
//!
//! Line numbers were read from the files at the pinned commits and are kept in
//! `lines`; a reference whose anchor is not in the table still names the file,
//! function and commit, and links to the file.

mod lines;

use crate::variant::Variant;

/// A kernel source file of the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum File {
    /// `drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c`.
    Main,
    /// `drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.c`.
    Sva,
    /// Not driver code: a device's transaction, modelled on the SMMU architecture.
    Device,
    /// `drivers/iommu/iommu.c`, the iommu core that calls the driver.
    Core,
    /// Not driver code: the mm core's part of a CPU unmap or an mm exit (the page-table
    /// change, the walk over the mmu notifiers).
    Mm,
}

impl File {
    /// The path inside the kernel tree.
    pub fn path(self) -> &'static str {
        match self {
            File::Main => "drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c",
            File::Sva => "drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.c",
            File::Device => "",
            File::Core => "drivers/iommu/iommu.c",
            File::Mm => "",
        }
    }

    /// The file name alone.
    pub fn name(self) -> &'static str {
        match self {
            File::Main => "arm-smmu-v3.c",
            File::Sva => "arm-smmu-v3-sva.c",
            File::Device => "(device)",
            File::Core => "iommu.c",
            File::Mm => "(mm)",
        }
    }
}

/// Where an instruction comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Src {
    /// The file.
    pub file: File,
    /// The kernel function.
    pub func: &'static str,
    /// The part of the function, e.g. `list_add`; `fn` for the whole function.
    pub part: &'static str,
    /// The commit the program was built for.
    pub variant: Variant,
}

impl Src {
    /// Inclusive line range at the pinned commit, when known.
    pub fn lines(&self) -> Option<(u32, u32)> {
        lines::find(self.variant, self.func, self.part)
    }

    /// A link to the lines in a public source browser at the pinned commit.
    pub fn url(&self) -> Option<String> {
        if matches!(self.file, File::Device | File::Mm) {
            return None;
        }
        let base = format!("https://github.com/torvalds/linux/blob/{}/{}", self.variant.commit(), self.file.path());
        Some(match self.lines() {
            Some((a, b)) if a == b => format!("{base}#L{a}"),
            Some((a, b)) => format!("{base}#L{a}-L{b}"),
            None => base,
        })
    }

    /// `arm-smmu-v3.c:1234-1240 @9f7c68911579`, for traces.
    pub fn short(&self) -> String {
        if matches!(self.file, File::Device | File::Mm) {
            return self.file.name().to_string();
        }
        let commit = &self.variant.commit()[..12];
        match self.lines() {
            Some((a, b)) if a == b => format!("{}:{a} @{commit}", self.file.name()),
            Some((a, b)) => format!("{}:{a}-{b} @{commit}", self.file.name()),
            None => format!("{} @{commit}", self.file.name()),
        }
    }
}
