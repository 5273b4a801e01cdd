//! How much page-table work one hypercall invocation may do.
//!
//! Validating, installing and releasing a tree cost one unit per entry
//! looked at, and a domain's teardown one per frame. An invocation that
//! runs out stops at the next entry, keeps where it stood (`mmu_job`) and
//! has the hypercall re-run: the work of one invocation is bounded however
//! large the guest's tree, as Xen bounds it with its preemption checks.

/// Entries one invocation may look at: four tables' worth.
pub const ENTRIES_PER_INVOCATION: u64 = 2048;

/// What is left of an invocation's allowance.
#[derive(Debug)]
pub struct Budget {
    left: u64,
    spent: u64,
}

impl Budget {
    /// A hypercall invocation's allowance.
    pub const fn per_invocation() -> Self {
        Budget::of(ENTRIES_PER_INVOCATION)
    }

    /// An allowance of `units`.
    pub const fn of(units: u64) -> Self {
        Budget { left: units, spent: 0 }
    }

    /// No limit: for the builder, whose input is trusted, and for callers
    /// that must finish at once.
    pub const fn unlimited() -> Self {
        Budget::of(u64::MAX)
    }

    /// Takes one unit; `false` once none is left.
    pub fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        self.spent += 1;
        true
    }

    /// Units taken so far.
    pub const fn spent(&self) -> u64 {
        self.spent
    }
}
