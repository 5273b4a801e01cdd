//! Conformance: the physdev operations we define equal those of `physdev.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::physdev::*;

#[test]
fn physdev_layouts_and_numbers_match_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h", "xen/physdev.h"]);
    layout!(p, "struct physdev_eoi", PhysdevEoi { "irq" => irq });
    layout!(p, "struct physdev_irq_status_query", PhysdevIrqStatusQuery {
        "irq" => irq,
        "flags" => flags,
    });
    layout!(p, "struct physdev_set_iopl", PhysdevSetIopl { "iopl" => iopl });
    layout!(p, "struct physdev_set_iobitmap", PhysdevSetIobitmap {
        "bitmap" => bitmap,
        "nr_ports" => nr_ports,
    });
    constants!(p,
        PHYSDEVOP_irq_status_query => PHYSDEVOP_IRQ_STATUS_QUERY,
        PHYSDEVOP_set_iopl => PHYSDEVOP_SET_IOPL,
        PHYSDEVOP_set_iobitmap => PHYSDEVOP_SET_IOBITMAP,
        PHYSDEVOP_eoi => PHYSDEVOP_EOI,
        PHYSDEVOP_map_pirq => PHYSDEVOP_MAP_PIRQ,
        PHYSDEVOP_unmap_pirq => PHYSDEVOP_UNMAP_PIRQ,
        XENIRQSTAT_needs_eoi => XENIRQSTAT_NEEDS_EOI,
        XENIRQSTAT_shared => XENIRQSTAT_SHARED,
    );
    p.run();
}
