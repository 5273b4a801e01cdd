//! Typed hypercall wrappers.
//!
//! Each call goes through slot `nr` of the hypercall page, which the
//! hypervisor filled before our first instruction. Arguments that are
//! pointers are passed as the addresses of Rust values; the hypervisor
//! copies from and to them and reports a bad one as `EFAULT`.

use crate::XenError;
use xen_abi::hypercall as nr;
use xen_abi::multicall::MulticallEntry;
use xen_abi::physdev::{PHYSDEVOP_SET_IOPL, PhysdevSetIopl};
use xen_abi::trap::TrapInfo;
use xen_abi::version::{XENVER_GET_FEATURES, XENVER_VERSION, XenFeatureInfo};

/// Makes hypercall `number` with `args`; returns RAX as the hypervisor set it.
pub fn raw(number: u32, args: [u64; 5]) -> i64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::hypercall::call(number, args)
    }
    #[cfg(not(target_os = "none"))]
    {
        // Host builds have no hypervisor to call.
        let _ = (number, args);
        xen_abi::errno::Errno::ENOSYS.as_return()
    }
}

/// Makes hypercall `number` through the `int 0x82` gate rather than the
/// hypercall page: an alternative entry xen-core offers. Real Xen keeps that
/// gate for 32-bit guests, so portable guests use [`raw`].
pub fn raw_int82(number: u32, args: [u64; 5]) -> i64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::hypercall::call_int82(number, args)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = (number, args);
        xen_abi::errno::Errno::ENOSYS.as_return()
    }
}

/// `console_io(CONSOLEIO_write)`: writes bytes to the hypervisor console.
pub fn console_write(bytes: &[u8]) -> Result<(), XenError> {
    console_write_at(bytes.as_ptr() as u64, bytes.len() as u64).map(|_| ())
}

/// `console_io(CONSOLEIO_write)` with any address: for tests of the
/// hypervisor's pointer checks.
pub fn console_write_at(address: u64, count: u64) -> Result<i64, XenError> {
    XenError::check(raw(
        nr::CONSOLE_IO,
        [u64::from(nr::CONSOLEIO_WRITE), count, address, 0, 0],
    ))
}

/// `console_io(CONSOLEIO_read)`: console input that waits, into `buffer`
/// (the control domain only); how many bytes came, 0 if none.
pub fn console_read(buffer: &mut [u8]) -> Result<usize, XenError> {
    let count = XenError::check(raw(
        nr::CONSOLE_IO,
        [
            u64::from(nr::CONSOLEIO_READ),
            buffer.len() as u64,
            buffer.as_mut_ptr() as u64,
            0,
            0,
        ],
    ))?;
    Ok(count as usize)
}

/// `xen_version(XENVER_version)`: (major, minor).
pub fn xen_version() -> Result<(u16, u16), XenError> {
    let version = XenError::check(raw(nr::XEN_VERSION, [u64::from(XENVER_VERSION), 0, 0, 0, 0]))?;
    Ok(((version >> 16) as u16, version as u16))
}

/// `xen_version(XENVER_get_features)` for feature submap `index`.
pub fn features(index: u32) -> Result<u32, XenError> {
    let mut info = XenFeatureInfo {
        submap_idx: index,
        submap: 0,
    };
    XenError::check(raw(
        nr::XEN_VERSION,
        [u64::from(XENVER_GET_FEATURES), &mut info as *mut _ as u64, 0, 0, 0],
    ))?;
    Ok(info.submap)
}

/// `set_trap_table`: installs `entries`, which must end with an entry whose
/// address is 0, as the ABI requires.
pub fn set_trap_table(entries: &[TrapInfo]) -> Result<(), XenError> {
    let terminated = entries.last().is_some_and(|last| last.address == 0);
    if !terminated {
        return Err(XenError {
            code: xen_abi::errno::Errno::EINVAL.as_return(),
        });
    }
    XenError::check(raw(nr::SET_TRAP_TABLE, [entries.as_ptr() as u64, 0, 0, 0, 0])).map(|_| ())
}

/// `fpu_taskswitch(set)`: sets or clears the virtual CR0.TS.
pub fn fpu_taskswitch(set: bool) -> Result<(), XenError> {
    XenError::check(raw(nr::FPU_TASKSWITCH, [u64::from(set), 0, 0, 0, 0])).map(|_| ())
}

/// `set_callbacks(event, failsafe, syscall)`.
pub fn set_callbacks(event: u64, failsafe: u64, syscall: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::SET_CALLBACKS, [event, failsafe, syscall, 0, 0])).map(|_| ())
}

/// `callback_op(CALLBACKOP_register)` for the event callback alone: where
/// upcalls enter the guest (the other callbacks stay as they are).
pub fn register_event_callback(address: u64) -> Result<(), XenError> {
    use xen_abi::trap::{CALLBACKTYPE_EVENT, CallbackRegister};
    callback_register(&CallbackRegister {
        kind: CALLBACKTYPE_EVENT,
        flags: 0,
        _pad0: 0,
        address,
    })
}

/// `callback_op(CALLBACKOP_register, register)`: one callback by type.
pub fn callback_register(register: &xen_abi::trap::CallbackRegister) -> Result<(), XenError> {
    XenError::check(raw(
        nr::CALLBACK_OP,
        [
            u64::from(xen_abi::trap::CALLBACKOP_REGISTER),
            register as *const _ as u64,
            0,
            0,
            0,
        ],
    ))
    .map(|_| ())
}

/// `set_debugreg(register, value)`.
pub fn set_debugreg(register: u64, value: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::SET_DEBUGREG, [register, value, 0, 0, 0])).map(|_| ())
}

/// `get_debugreg(register)`: the value (a negative errno for no such
/// register comes back the same way, as on Xen).
pub fn get_debugreg(register: u64) -> i64 {
    raw(nr::GET_DEBUGREG, [register, 0, 0, 0, 0])
}

/// `vcpu_op(VCPUOP_register_vcpu_info, 0, ...)`: vCPU 0's `vcpu_info`
/// moves to byte `offset` of machine frame `mfn` (which must stay a
/// writable page of the guest's). The SDK's own event code keeps using
/// shared_info's copy: a guest that moves it handles its events itself.
pub fn register_vcpu_info(mfn: u64, offset: u32) -> Result<(), XenError> {
    use xen_abi::vcpu::{VCPUOP_REGISTER_VCPU_INFO, VcpuRegisterVcpuInfo};
    let request = VcpuRegisterVcpuInfo { mfn, offset, rsvd: 0 };
    let args = [
        u64::from(VCPUOP_REGISTER_VCPU_INFO),
        0,
        &request as *const _ as u64,
        0,
        0,
    ];
    XenError::check(raw(nr::VCPU_OP, args)).map(|_| ())
}

/// `vcpu_op(VCPUOP_register_runstate_memory_area, 0, ...)`: the hypervisor
/// keeps vCPU 0's runstate at virtual address `address`.
pub fn register_runstate_area(address: u64) -> Result<(), XenError> {
    use xen_abi::vcpu::{VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, VcpuRegisterRunstateMemoryArea};
    let request = VcpuRegisterRunstateMemoryArea { addr: address };
    let args = [
        u64::from(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA),
        0,
        &request as *const _ as u64,
        0,
        0,
    ];
    XenError::check(raw(nr::VCPU_OP, args)).map(|_| ())
}

/// `set_gdt(frames, entries)`: the guest's own GDT, one frame per 512
/// entries, each mapped read-only everywhere.
pub fn set_gdt(frames: &[u64], entries: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::SET_GDT, [frames.as_ptr() as u64, entries, 0, 0, 0])).map(|_| ())
}

/// `update_descriptor(machine_address, descriptor)`: one descriptor, even
/// in a GDT in use.
pub fn update_descriptor(machine_address: u64, descriptor: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::UPDATE_DESCRIPTOR, [machine_address, descriptor, 0, 0, 0])).map(|_| ())
}

/// `stack_switch(ss, rsp)`: the kernel stack the hypervisor bounces to
/// from user mode.
pub fn stack_switch(ss: u16, rsp: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::STACK_SWITCH, [u64::from(ss), rsp, 0, 0, 0])).map(|_| ())
}

/// `set_timer_op(deadline)`: raises VIRQ_TIMER once system time reaches
/// `deadline` (ns); 0 cancels. A deadline already past fires at once.
pub fn set_timer_op(deadline: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::SET_TIMER_OP, [deadline, 0, 0, 0, 0])).map(|_| ())
}

/// `multicall`: runs `entries` in one trap; each entry's `result` is filled in.
pub fn multicall(entries: &mut [MulticallEntry]) -> Result<(), XenError> {
    XenError::check(raw(
        nr::MULTICALL,
        [entries.as_mut_ptr() as u64, entries.len() as u64, 0, 0, 0],
    ))
    .map(|_| ())
}

/// `physdev_op(PHYSDEVOP_set_iopl)`: asks for I/O privilege (dom0 drivers).
pub fn set_iopl(iopl: u32) -> Result<(), XenError> {
    let request = PhysdevSetIopl { iopl };
    XenError::check(raw(
        nr::PHYSDEV_OP,
        [u64::from(PHYSDEVOP_SET_IOPL), &request as *const _ as u64, 0, 0, 0],
    ))
    .map(|_| ())
}

/// `mmu_update(requests, count, done, DOMID_SELF)`: applies `requests` in
/// order, stopping at the first refused one; on failure the error comes with
/// how many went through.
pub fn mmu_update(requests: &[xen_abi::mmu::MmuUpdate]) -> Result<(), (XenError, u32)> {
    let mut done = 0u32;
    let result = raw(
        nr::MMU_UPDATE,
        [
            requests.as_ptr() as u64,
            requests.len() as u64,
            &mut done as *mut u32 as u64,
            u64::from(xen_abi::mmu::DOMID_SELF),
            0,
        ],
    );
    XenError::check(result).map(|_| ()).map_err(|error| (error, done))
}

/// `mmuext_op(ops, count, NULL, DOMID_SELF)`.
pub fn mmuext_op(ops: &[xen_abi::mmu::MmuextOp]) -> Result<(), XenError> {
    XenError::check(raw(
        nr::MMUEXT_OP,
        [
            ops.as_ptr() as u64,
            ops.len() as u64,
            0,
            u64::from(xen_abi::mmu::DOMID_SELF),
            0,
        ],
    ))
    .map(|_| ())
}

/// `update_va_mapping(va, entry, flags)`: replaces the L1 entry that maps
/// `va` in the current address space.
pub fn update_va_mapping(va: u64, entry: u64, flags: u64) -> Result<(), XenError> {
    XenError::check(raw(nr::UPDATE_VA_MAPPING, [va, entry, flags, 0, 0])).map(|_| ())
}
