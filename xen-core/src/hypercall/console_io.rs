//! `console_io`: the emergency console.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{copy_from_guest, copy_to_guest, offset_address};
use xen_abi::errno::Errno;
use xen_abi::hypercall::{CONSOLEIO_READ, CONSOLEIO_WRITE};

/// Bytes copied per step.
const CHUNK: usize = 128;
/// Bytes written per call before it preempts itself: a guest may ask for any
/// length, and the hypervisor must not spend unbounded time on one call (on
/// a real 115200-baud UART, 2 KiB is about 0.2 s).
const PER_CALL: u64 = 2 * 1024;

/// `console_io(cmd, count, buffer)`. A thin shell that inlines into the
/// dispatcher; the copying is out of line, so its buffer does not enlarge
/// the stack frame of every hypercall.
#[inline(always)]
pub fn console_io<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, count, buffer, ..] = args;
    // The write first, compared as the whole register: it is the hot case,
    // and an empty one (guests flush or probe with it) copies nothing.
    if command == u64::from(CONSOLEIO_WRITE) {
        return if count == 0 {
            Ok(Completion::Value(0))
        } else {
            write(context, count, buffer)
        };
    }
    if command == u64::from(CONSOLEIO_READ) {
        return read(context, count, buffer);
    }
    Err(Errno::ENOSYS)
}

#[inline(never)]
fn write<P: Platform>(context: &mut HypercallContext<'_, P>, count: u64, buffer: u64) -> Result<Completion, Errno> {
    let now = count.min(PER_CALL);
    let mut done = 0;
    while done < now {
        // Declared here, not before the loop: an empty write then costs no
        // buffer initialisation.
        let mut chunk = [0u8; CHUNK];
        let length = (now - done).min(CHUNK as u64) as usize;
        let address = offset_address(buffer, done)?;
        copy_from_guest(context.platform.guest(), address, &mut chunk[..length])?;
        context.domain.console_write(context.platform, &chunk[..length]);
        done += length as u64;
    }
    if now < count {
        // A buffer that ends on the last byte of the address space has no
        // rest: what was written stays written, and the call fails there,
        // where Xen's next copy would.
        let rest = offset_address(buffer, now)?;
        return Ok(Completion::Continue([
            u64::from(CONSOLEIO_WRITE),
            count - now,
            rest,
            0,
            0,
        ]));
    }
    Ok(Completion::Value(0))
}

/// Reads waiting console input; only the control domain owns the console.
#[inline(never)]
fn read<P: Platform>(context: &mut HypercallContext<'_, P>, count: u64, buffer: u64) -> Result<Completion, Errno> {
    if context.domain.privilege().is_none() {
        return Err(Errno::EPERM);
    }
    let mut chunk = [0u8; CHUNK];
    let wanted = count.min(CHUNK as u64) as usize;
    let got = context.platform.console_read(&mut chunk[..wanted]);
    copy_to_guest(context.platform.guest(), buffer, &chunk[..got])?;
    Ok(Completion::Value(got as i64))
}
