//! Which kernel the scripts follow, and how finely they are cut into steps.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A pinned state of the driver source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Variant {
    /// 71b0aa10b18d, the parent of the fix (same attach/ASID logic as v6.8).
    #[serde(rename = "pre")]
    Pre,
    /// 9f7c68911579, "Hold arm_smmu_asid_lock during all of attach_dev".
    #[serde(rename = "fix")]
    Fix,
    /// 327e10b47ae9, the end of the series as merged for v6.9.
    #[serde(rename = "v6.9")]
    V69,
}

impl Variant {
    /// Every variant, oldest first.
    pub const ALL: [Variant; 3] = [Variant::Pre, Variant::Fix, Variant::V69];

    /// The command-line and URL name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Pre => "pre",
            Variant::Fix => "fix",
            Variant::V69 => "v6.9",
        }
    }

    /// The full commit id of `arm-smmu-v3.c` at this variant.
    pub fn commit(self) -> &'static str {
        match self {
            Variant::Pre => "71b0aa10b18dd589a899449457e5ab7c1da00d01",
            Variant::Fix => "9f7c68911579bc15c57d227d021ccd253da2b635",
            Variant::V69 => "327e10b47ae99f76ac53f0b8b73a0539f390d2d2",
        }
    }

    /// The commit id abbreviated to 12 characters, as `Fixes:` tags write it.
    pub fn short_commit(self) -> &'static str {
        &self.commit()[..12]
    }

    /// A one-line description that starts with [`Variant::short_commit`].
    pub fn title(self) -> &'static str {
        match self {
            Variant::Pre => "71b0aa10b18d (before the fix; v6.8 attach/ASID logic)",
            Variant::Fix => "9f7c68911579 (\"iommu/arm-smmu-v3: Hold arm_smmu_asid_lock during all of attach_dev\")",
            Variant::V69 => "327e10b47ae9 (v6.9: release through the blocked/identity domains)",
        }
    }

    /// Whether `attach_dev` holds `arm_smmu_asid_lock` from before detach to the end.
    pub fn attach_holds_asid_lock(self) -> bool {
        self != Variant::Pre
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pre" => Ok(Variant::Pre),
            "fix" => Ok(Variant::Fix),
            "v6.9" | "v69" => Ok(Variant::V69),
            _ => Err(format!("unknown variant '{s}' (expected pre, fix or v6.9)")),
        }
    }
}

/// How finely kernel functions are cut into atomic steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// One step per line of the diagrams in the mailing-list thread.
    Mail,
    /// Qword stores, CFGI + CMD_SYNC and STE writes as the source does them.
    Source,
}

impl Granularity {
    /// Both granularities.
    pub const ALL: [Granularity; 2] = [Granularity::Mail, Granularity::Source];

    /// The command-line and URL name.
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Mail => "mail",
            Granularity::Source => "source",
        }
    }

    /// What folds into one step, in one line: for the page's control and the CLI's help.
    pub fn title(self) -> &'static str {
        match self {
            Granularity::Mail => {
                "mail: one step per line of the thread's diagrams; a whole STE or CD write, with its \
                 CFGI + CMD_SYNC, is one step, and bookkeeping stores fold into the step before them"
            }
            Granularity::Source => {
                "source: every qword store, CFGI + CMD_SYNC and STE writer phase is a step of its own, \
                 as the source does them; between a store and its sync the SMMU may use either image"
            }
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mail" => Ok(Granularity::Mail),
            "source" => Ok(Granularity::Source),
            _ => Err(format!("unknown granularity '{s}' (expected mail or source)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_start_with_the_12_character_commit() {
        for v in Variant::ALL {
            assert_eq!(v.short_commit().len(), 12);
            assert!(v.commit().starts_with(v.short_commit()));
            assert!(v.title().starts_with(&format!("{} ", v.short_commit())), "{}", v.title());
        }
    }
}
