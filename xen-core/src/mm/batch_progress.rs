//! What `mmu_update` and `mmuext_op` batches share: whose frames they touch,
//! and the `*done` count that survives preemption (the `pdone`
//! argument of `HYPERVISOR_mmu_update` in Xen's `xen.h`).

use crate::arch::GuestMemory;
use crate::guest_copy::{element_address, read_from_guest, write_to_guest};
use xen_abi::errno::Errno;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::mmu::DomId;
use zerocopy::{FromBytes, IntoBytes};

/// Set in the count of a resumed batch (`MMU_UPDATE_PREEMPTED`).
pub const MMU_UPDATE_PREEMPTED: u64 = 1 << 31;

/// How a batch ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmuBatch {
    /// Every request succeeded.
    Done,
    /// Preempted: re-run the hypercall with these arguments.
    Continue([u64; 5]),
}

/// The page-table owner and the data owner a batch acts for, from its
/// `foreigndom` argument (FD in bits 0–15, PFD + 1 in bits 16–31).
pub fn batch_owners(caller: DomId, foreigndom: u64) -> Result<(DomId, DomId), Errno> {
    let data = (foreigndom & 0xffff) as DomId;
    let tables = (foreigndom >> 16) & 0xffff;
    // Foreign page tables (PFD) and foreign data (FD) need other domains, and
    // control over them: with one domain, none exists to name.
    if tables != 0 {
        return Err(Errno::ESRCH);
    }
    match data {
        DOMID_SELF => Ok((caller, caller)),
        own if own == caller => Ok((caller, caller)),
        // DOMID_IO (MMIO) and DOMID_XEN are not mappable by guests here.
        _ if data >= DOMID_SELF => Err(Errno::EPERM),
        _ => Err(Errno::ESRCH),
    }
}

/// The `*done` count of a batch: where it lives in the guest, and what it
/// held when this call began (a resumed batch continues it).
pub struct BatchProgress {
    pointer: u64,
    before: u32,
}

impl BatchProgress {
    /// Reads the count so far if the batch was resumed (`count` carries
    /// [`MMU_UPDATE_PREEMPTED`]); returns the progress and the real count.
    pub fn start(guest: &mut impl GuestMemory, pointer: u64, count: u64) -> Result<(BatchProgress, u64), Errno> {
        let resumed = count & MMU_UPDATE_PREEMPTED != 0;
        let before = if resumed && pointer != 0 {
            read_from_guest(guest, pointer)?
        } else {
            0
        };
        // The count is a C `unsigned int`: the register's upper half is not
        // part of it.
        Ok((
            BatchProgress { pointer, before },
            u64::from(count as u32) & !MMU_UPDATE_PREEMPTED,
        ))
    }

    /// Tells the guest that `handled` more requests of this call succeeded.
    pub fn report(&self, guest: &mut impl GuestMemory, handled: u64) -> Result<(), Errno> {
        if self.pointer == 0 {
            return Ok(());
        }
        let done = u64::from(self.before).saturating_add(handled).min(u64::from(u32::MAX)) as u32;
        write_to_guest(guest, self.pointer, &done)
    }
}

/// Runs a batch hypercall `(list, count, done, foreigndom)` whose requests
/// are `size`-byte `T`s: each is read (checked at its index, XSA-212) and
/// given to `apply` with the guest memory; the batch stops at the first
/// failure with `*done` telling how many went through, and preempts itself
/// after `per_call` requests, or at a request that answers -ERESTART (its
/// page-table work ran out of the invocation's budget), which is re-run.
pub fn run_batch<T: FromBytes + IntoBytes, G: GuestMemory>(
    guest: &mut G,
    args: [u64; 5],
    size: u64,
    per_call: u64,
    mut apply: impl FnMut(&mut G, &T) -> Result<(), Errno>,
) -> Result<MmuBatch, Errno> {
    let [list, count, done_pointer, foreigndom, _] = args;
    let (progress, count) = BatchProgress::start(guest, done_pointer, count)?;
    let continue_from = |guest: &mut G, handled: u64| -> Result<MmuBatch, Errno> {
        progress.report(guest, handled)?;
        let next = element_address(list, handled, size)?;
        Ok(MmuBatch::Continue([
            next,
            (count - handled) | MMU_UPDATE_PREEMPTED,
            done_pointer,
            foreigndom,
            0,
        ]))
    };
    for index in 0..count.min(per_call) {
        let request: T = read_from_guest(guest, element_address(list, index, size)?)?;
        match apply(guest, &request) {
            Ok(()) => {}
            // Page-table work that did not fit this invocation: the same
            // request goes on when the rest of the batch is re-run.
            Err(Errno::ERESTART) => return continue_from(guest, index),
            Err(error) => {
                progress.report(guest, index)?;
                return Err(error);
            }
        }
    }
    if count > per_call {
        return continue_from(guest, per_call);
    }
    progress.report(guest, count)?;
    Ok(MmuBatch::Done)
}
