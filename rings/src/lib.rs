//! Shared circular rings for split drivers.
//!
//! This crate will hold the descriptor rings of Xen's `io/ring.h` (front and back
//! ends over one shared page, with Xen's notification-suppression protocol) and the
//! byte rings of the console and xenstore pages. It is empty until that work lands
//! (issue 3); nothing here pretends to work yet.
#![no_std]
#![forbid(unsafe_code)]
