//! `multicall`: a batch of hypercalls in one trap.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{element_address, offset_address, read_from_guest, write_to_guest};
use core::mem::offset_of;
use xen_abi::errno::Errno;
use xen_abi::hypercall::{IRET, MULTICALL};
use xen_abi::multicall::MulticallEntry;

/// Size of a `multicall_entry`.
const ENTRY_SIZE: u64 = size_of::<MulticallEntry>() as u64;
/// Byte offset of `result` in an entry.
const RESULT_OFFSET: u64 = offset_of!(MulticallEntry, result) as u64;
/// Entries run per call before the batch preempts itself: each entry is
/// bounded, but a batch of them must be too.
const PER_CALL: u64 = 16;

/// `multicall(list, count)`: runs each entry in order and stores its result in
/// the entry. Nested multicalls and `iret` are refused per entry with
/// `-EINVAL`. A preempted entry keeps its new arguments in the list and the
/// batch resumes from it. The batch stops early if an entry ends the domain.
/// `dispatch` is the hypercall table, which runs each entry.
pub fn multicall<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
    dispatch: impl Fn(&mut HypercallContext<'_, P>, u64, [u64; 5]) -> Completion,
) -> Result<Completion, Errno> {
    let [list, count, ..] = args;
    for index in 0..count.min(PER_CALL) {
        let address = element_address(list, index, ENTRY_SIZE)?;
        let mut entry: MulticallEntry = read_from_guest(context.platform.guest(), address)?;
        let completion = if entry.op == u64::from(MULTICALL) || entry.op == u64::from(IRET) {
            Completion::Value(Errno::EINVAL.as_return())
        } else {
            let arguments = [
                entry.args[0],
                entry.args[1],
                entry.args[2],
                entry.args[3],
                entry.args[4],
            ];
            let mut inner = HypercallContext {
                domain: &mut *context.domain,
                others: context.others.reborrow(),
                frames: &mut *context.frames,
                frame: &mut *context.frame,
                platform: &mut *context.platform,
                in_multicall: true,
                reschedule: false,
            };
            let completion = dispatch(&mut inner, entry.op, arguments);
            context.reschedule |= inner.reschedule;
            completion
        };
        match completion {
            Completion::Value(value) => {
                // The entry was read whole, so this cannot pass the top; it
                // is checked all the same, like every guest address.
                let result = offset_address(address, RESULT_OFFSET)?;
                write_to_guest(context.platform.guest(), result, &(value as u64))?;
            }
            // Refused above; nothing inside a batch replaces the frame.
            Completion::FrameReplaced => {}
            Completion::Continue(arguments) => {
                entry.args[..5].copy_from_slice(&arguments);
                write_to_guest(context.platform.guest(), address, &entry)?;
                return Ok(Completion::Continue([address, count - index, 0, 0, 0]));
            }
        }
        if !context.domain.is_running() {
            return Ok(Completion::Value(0));
        }
    }
    if count > PER_CALL {
        return Ok(Completion::Continue([
            element_address(list, PER_CALL, ENTRY_SIZE)?,
            count - PER_CALL,
            0,
            0,
            0,
        ]));
    }
    Ok(Completion::Value(0))
}
