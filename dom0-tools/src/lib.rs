//! dom0's services and the host-side management CLI.
//!
//! This crate will hold xenstored, the console, block and network backends, the
//! domain builder driven by management commands, and `xl` with the control protocol
//! it shares with dom0's agent (issue 7 onwards). It is empty until then.
#![no_std]
#![forbid(unsafe_code)]
