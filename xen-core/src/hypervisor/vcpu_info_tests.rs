//! `VCPUOP_register_vcpu_info` over the real loop: the vCPU's flags, mask
//! and time move to the guest's page and are kept there.

use super::tests::{ARG, Run, start};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::mm::{Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::sched::SCHEDOP_YIELD;
use xen_abi::vcpu::{VCPUOP_REGISTER_VCPU_INFO, VcpuRegisterVcpuInfo};
use zerocopy::IntoBytes;

fn register(run: &mut Run, mfn: Mfn, offset: u32) -> i64 {
    let request = VcpuRegisterVcpuInfo {
        mfn: mfn.0,
        offset,
        rsvd: 0,
    };
    run.machine.platform.guest.write(ARG, request.as_bytes()).unwrap();
    let args = [u64::from(VCPUOP_REGISTER_VCPU_INFO), 0, ARG, 0, 0];
    run.hypercall(nr::VCPU_OP, args).unwrap();
    run.frame.rax as i64
}

#[test]
fn vcpu_info_moves_once_to_a_writable_page_and_is_used_there() {
    let mut run = start(1);
    let id = run.current().unwrap();
    let page = run.spare_frame(id);
    assert_eq!(register(&mut run, page, 4033), Errno::ENXIO.as_return(), "no room");
    assert_eq!(register(&mut run, page, 12), Errno::ENXIO.as_return(), "misaligned");
    let base = run.kernel_base();
    assert_eq!(register(&mut run, base, 0), Errno::EINVAL.as_return(), "a page table");
    assert_eq!(
        register(&mut run, Mfn(0x40), 0),
        Errno::EINVAL.as_return(),
        "not its frame"
    );
    assert_eq!(register(&mut run, page, 128), 0);
    let at = page.address() + 128;
    let memory = &run.machine.platform.memory;
    assert_eq!(memory.read_u64(at) & 0xff, 1, "an upcall is pending at the new place");
    assert_eq!(memory.read_u64(at + 8), u64::MAX, "every selector bit: scan it all");
    let frames = run.hypervisor.frames.as_ref().unwrap();
    assert_eq!(
        frames.frame(page).unwrap().page_type(),
        PageType::Writable,
        "held writable"
    );
    assert_eq!(register(&mut run, page, 256), Errno::EINVAL.as_return(), "once only");
    // Masking goes to the new place; time is published there at the next switch.
    let domain = run.hypervisor.domains().get(id).unwrap();
    domain.set_events_masked(&mut run.machine.platform.memory, true);
    assert_eq!(run.machine.platform.memory.read_u64(at) >> 8 & 0xff, 1);
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    let version = run.machine.platform.memory.read_u64(at + 32) as u32;
    assert!(
        version > 0 && version.is_multiple_of(2),
        "vcpu_time_info written there: version {version}"
    );
}
