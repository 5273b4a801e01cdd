//! `iret`: return from an exception or event frame through the hypervisor.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::read_from_guest;
use crate::rflags::{IF, IOPL, VM};
use xen_abi::errno::Errno;
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS, IretContext, VGCF_IN_SYSCALL};

/// `iret`: the guest jumped to slot 23 of its hypercall page with an
/// `iret_context` at its stack pointer. Restores that context in full.
///
/// A CS with RPL 3 returns to guest user mode: the vCPU switches to its user
/// page tables (a domain with none is crashed, as Xen does) and keeps the
/// selectors it gave; otherwise it stays in kernel mode on Xen's flat kernel
/// selectors. With `VGCF_in_syscall` the return is the one `sysret` makes:
/// RCX and R11 come back as RIP and RFLAGS, not from the context.
///
/// Refused inside a multicall (XSA-213: the rest of the batch would run in a
/// context the caller never had).
pub fn iret<P: Platform>(context: &mut HypercallContext<'_, P>, _args: [u64; 5]) -> Result<Completion, Errno> {
    if context.in_multicall {
        return Err(Errno::EINVAL);
    }
    let saved: IretContext = match read_from_guest(context.platform.guest(), context.frame.rsp) {
        Ok(saved) => saved,
        Err(_) => {
            context.domain.crash("iret with an unreadable frame");
            return Ok(Completion::FrameReplaced);
        }
    };
    let to_user = saved.cs & 3 == 3;
    if to_user && context.domain.vcpu.user_base.is_none() {
        context.domain.crash("iret to user mode without a user page table");
        return Ok(Completion::FrameReplaced);
    }
    let frame = &mut *context.frame;
    frame.rip = saved.rip;
    (frame.cs, frame.ss) = if to_user {
        (saved.cs, saved.ss | 3)
    } else {
        (u64::from(FLAT_KERNEL_CS), u64::from(FLAT_KERNEL_SS))
    };
    frame.rsp = saved.rsp;
    frame.rflags = (saved.rflags | IF) & !(IOPL | VM);
    if saved.flags & VGCF_IN_SYSCALL == 0 {
        frame.r11 = saved.r11;
        frame.rcx = saved.rcx;
    } else {
        frame.r11 = frame.rflags;
        frame.rcx = frame.rip;
    }
    frame.rax = saved.rax;
    let masked = saved.rflags & IF == 0;
    context.domain.set_events_masked(context.platform.memory(), masked);
    if !context.domain.resume_is_safe(context.platform.memory(), context.frame) {
        context
            .domain
            .crash("iret to a non-canonical address or a selector it may not use");
        return Ok(Completion::FrameReplaced);
    }
    if to_user {
        // Checked above: the user base exists.
        let _ = context.domain.vcpu.switch_mode(false, context.platform.guest());
    }
    Ok(Completion::FrameReplaced)
}
