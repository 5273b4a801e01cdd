//! `callback_op` and `set_callbacks`: which callbacks a guest may register
//! and take back, with Xen's answers.

use super::tests::{Setup, setup, value};
use super::*;
use crate::domain::vcpu::Callback;
use crate::exception_vector::NMI;
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::trap::{
    CALLBACKOP_REGISTER, CALLBACKOP_UNREGISTER, CALLBACKTYPE_EVENT, CALLBACKTYPE_NMI, CALLBACKTYPE_SYSCALL,
    CALLBACKTYPE_SYSCALL32, CALLBACKTYPE_SYSENTER, CALLBACKTYPE_SYSENTER_DEPRECATED, CallbackFlags, CallbackRegister,
    CallbackUnregister,
};
use zerocopy::IntoBytes;

/// Where the request is written.
const REQUEST: u64 = 0x10_0000;
/// An entry point in the guest kernel.
const ENTRY: u64 = 0xffff_ffff_8000_2000;

fn register(s: &mut Setup, kind: u16, flags: CallbackFlags, address: u64) -> Completion {
    let request = CallbackRegister {
        kind,
        flags: flags.bits(),
        _pad0: 0,
        address,
    };
    s.put(REQUEST, request.as_bytes());
    s.call(nr::CALLBACK_OP, [u64::from(CALLBACKOP_REGISTER), REQUEST, 0, 0, 0])
}

fn unregister(s: &mut Setup, kind: u16) -> Completion {
    s.put(REQUEST, CallbackUnregister { kind, _unused: 0 }.as_bytes());
    s.call(nr::CALLBACK_OP, [u64::from(CALLBACKOP_UNREGISTER), REQUEST, 0, 0, 0])
}

#[test]
fn each_user_mode_entry_is_registered_with_its_own_event_mask() {
    let mut s = setup(false);
    let mask = CallbackFlags::MASK_EVENTS;
    assert_eq!(
        register(&mut s, CALLBACKTYPE_SYSCALL, mask, ENTRY),
        Completion::Value(0)
    );
    assert_eq!(
        register(&mut s, CALLBACKTYPE_SYSCALL32, CallbackFlags::empty(), ENTRY + 32),
        Completion::Value(0)
    );
    assert_eq!(
        register(&mut s, CALLBACKTYPE_SYSENTER, mask, ENTRY + 64),
        Completion::Value(0)
    );
    let callbacks = s.domain.vcpu.callbacks();
    assert_eq!(
        (callbacks.syscall, callbacks.syscall32, callbacks.sysenter),
        (
            Callback {
                address: ENTRY,
                masks_events: true
            },
            Callback {
                address: ENTRY + 32,
                masks_events: false
            },
            Callback {
                address: ENTRY + 64,
                masks_events: true
            }
        )
    );
}

#[test]
fn unknown_types_are_enosys_and_non_canonical_addresses_einval() {
    let mut s = setup(false);
    let none = CallbackFlags::empty();
    for kind in [CALLBACKTYPE_SYSENTER_DEPRECATED, 6, 8, 0xffff] {
        assert_eq!(register(&mut s, kind, none, ENTRY), value(Errno::ENOSYS), "type {kind}");
        assert_eq!(unregister(&mut s, kind), value(Errno::ENOSYS), "type {kind}");
    }
    let before = s.domain.vcpu.callbacks();
    assert_eq!(
        register(&mut s, CALLBACKTYPE_SYSCALL, none, 0x8000_0000_0000),
        value(Errno::EINVAL)
    );
    assert_eq!(s.domain.vcpu.callbacks(), before);
}

#[test]
fn only_the_nmi_callback_can_be_taken_back_and_it_is_the_nmi_trap() {
    let mut s = setup(false);
    let none = CallbackFlags::empty();
    assert_eq!(register(&mut s, CALLBACKTYPE_EVENT, none, ENTRY), Completion::Value(0));
    for kind in [CALLBACKTYPE_EVENT, CALLBACKTYPE_SYSCALL, CALLBACKTYPE_SYSCALL32] {
        assert_eq!(unregister(&mut s, kind), value(Errno::EINVAL), "type {kind}");
    }
    assert_eq!(s.domain.vcpu.callbacks().event, ENTRY, "still registered");
    assert_eq!(
        register(&mut s, CALLBACKTYPE_NMI, none, ENTRY + 8),
        Completion::Value(0)
    );
    let trap = s.domain.vcpu.trap(NMI);
    assert_eq!((trap.address, trap.mask_events), (ENTRY + 8, true));
    assert_eq!(unregister(&mut s, CALLBACKTYPE_NMI), Completion::Value(0));
    assert_eq!(s.domain.vcpu.trap(NMI).address, 0);
}

#[test]
fn set_callbacks_unmasks_and_skips_a_non_canonical_address_silently() {
    let mut s = setup(false);
    let mask = CallbackFlags::MASK_EVENTS;
    assert_eq!(
        register(&mut s, CALLBACKTYPE_SYSCALL, mask, ENTRY),
        Completion::Value(0)
    );
    let bad = 0x8000_0000_0000;
    assert_eq!(
        s.call(nr::SET_CALLBACKS, [ENTRY + 16, bad, ENTRY + 48, 0, 0]),
        Completion::Value(0)
    );
    let callbacks = s.domain.vcpu.callbacks();
    assert_eq!(callbacks.event, ENTRY + 16);
    assert_eq!(callbacks.failsafe.address, 0, "non-canonical: left out");
    assert_eq!(
        callbacks.syscall,
        Callback {
            address: ENTRY + 48,
            masks_events: false
        }
    );
}
