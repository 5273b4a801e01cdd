//! vCPU operations over the real scheduling loop: the runstate area,
//! written on registration and at every switch on and off the CPU, and
//! taking the vCPU down and up.

use super::tests::{ARG, start};
use crate::arch::GuestMemory;
use xen_abi::hypercall as nr;
use xen_abi::sched::SCHEDOP_YIELD;
use xen_abi::vcpu::*;
use zerocopy::{FromBytes, IntoBytes};

/// Where the guest wants its runstate (mapped in the fake guest memory).
const AREA: u64 = ARG + 0x800;

fn area(run: &mut super::tests::Run) -> VcpuRunstateInfo {
    let mut bytes = [0u8; 48];
    run.machine.platform.guest.read(AREA, &mut bytes).unwrap();
    VcpuRunstateInfo::read_from_bytes(&bytes).unwrap()
}

#[test]
fn the_runstate_area_follows_the_vcpu_on_and_off_the_cpu() {
    let mut run = start(2);
    let first = run.current().unwrap();
    let register = VcpuRegisterRunstateMemoryArea { addr: AREA };
    run.machine.platform.guest.write(ARG, register.as_bytes()).unwrap();
    let args = [u64::from(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA), 0, ARG, 0, 0];
    run.hypercall(nr::VCPU_OP, args).unwrap();
    assert_eq!(run.frame.rax, 0);
    let registered = area(&mut run);
    assert_eq!(registered.state, RUNSTATE_RUNNING, "written at once");
    run.machine.platform.now += 5_000;
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    assert_ne!(run.current(), Some(first));
    let off = area(&mut run);
    assert_eq!(off.state, RUNSTATE_RUNNABLE, "it yielded: runnable, not blocked");
    assert!(off.time[RUNSTATE_RUNNING as usize] >= 5_000, "{off:?}");
    assert_eq!(off.state_entry_time & XEN_RUNSTATE_UPDATE, 0);

    // get_runstate_info from the other domain reports its own record.
    let args = [u64::from(VCPUOP_GET_RUNSTATE_INFO), 0, ARG, 0, 0];
    run.hypercall(nr::VCPU_OP, args).unwrap();
    let mut bytes = [0u8; 48];
    run.machine.platform.guest.read(ARG, &mut bytes).unwrap();
    let other = VcpuRunstateInfo::read_from_bytes(&bytes).unwrap();
    assert_eq!(other.state, RUNSTATE_RUNNING);
}

#[test]
fn taking_down_the_last_vcpu_powers_the_domain_off_and_up_is_a_no_op() {
    let mut run = super::tests::start_domains(&[1, 2]);
    let first = run.current().unwrap();
    run.hypercall(nr::VCPU_OP, [u64::from(VCPUOP_UP), 0, 0, 0, 0]).unwrap();
    assert_eq!((run.frame.rax, run.current()), (0, Some(first)), "up: already");
    run.hypercall(nr::VCPU_OP, [u64::from(VCPUOP_IS_UP), 0, 0, 0, 0])
        .unwrap();
    assert_eq!(run.frame.rax, 1);
    run.hypercall(nr::VCPU_OP, [u64::from(VCPUOP_DOWN), 0, 0, 0, 0])
        .unwrap();
    assert_ne!(run.current(), Some(first), "the other domain runs");
    assert!(run.hypervisor.domains().get(first).is_none(), "the first is gone");
    let powered_off = run.machine.log.iter().any(|(_, line)| line.contains("powered off"));
    assert!(powered_off, "{:?}", run.machine.log);
}
