//! Delivering an exception to the guest's own handler: the bounce frame.
//!
//! The frame written on the guest stack (lowest address first, as Xen's
//! `create_bounce_frame` writes it and `arch-x86/xen-x86_64.h` describes): RCX, R11, [error code], RIP, CS (saved upcall mask in bits
//! 32–39), RFLAGS (IF = the virtual IF), RSP, SS. The handler then runs at
//! `FLAT_KERNEL_CS` / `FLAT_KERNEL_SS` on that stack, and starts by popping
//! RCX and R11.

use super::data_selectors::DataSelectors;
use super::pv_domain::PvDomain;
use crate::arch::{PhysicalMemory, Platform};
use crate::exception_vector::INVALID_OPCODE;
use crate::guest_copy::copy_to_guest;
use crate::rflags::{AC, DF, IF, IOPL, NT, RF, TF, VM};
use crate::trap_frame::TrapFrame;
use core::fmt;
use core::mem::offset_of;
use xen_abi::shared_info::VcpuInfo;
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS, FLAT_RING3_CS32};
use zerocopy::IntoBytes;

/// The page-fault error-code bit that says "user mode".
pub const PF_USER: u64 = 1 << 2;
/// Byte offset of `arch.cr2` in `vcpu_info`.
const CR2_OFFSET: u64 = offset_of!(VcpuInfo, arch.cr2) as u64;

/// Vectors whose exceptions carry an error code.
pub const fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

/// Why an exception could not be delivered; the domain must be crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BounceError {
    /// The guest registered no handler for the vector.
    NoHandler(u8),
    /// The bounce frame could not be written at this guest stack address.
    BadStack(u64),
    /// Selectors could not be loaded and the guest registered no failsafe
    /// callback to hear of it.
    NoFailsafe,
}

impl fmt::Display for BounceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BounceError::NoHandler(vector) => write!(f, "no trap handler for vector {vector}"),
            BounceError::BadStack(rsp) => write!(f, "cannot write a bounce frame at rsp {rsp:#x}"),
            BounceError::NoFailsafe => write!(f, "segment selectors unloadable and no failsafe callback"),
        }
    }
}

/// Sends exception `vector` to the guest's handler, editing `frame` so that
/// the return to the guest lands there. `cr2` is given for page faults.
pub fn bounce_exception(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
    vector: u8,
    error_code: Option<u64>,
    cr2: Option<u64>,
) -> Result<(), BounceError> {
    let handler = domain.vcpu.trap(vector);
    if handler.address == 0 {
        return Err(BounceError::NoHandler(vector));
    }
    let code = error_code.map(|code| {
        if vector == 14 && domain.vcpu.kernel_mode() {
            code & !PF_USER
        } else {
            code
        }
    });
    let code = code.as_slice();
    bounce_to(domain, frame, platform, handler.address, handler.mask_events, code)?;
    if let Some(address) = cr2 {
        domain.vcpu.cr2 = address;
        platform
            .memory()
            .write_u64(domain.vcpu_info_address() + CR2_OFFSET, address);
    }
    Ok(())
}

/// Delivers pending events: a bounce to the guest's event callback with
/// events masked (the event upcall). Done on the way back to a
/// guest whose upcall is pending and not masked; a guest that registered no
/// callback keeps its events pending.
pub fn bounce_event(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
) -> Result<(), BounceError> {
    let callback = domain.vcpu.callbacks().event;
    if callback == 0 {
        return Ok(());
    }
    bounce_to(domain, frame, platform, callback, true, &[])
}

/// Delivers a `syscall` made in guest user mode to the guest kernel (Xen's
/// `switch_to_kernel`): to the syscall callback, or from 32-bit code (CS
/// `FLAT_RING3_CS32`) to the 32-bit one, masking events if the 64-bit one
/// was registered so. With no callback the program gets #UD at its `syscall`
/// instruction, as on Xen.
pub fn bounce_syscall(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
) -> Result<(), BounceError> {
    let callbacks = domain.vcpu.callbacks();
    // Xen masks by the 64-bit callback's flag for both.
    let masks_events = callbacks.syscall.masks_events;
    let address = if frame.cs == u64::from(FLAT_RING3_CS32) {
        callbacks.syscall32.address
    } else {
        callbacks.syscall.address
    };
    if address == 0 {
        frame.rip = frame.rip.wrapping_sub(2);
        return bounce_exception(domain, frame, platform, INVALID_OPCODE, None, None);
    }
    bounce_to(domain, frame, platform, address, masks_events, &[])?;
    // The kernel's syscall entry, like the CPU's, starts with DF clear.
    frame.rflags &= !DF;
    Ok(())
}

/// Tells the guest kernel that segment selectors it had could not be
/// loaded again when its vCPU came back on the CPU (those registers are
/// null now): a bounce to the failsafe callback whose frame holds DS, ES,
/// FS and GS as they were, between R11 and RIP, as Xen's `load_segments`
/// writes it. The guest reloads them, or gives up on the task.
pub fn bounce_failsafe(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
    selectors: DataSelectors,
) -> Result<(), BounceError> {
    let callback = domain.vcpu.callbacks().failsafe;
    if callback.address == 0 {
        return Err(BounceError::NoFailsafe);
    }
    let saved = selectors.to_array().map(u64::from);
    bounce_to(domain, frame, platform, callback.address, callback.masks_events, &saved)
}

/// Writes the bounce frame for the interrupted state in `frame` on the
/// guest's kernel stack and points `frame` at `handler`; `between` (an
/// error code, the failsafe's selectors) goes between R11 and RIP.
///
/// From kernel mode the frame goes below the interrupted RSP. From user mode
/// the vCPU first switches to kernel mode (its kernel page tables, as Xen's
/// `toggle_guest_mode`) and the frame goes at the top of the kernel stack
/// `stack_switch` gave; the saved CS keeps RPL 3, which is how the handler
/// tells a user-mode origin.
fn bounce_to(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
    handler: u64,
    mask_events: bool,
    between: &[u64],
) -> Result<(), BounceError> {
    let masked = domain.events_masked(platform.memory());
    let from_user = !domain.vcpu.kernel_mode();
    // A kernel-mode origin shows as RPL 0 in the saved CS; user mode keeps 3.
    let saved_cs = if from_user { frame.cs } else { frame.cs & !3 };
    let saved_rflags = (frame.rflags & !(IF | IOPL)) | if masked { 0 } else { IF };
    let mut words = [0u64; 11];
    let mut count = 0;
    let mut push = |value: u64| {
        words[count] = value;
        count += 1;
    };
    push(frame.rcx);
    push(frame.r11);
    for &word in between {
        push(word);
    }
    push(frame.rip);
    push(saved_cs | (u64::from(masked) << 32));
    push(saved_rflags);
    push(frame.rsp);
    push(frame.ss);
    let size = (count * 8) as u64;
    let stack = if from_user {
        // The kernel base is set by the builder and only ever replaced.
        domain
            .vcpu
            .switch_mode(true, platform.guest())
            .map_err(|_| BounceError::BadStack(0))?;
        domain.vcpu.kernel_stack().1
    } else {
        frame.rsp
    };
    let rsp = (stack & !15).wrapping_sub(size);
    // The words go to the guest as they lie in memory (x86 is little-endian,
    // as the guest reads them): no byte buffer to fill and copy.
    copy_to_guest(platform.guest(), rsp, words[..count].as_bytes()).map_err(|_| BounceError::BadStack(rsp))?;
    frame.rip = handler;
    frame.cs = u64::from(FLAT_KERNEL_CS);
    frame.ss = u64::from(FLAT_KERNEL_SS);
    frame.rsp = rsp;
    frame.rflags &= !(TF | NT | RF | VM | AC);
    if mask_events {
        domain.set_events_masked(platform.memory(), true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::GuestMemory;
    use crate::arch::fake::FakePlatform;
    use crate::domain::pv_domain::PvDomain;
    use crate::mm::Mfn;
    use xen_abi::trap::TrapInfo;

    const STACK: u64 = 0x40_0000;
    const HANDLER: u64 = 0xffff_ffff_8000_7000;
    const KERNEL_CS: u64 = FLAT_KERNEL_CS as u64;
    const KERNEL_SS: u64 = FLAT_KERNEL_SS as u64;

    fn setup(mask_events: bool) -> (PvDomain, TrapFrame, FakePlatform) {
        let mut platform = FakePlatform::default();
        platform.guest.map(STACK - 4096, true);
        let mut domain = PvDomain::new(0, "test", Mfn(0x80), 16);
        let flags = if mask_events { 4 } else { 0 };
        for vector in [0u8, 13, 14] {
            domain
                .vcpu
                .set_trap(&TrapInfo {
                    vector,
                    flags,
                    cs: FLAT_KERNEL_CS,
                    _pad0: 0,
                    address: HANDLER,
                })
                .unwrap();
        }
        let frame = TrapFrame {
            rip: 0xffff_ffff_8000_1234,
            cs: KERNEL_CS,
            rflags: 0x246,
            rsp: STACK - 0x108, // not 16-aligned: the bounce aligns it first
            ss: KERNEL_SS,
            rcx: 0xc,
            r11: 0x11,
            ..TrapFrame::default()
        };
        (domain, frame, platform)
    }

    fn words(platform: &mut FakePlatform, at: u64, count: usize) -> std::vec::Vec<u64> {
        let mut bytes = std::vec![0u8; count * 8];
        platform.guest.read(at, &mut bytes).unwrap();
        bytes
            .chunks_exact(8)
            .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn the_frame_follows_xens_layout_and_the_handler_runs_next() {
        let (mut domain, mut frame, mut platform) = setup(false);
        let interrupted = frame;
        bounce_exception(&mut domain, &mut frame, &mut platform, 0, None, None).unwrap();
        // Like hardware: align the interrupted RSP to 16, then push.
        assert_eq!(frame.rsp, (interrupted.rsp & !15) - 7 * 8);
        let saved = words(&mut platform, frame.rsp, 7);
        // RCX, R11, RIP, CS (RPL cleared: kernel mode), RFLAGS, RSP, SS.
        assert_eq!(
            saved,
            [
                0xc,
                0x11,
                interrupted.rip,
                KERNEL_CS & !3,
                0x246,
                interrupted.rsp,
                KERNEL_SS
            ]
        );
        assert_eq!((frame.rip, frame.cs, frame.ss), (HANDLER, KERNEL_CS, KERNEL_SS));
    }

    #[test]
    fn error_codes_and_the_saved_event_mask_are_in_the_frame() {
        let (mut domain, mut frame, mut platform) = setup(true);
        domain.set_events_masked(&mut platform.memory, false);
        bounce_exception(&mut domain, &mut frame, &mut platform, 13, Some(0x18), None).unwrap();
        let saved = words(&mut platform, frame.rsp, 8);
        assert_eq!(saved[2], 0x18, "error code after RCX and R11");
        assert_eq!(saved[4] >> 32, 0, "events were unmasked when it happened");
        assert_ne!(saved[5] & (1 << 9), 0, "IF reflects the virtual IF");
        assert!(
            domain.events_masked(&platform.memory),
            "mask_events handler: masked on entry"
        );
    }

    #[test]
    fn page_faults_report_cr2_and_kernel_mode_in_the_error_code() {
        let (mut domain, mut frame, mut platform) = setup(false);
        bounce_exception(
            &mut domain,
            &mut frame,
            &mut platform,
            14,
            Some(0b110),
            Some(0xdead_b000),
        )
        .unwrap();
        assert_eq!(
            words(&mut platform, frame.rsp, 3)[2],
            0b010,
            "USER cleared: guest kernel mode"
        );
        let cr2 = platform.memory.read_u64(domain.shared_info().address() + 16);
        assert_eq!(cr2, 0xdead_b000);
    }

    #[test]
    fn an_event_upcall_goes_to_the_callback_with_events_masked() {
        let (mut domain, mut frame, mut platform) = setup(false);
        domain.set_events_masked(&mut platform.memory, false);
        let interrupted = frame;
        bounce_event(&mut domain, &mut frame, &mut platform).unwrap();
        assert_eq!(frame, interrupted, "no callback registered: nothing happens");
        let callbacks = crate::domain::vcpu::Callbacks {
            event: HANDLER + 0x40,
            ..domain.vcpu.callbacks()
        };
        domain.vcpu.set_callbacks(callbacks).unwrap();
        bounce_event(&mut domain, &mut frame, &mut platform).unwrap();
        assert_eq!(frame.rip, HANDLER + 0x40);
        let saved = words(&mut platform, frame.rsp, 7);
        assert_eq!(
            (saved[2], saved[3] >> 32),
            (interrupted.rip, 0),
            "RIP, then CS with the old mask 0"
        );
        assert!(domain.events_masked(&platform.memory), "upcalls run with events masked");
    }

    #[test]
    fn no_handler_or_an_unwritable_stack_cannot_be_delivered() {
        let (mut domain, mut frame, mut platform) = setup(false);
        assert_eq!(
            bounce_exception(&mut domain, &mut frame, &mut platform, 6, None, None),
            Err(BounceError::NoHandler(6))
        );
        frame.rsp = 0xdead_0000;
        let result = bounce_exception(&mut domain, &mut frame, &mut platform, 0, None, None);
        assert!(matches!(result, Err(BounceError::BadStack(_))));
        frame.rsp = 0xFFFF_8300_0000_1000; // the hypervisor's direct map
        let result = bounce_exception(&mut domain, &mut frame, &mut platform, 0, None, None);
        assert!(
            matches!(result, Err(BounceError::BadStack(_))),
            "never written on the guest's behalf"
        );
    }
}
