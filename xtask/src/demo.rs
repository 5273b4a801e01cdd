//! The bundle `cargo xtask run` boots without `--guest`.

use crate::bundle::{Bundle, Domain};

/// dom0's services (xenstored and the console backend) and two domUs using
/// them, to a clean power-off.
pub const DEMO: Bundle = Bundle::new(
    "demo",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("console", "console_client", "memory=16M"),
        Domain::new("store", "xenstore_client", "memory=16M cmdline=role=client"),
    ],
);
