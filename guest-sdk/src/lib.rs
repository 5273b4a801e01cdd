//! The guest SDK: what a Xen x86_64 PV guest kernel needs.
//!
//! It will hold the entry point and ELF notes, start_info access, typed hypercall
//! wrappers, trap and event-upcall setup, a batching page-table manager, event
//! channels, grant tables, the xenstore client and the split-driver frontends
//! (issue 4 onwards). Until then it is empty; the example guests under `examples/`
//! are written directly against the ABI.
#![no_std]
#![forbid(unsafe_code)]
