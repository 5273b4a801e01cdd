//! Builds a second address space with the SDK's page-table manager,
//! switches to it, touches memory through it, switches back and takes it
//! down again. Every line it prints is the same on real Xen.
#![no_std]
#![no_main]

use guest_sdk::page_table::{PAGE_SIZE, PRESENT, PageTableError, RW, boot_manager};
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line};

/// Where the new address space maps its pages: L4 slot 64, which the boot
/// tables leave empty.
const SPACE_VA: u64 = 0x0000_2000_0000_0000;
/// Pages mapped there.
const PAGES: u64 = 16;

fn main(info: &'static StartInfo) -> ! {
    match build_switch_and_touch(info) {
        Ok(()) => println!("address space done"),
        Err(error) => println!("address space failed: {error}"),
    }
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

fn build_switch_and_touch(info: &'static StartInfo) -> Result<(), PageTableError> {
    let mut tables = boot_manager(info);
    let boot = tables.boot_root(info);
    let space = tables.new_address_space(&boot)?;
    println!(
        "new L4 sharing the kernel's slots, pinned: {} hypercalls",
        tables.hypercalls()
    );

    let before = tables.hypercalls();
    let mut frames = [None; PAGES as usize];
    for (page, slot) in (0..PAGES).zip(frames.iter_mut()) {
        let frame = tables.allocate_frame()?;
        tables.map(space.mfn, SPACE_VA + page * PAGE_SIZE, frame.mfn, PRESENT | RW)?;
        *slot = Some(frame);
    }
    tables.flush()?;
    println!(
        "mapped {PAGES} pages at {SPACE_VA:#x} (3 new tables): {} hypercalls",
        tables.hypercalls() - before
    );

    tables.switch_to(space.mfn)?;
    for page in 0..PAGES {
        tables.write_mapped(SPACE_VA + page * PAGE_SIZE + page * 8, 0x5eed_0000 + page)?;
    }
    // The same frames through the kernel's own mapping of them.
    let mut matching = 0;
    for (page, frame) in frames.iter().flatten().enumerate() {
        let value = tables.read_mapped(frame.va + page as u64 * 8)?;
        matching += u64::from(value == 0x5eed_0000 + page as u64);
    }
    println!(
        "check new address space: wrote {PAGES} pages through it, {matching} read back through the kernel mapping"
    );

    tables.switch_to(boot.mfn)?;
    let old = match tables.read_mapped(SPACE_VA) {
        Err(PageTableError::NotMapped(_)) => "does not map",
        _ => "maps",
    };
    println!("check old address space: back on the boot tables, which {old} {SPACE_VA:#x}");

    for page in 0..PAGES {
        tables.unmap(space.mfn, SPACE_VA + page * PAGE_SIZE)?;
    }
    tables.flush()?;
    tables.unpin(space.mfn)?;
    println!("check teardown: {PAGES} pages unmapped, the L4 unpinned");
    Ok(())
}

guest_sdk::entry!(main);
