//! Conformance: event-channel operations, their structs and the VIRQ numbers
//! equal those of `event_channel.h` and `xen.h`.

#[macro_use]
mod common;

use common::Probe;
use std::mem::{offset_of, size_of};
use xen_abi::event_channel::*;

#[test]
fn event_channel_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/event_channel.h"]);
    p.value("sizeof(evtchn_port_t)", size_of::<EvtchnPort>());
    layout!(p, "struct evtchn_alloc_unbound", EvtchnAllocUnbound {
        "dom" => dom,
        "remote_dom" => remote_dom,
        "port" => port,
    });
    layout!(p, "struct evtchn_bind_interdomain", EvtchnBindInterdomain {
        "remote_dom" => remote_dom,
        "remote_port" => remote_port,
        "local_port" => local_port,
    });
    layout!(p, "struct evtchn_bind_virq", EvtchnBindVirq {
        "virq" => virq,
        "vcpu" => vcpu,
        "port" => port,
    });
    layout!(p, "struct evtchn_bind_pirq", EvtchnBindPirq {
        "pirq" => pirq,
        "flags" => flags,
        "port" => port,
    });
    layout!(p, "struct evtchn_bind_ipi", EvtchnBindIpi {
        "vcpu" => vcpu,
        "port" => port,
    });
    layout!(p, "struct evtchn_close", EvtchnClose { "port" => port });
    layout!(p, "struct evtchn_send", EvtchnSend { "port" => port });
    layout!(p, "struct evtchn_status", EvtchnStatus {
        "dom" => dom,
        "port" => port,
        "status" => status,
        "vcpu" => vcpu,
        "u" => u,
    });
    let u = offset_of!(EvtchnStatus, u);
    view!(p, "struct evtchn_status", "u.unbound", u, EvtchnStatusUnbound {
        "dom" => dom,
    });
    view!(p, "struct evtchn_status", "u.interdomain", u, EvtchnStatusInterdomain {
        "dom" => dom,
        "port" => port,
    });
    // pirq and virq are the union's first word.
    p.value("offsetof(struct evtchn_status, u.pirq)", u);
    p.value("sizeof(((struct evtchn_status *)0)->u.pirq)", size_of::<u32>());
    p.value("offsetof(struct evtchn_status, u.virq)", u);
    p.value("sizeof(((struct evtchn_status *)0)->u.virq)", size_of::<u32>());
    layout!(p, "struct evtchn_bind_vcpu", EvtchnBindVcpu {
        "port" => port,
        "vcpu" => vcpu,
    });
    layout!(p, "struct evtchn_unmask", EvtchnUnmask { "port" => port });
    layout!(p, "struct evtchn_reset", EvtchnReset { "dom" => dom });
    p.run();
}

#[test]
fn event_channel_numbers_match_the_xen_headers() {
    let mut p = Probe::new(&["xen/event_channel.h"]);
    constants!(p,
        EVTCHN_2L_NR_CHANNELS,
        EVTCHNOP_bind_interdomain => EVTCHNOP_BIND_INTERDOMAIN,
        EVTCHNOP_bind_virq => EVTCHNOP_BIND_VIRQ,
        EVTCHNOP_bind_pirq => EVTCHNOP_BIND_PIRQ,
        EVTCHNOP_close => EVTCHNOP_CLOSE,
        EVTCHNOP_send => EVTCHNOP_SEND,
        EVTCHNOP_status => EVTCHNOP_STATUS,
        EVTCHNOP_alloc_unbound => EVTCHNOP_ALLOC_UNBOUND,
        EVTCHNOP_bind_ipi => EVTCHNOP_BIND_IPI,
        EVTCHNOP_bind_vcpu => EVTCHNOP_BIND_VCPU,
        EVTCHNOP_unmask => EVTCHNOP_UNMASK,
        EVTCHNOP_reset => EVTCHNOP_RESET,
        EVTCHNOP_init_control => EVTCHNOP_INIT_CONTROL,
        EVTCHNOP_expand_array => EVTCHNOP_EXPAND_ARRAY,
        EVTCHNOP_set_priority => EVTCHNOP_SET_PRIORITY,
        EVTCHNSTAT_closed => EVTCHNSTAT_CLOSED,
        EVTCHNSTAT_unbound => EVTCHNSTAT_UNBOUND,
        EVTCHNSTAT_interdomain => EVTCHNSTAT_INTERDOMAIN,
        EVTCHNSTAT_pirq => EVTCHNSTAT_PIRQ,
        EVTCHNSTAT_virq => EVTCHNSTAT_VIRQ,
        EVTCHNSTAT_ipi => EVTCHNSTAT_IPI,
        BIND_PIRQ__WILL_SHARE => BIND_PIRQ_WILL_SHARE,
        VIRQ_TIMER,
        VIRQ_DEBUG,
        VIRQ_CONSOLE,
        VIRQ_DOM_EXC,
        VIRQ_TBUF,
        VIRQ_DEBUGGER,
        VIRQ_XENOPROF,
        VIRQ_CON_RING,
        VIRQ_PCPU_STATE,
        VIRQ_MEM_EVENT,
        VIRQ_ARGO,
        VIRQ_ENOMEM,
        VIRQ_XENPMU,
        VIRQ_ARCH_0,
        NR_VIRQS,
    );
    p.run();
}
