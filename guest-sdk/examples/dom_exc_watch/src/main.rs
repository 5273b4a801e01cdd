//! dom0 watching its domUs: binds VIRQ_DOM_EXC, sleeps in `SCHEDOP_poll`
//! until the hypervisor reports a domain's end, and powers off. While it
//! sleeps the CPU goes to the other domains; the scenario's domU crashes,
//! and this domain must go on to report it. Boot-time domUs start with
//! dom0, so the domU may crash before the bind: dom0 then finds it gone.
#![no_std]
#![no_main]

use guest_sdk::start_info::StartInfo;
use guest_sdk::{event_channel, println, sched};
use xen_abi::errno::Errno;
use xen_abi::event_channel::{EVTCHNSTAT_VIRQ, VIRQ_DOM_EXC};
use xen_abi::mmu::DOMID_SELF;

fn main(_info: &'static StartInfo) -> ! {
    let port = match event_channel::bind_virq(VIRQ_DOM_EXC) {
        Ok(port) => port,
        Err(error) => {
            println!("binding VIRQ_DOM_EXC failed: {error}");
            sched::crash()
        }
    };
    match event_channel::status(DOMID_SELF, port) {
        Ok(status) if status.status == EVTCHNSTAT_VIRQ && status.u.virq() == VIRQ_DOM_EXC => {}
        other => {
            println!("port {port} is not VIRQ_DOM_EXC: {other:?}");
            sched::crash()
        }
    }
    // A domain that ended before the bind raised a VIRQ nobody heard (lost,
    // as on Xen): look for it now, as xenstored scans the domains after
    // binding. From here on an end leaves the port pending.
    match event_channel::status(1, 0) {
        Err(error) if error.code == Errno::ESRCH.as_return() => {
            println!("dom0: d1 had ended before VIRQ_DOM_EXC was bound, and dom0 goes on");
            sched::power_off()
        }
        Err(error) => {
            println!("dom0: status of d1 failed: {error}");
            sched::crash()
        }
        Ok(_) => {}
    }
    println!("dom0: VIRQ_DOM_EXC on port {port}, waiting for a domain to end");
    if let Err(error) = sched::poll(&[port], 0) {
        println!("poll failed: {error}");
        sched::crash()
    }
    println!("dom0: woken by VIRQ_DOM_EXC: a domain ended, and dom0 goes on");
    sched::power_off()
}

guest_sdk::entry!(main);
