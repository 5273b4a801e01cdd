//! Conformance: the console page equals `struct xencons_interface` of
//! `io/console.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::console::XenconsInterface;

#[test]
fn console_page_layout_matches_the_xen_header() {
    let mut p = Probe::new(&["xen/io/console.h"]);
    layout!(p, "struct xencons_interface", XenconsInterface {
        "in" => input,
        "out" => output,
        "in_cons" => in_cons,
        "in_prod" => in_prod,
        "out_cons" => out_cons,
        "out_prod" => out_prod,
    });
    p.run();
}
