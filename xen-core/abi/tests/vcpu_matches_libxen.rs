//! Conformance: `vcpu_op` commands and structs equal those of `vcpu.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::vcpu::*;

#[test]
fn vcpu_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/vcpu.h"]);
    layout!(p, "struct vcpu_runstate_info", VcpuRunstateInfo {
        "state" => state,
        "state_entry_time" => state_entry_time,
        "time" => time,
    });
    layout!(p, "struct vcpu_register_runstate_memory_area", VcpuRegisterRunstateMemoryArea {
        "addr" => addr,
        "addr.h" => addr,
        "addr.v" => addr,
        "addr.p" => addr,
    });
    layout!(p, "struct vcpu_set_periodic_timer", VcpuSetPeriodicTimer {
        "period_ns" => period_ns,
    });
    layout!(p, "struct vcpu_set_singleshot_timer", VcpuSetSingleshotTimer {
        "timeout_abs_ns" => timeout_abs_ns,
        "flags" => flags,
    });
    layout!(p, "struct vcpu_register_vcpu_info", VcpuRegisterVcpuInfo {
        "mfn" => mfn,
        "offset" => offset,
        "rsvd" => rsvd,
    });
    p.run();
}

#[test]
fn vcpu_numbers_match_the_xen_header() {
    let mut p = Probe::new(&["xen/vcpu.h"]);
    constants!(p,
        VCPUOP_initialise => VCPUOP_INITIALISE,
        VCPUOP_up => VCPUOP_UP,
        VCPUOP_down => VCPUOP_DOWN,
        VCPUOP_is_up => VCPUOP_IS_UP,
        VCPUOP_get_runstate_info => VCPUOP_GET_RUNSTATE_INFO,
        VCPUOP_register_runstate_memory_area => VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA,
        VCPUOP_set_periodic_timer => VCPUOP_SET_PERIODIC_TIMER,
        VCPUOP_stop_periodic_timer => VCPUOP_STOP_PERIODIC_TIMER,
        VCPUOP_set_singleshot_timer => VCPUOP_SET_SINGLESHOT_TIMER,
        VCPUOP_stop_singleshot_timer => VCPUOP_STOP_SINGLESHOT_TIMER,
        VCPUOP_register_vcpu_info => VCPUOP_REGISTER_VCPU_INFO,
        VCPUOP_send_nmi => VCPUOP_SEND_NMI,
        VCPUOP_get_physid => VCPUOP_GET_PHYSID,
        VCPUOP_register_vcpu_time_memory_area => VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA,
        RUNSTATE_running => RUNSTATE_RUNNING,
        RUNSTATE_runnable => RUNSTATE_RUNNABLE,
        RUNSTATE_blocked => RUNSTATE_BLOCKED,
        RUNSTATE_offline => RUNSTATE_OFFLINE,
        XEN_RUNSTATE_UPDATE,
        VCPU_SSHOTTMR_future => SingleshotTimerFlags::FUTURE.bits(),
    );
    p.run();
}
