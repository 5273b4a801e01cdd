//! dom0 watching its domUs: binds VIRQ_DOM_EXC, sleeps in `SCHEDOP_poll`
//! until the hypervisor reports a domain's end, and powers off. While it
//! sleeps the CPU goes to the other domains; the scenario's domU crashes,
//! and this domain must go on to report it.
#![no_std]
#![no_main]

use guest_sdk::start_info::StartInfo;
use guest_sdk::{event_channel, println, sched};
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
    println!("dom0: VIRQ_DOM_EXC on port {port}, waiting for a domain to end");
    if let Err(error) = sched::poll(&[port], 0) {
        println!("poll failed: {error}");
        sched::crash()
    }
    println!("dom0: woken by VIRQ_DOM_EXC: a domain ended, and dom0 goes on");
    sched::power_off()
}

guest_sdk::entry!(main);
