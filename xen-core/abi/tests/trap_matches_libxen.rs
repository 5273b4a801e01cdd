//! Conformance: trap table, callbacks, `iret` frame, selectors and GDT
//! reservation equal those of `arch-x86/xen.h`, `arch-x86/xen-x86_64.h` and
//! `callback.h`.

#[macro_use]
mod common;

use common::Probe;
use std::mem::size_of;
use xen_abi::trap::*;

#[test]
fn trap_and_callback_layouts_match_the_xen_headers() {
    let mut p = Probe::new(&["xen/xen.h", "xen/callback.h", "xen/foreign/x86_64.h"]);
    layout!(p, "struct trap_info", TrapInfo {
        "vector" => vector,
        "flags" => flags,
        "cs" => cs,
        "address" => address,
    });
    p.value("sizeof(struct trap_info_x86_64)", size_of::<TrapInfo>());
    // The flag bits, through the header's own accessors.
    p.value("TI_GET_DPL(&(struct trap_info){ .flags = 0xff })", TRAP_FLAG_DPL_MASK);
    p.value("TI_GET_IF(&(struct trap_info){ .flags = 0xff })", TRAP_FLAG_MASK_EVENTS);
    layout!(p, "struct iret_context", IretContext {
        "rax" => rax,
        "r11" => r11,
        "rcx" => rcx,
        "flags" => flags,
        "rip" => rip,
        "cs" => cs,
        "rflags" => rflags,
        "rsp" => rsp,
        "ss" => ss,
    });
    layout!(p, "struct callback_register", CallbackRegister {
        "type" => kind,
        "flags" => flags,
        "address" => address,
    });
    layout!(p, "struct callback_unregister", CallbackUnregister {
        "type" => kind,
        "_unused" => _unused,
    });
    p.run();
}

#[test]
fn trap_constants_match_the_xen_headers() {
    let mut p = Probe::new(&["xen/xen.h", "xen/callback.h"]);
    constants!(p,
        VGCF_in_syscall => VGCF_IN_SYSCALL,
        FLAT_RING3_CS32,
        FLAT_RING3_DS32,
        FLAT_RING3_SS32,
        FLAT_RING3_CS64,
        FLAT_RING3_DS64,
        FLAT_RING3_SS64,
        FLAT_KERNEL_CS64,
        FLAT_KERNEL_CS32,
        FLAT_KERNEL_CS,
        FLAT_KERNEL_DS64,
        FLAT_KERNEL_DS32,
        FLAT_KERNEL_DS,
        FLAT_KERNEL_SS64,
        FLAT_KERNEL_SS32,
        FLAT_KERNEL_SS,
        FLAT_USER_CS64,
        FLAT_USER_CS32,
        FLAT_USER_CS,
        FLAT_USER_DS64,
        FLAT_USER_DS32,
        FLAT_USER_DS,
        FLAT_USER_SS64,
        FLAT_USER_SS32,
        FLAT_USER_SS,
        FIRST_RESERVED_GDT_PAGE,
        FIRST_RESERVED_GDT_BYTE,
        FIRST_RESERVED_GDT_ENTRY,
        SEGBASE_FS,
        SEGBASE_GS_USER,
        SEGBASE_GS_KERNEL,
        SEGBASE_GS_USER_SEL,
        CALLBACKOP_register => CALLBACKOP_REGISTER,
        CALLBACKOP_unregister => CALLBACKOP_UNREGISTER,
        CALLBACKTYPE_event => CALLBACKTYPE_EVENT,
        CALLBACKTYPE_failsafe => CALLBACKTYPE_FAILSAFE,
        CALLBACKTYPE_syscall => CALLBACKTYPE_SYSCALL,
        CALLBACKTYPE_sysenter_deprecated => CALLBACKTYPE_SYSENTER_DEPRECATED,
        CALLBACKTYPE_nmi => CALLBACKTYPE_NMI,
        CALLBACKTYPE_sysenter => CALLBACKTYPE_SYSENTER,
        CALLBACKTYPE_syscall32 => CALLBACKTYPE_SYSCALL32,
        CALLBACKF_mask_events => CallbackFlags::MASK_EVENTS.bits(),
    );
    p.run();
}
