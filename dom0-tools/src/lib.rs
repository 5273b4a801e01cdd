//! dom0's services and the host-side management CLI.
//!
//! [`xenstore`] is the logic of xenstored, the configuration database every
//! domain talks to; the console, block and network backends, the domain
//! builder driven by management commands and `xl` follow (issue 7 onwards).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod xenstore;
