//! dom0 reading a line of console input: binds VIRQ_CONSOLE, sleeps until
//! the hypervisor signals that input waits, reads it with
//! `console_io(CONSOLEIO_read)` and prints it. Crashes if no line comes in
//! 10 s of system time.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, Ordering::SeqCst};
use guest_sdk::start_info::StartInfo;
use guest_sdk::{XenError, event_channel, hypercall, println, sched, time, upcall};
use xen_abi::event_channel::VIRQ_CONSOLE;

/// Set by VIRQ_CONSOLE's handler.
static INPUT_WAITS: AtomicBool = AtomicBool::new(false);
/// How long to wait for the line.
const PATIENCE_NS: u64 = 10_000_000_000;

/// Reads a line; the number of bytes, without the newline.
fn read_line(line: &mut [u8]) -> Result<usize, XenError> {
    let port = event_channel::bind_virq(VIRQ_CONSOLE)?;
    upcall::set_handler(port, |_| INPUT_WAITS.store(true, SeqCst))?;
    println!("console_input: VIRQ_CONSOLE on port {port}, waiting for a line");
    let deadline = time::now() + PATIENCE_NS;
    let mut length = 0;
    loop {
        if !sched::wait_until(deadline, || INPUT_WAITS.swap(false, SeqCst))? {
            println!("console_input: no line within 10 s");
            sched::crash()
        }
        while length < line.len() {
            let count = hypercall::console_read(&mut line[length..])?;
            if count == 0 {
                break;
            }
            length += count;
        }
        if let Some(end) = line[..length].iter().position(|&byte| byte == b'\n' || byte == b'\r') {
            return Ok(end);
        }
        if length == line.len() {
            return Ok(length);
        }
    }
}

fn main(info: &'static StartInfo) -> ! {
    let mut line = [0u8; 128];
    match upcall::start(info).and_then(|()| read_line(&mut line)) {
        Ok(length) => {
            let text = core::str::from_utf8(&line[..length]).unwrap_or("(not UTF-8)");
            println!("console_input: read {text:?} after VIRQ_CONSOLE");
            sched::power_off()
        }
        Err(error) => {
            println!("console_input: {error}");
            sched::crash()
        }
    }
}

guest_sdk::entry!(main);
