//! dom0's services and the host-side management CLI.
//!
//! [`xenstore`] is the logic of xenstored, the configuration database every
//! domain talks to; [`console_backend`] turns domU console output into
//! dom0's log lines. Block and network backends, the domain builder driven
//! by management commands and `xl` follow.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod console_backend;
pub mod xenstore;
