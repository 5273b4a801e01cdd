//! Conformance: `multicall_entry` equals that of `xen.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::multicall::MulticallEntry;

#[test]
fn multicall_entry_layout_matches_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h"]);
    layout!(p, "struct multicall_entry", MulticallEntry {
        "op" => op,
        "result" => result,
        "args" => args,
    });
    p.run();
}
