//! The boot sequence: from the loader's hand-over to the first verdict.
#![deny(unsafe_code)] // safe code over the arch wrappers; it sits here as the x86 side of the seam

use crate::arch::boot_info::BootInfo;
use crate::arch::boot_scratch::BootScratch;
use crate::arch::console;
use crate::arch::deliberate_fault::DeliberateFault;
use crate::arch::free_frames::FRAMES;
use crate::arch::m2p::{M2P, M2pWriter};
use crate::arch::physical_memory::DIRECT_MAP;
use crate::arch::physical_memory::reserved_bytes;
use crate::arch::qemu_exit::exit;
use crate::arch::trap_dispatch;
use crate::arch::{clock, fpu, frame_table_storage, gdt, idt, lapic, machine_map, paging, pic, rtc, syscall};
use core::fmt;
use xen_core::boot::bundle::BootBundle;
use xen_core::boot::command_line::CommandLine;
use xen_core::boot::memory_map::{MemoryMap, RegionKind};
use xen_core::debug_exit::DebugExit;
use xen_core::domain::kernel_image::KernelFile;
use xen_core::hypervisor::BootMachine;
use xen_core::mm::direct_map::direct_map_ranges;
use xen_core::mm::hypervisor_page_table::HypervisorPageTable;
use xen_core::mm::layout::{FIRST_HYPERVISOR_L4_SLOT, FRAME_TABLE_VIRT_START};
use xen_core::mm::mfn::PAGE_SIZE;
use xen_core::mm::{FrameTable, PhysRange};
use xen_core::time::vcpu_time::{Wallclock, unix_seconds};

/// The low 1 MiB: real-mode IVT, BIOS data, option ROMs, and on PVH the
/// loader's start info, module list and command line.
const FIRMWARE_AREA: PhysRange = PhysRange::new(0, 0x10_0000);

/// Prints a fatal boot error and ends the run with the failure code.
fn fatal(args: fmt::Arguments<'_>) -> ! {
    error!("{}", args);
    console::always(format_args!("*** hypervisor halted: failure"));
    exit(DebugExit::Failure)
}

/// Runs the boot sequence on the boot CPU; never returns.
pub fn start(start_info: u64) -> ! {
    console::init();
    gdt::init();
    idt::init();
    pic::disable();
    syscall::init();
    fpu::enable_sse_for_guests();

    let boot = BootInfo::copy_from_loader(start_info).unwrap_or_else(|e| fatal(format_args!("boot: {e}")));
    let command_line = CommandLine::new(boot.command_line());
    let log_level = command_line.log_level();
    if let Ok(level) = log_level {
        console::set_max_level(level);
    }
    info!(
        "xen-core {} (x86_64, PVH boot, linked in Xen's reserved slots)",
        env!("CARGO_PKG_VERSION")
    );
    info!("command line: \"{}\"", boot.command_line());
    if let Err(value) = log_level {
        warn!("unknown loglvl={value}, keeping the default level");
    }

    debug!(
        "boot: hvm_start_info at {start_info:#x}, {} module(s)",
        boot.module_count
    );
    let memory_map = build_memory_map(&boot);
    machine_map::record(&memory_map);
    let direct_map = add_free_frames(&memory_map);
    let paging = paging::build_and_switch(direct_map, &mut *FRAMES.lock())
        .unwrap_or_else(|e| fatal(format_args!("paging: {e}")));
    info!(
        "paging: own page tables at {}, direct map at slot 262, no-execute {}",
        paging.table.root(),
        if paging.no_execute { "on" } else { "unsupported" }
    );
    info!(
        "frames: {} free after building page tables",
        FRAMES.lock().free_frames()
    );

    if let Some(name) = command_line.crash() {
        let fault = DeliberateFault::from_name(name).unwrap_or_else(|| {
            fatal(format_args!(
                "crash={name}: unknown; use ud, pf, gp, de, stack, db, panic or triple"
            ))
        });
        warn!("crash={name}: taking a {fault:?} on purpose");
        fault.take();
        if !fault.is_survived() {
            fatal(format_args!("crash={name}: the fault did not happen"));
        }
        info!("crash={name}: survived, the boot goes on");
    }

    let bundle = list_bundle(&boot);
    start_domains(&bundle, paging.table, &memory_map)
}

/// Builds every domain the manifest lists, dom0 first, and starts
/// scheduling them; never returns.
fn start_domains(bundle: &BootBundle<'static>, mut table: HypervisorPageTable, memory_map: &MemoryMap) -> ! {
    if bundle.manifest().domains.is_empty() {
        fatal(format_args!("bundle: the manifest names no domain"))
    }
    lapic::init(&mut table, &mut *FRAMES.lock()).unwrap_or_else(|e| fatal(format_args!("local APIC: {e}")));
    let clock = clock::calibrate();
    info!(
        "clock: TSC {} kHz, APIC timer {} kHz (calibrated against the PIT)",
        clock.tsc_hz / 1000,
        clock.apic_hz / 1000
    );
    let (year, month, day, hour, minute, second) = rtc::read();
    let boot_seconds = unix_seconds(year, month, day, hour, minute, second);
    let wallclock = Wallclock {
        sec: boot_seconds.saturating_sub(clock::now_ns() / 1_000_000_000),
        nsec: 0,
    };
    info!("wall clock: {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC");
    let machine_frames = memory_map.highest_ram_address().div_ceil(PAGE_SIZE);
    {
        let mut m2p = M2P.lock();
        m2p.create(machine_frames, &mut table, &mut *FRAMES.lock())
            .unwrap_or_else(|e| fatal(format_args!("m2p: {e}")));
        debug!(
            "m2p: {} entries at {:#x}",
            m2p.entries(),
            xen_abi::mmu::MACH2PHYS_VIRT_START
        );
    }
    let mut frame_table = create_frame_table(machine_frames, &mut table);
    let mut log = console::log;
    let mut memory = DIRECT_MAP;
    // Room to unpack the largest compressed kernel, taken before building
    // and given back after.
    let scratch_needed = bundle
        .manifest()
        .domains
        .iter()
        .filter_map(|spec| match KernelFile::recognise(bundle.kernel_image(spec)) {
            Ok(KernelFile::Compressed(kernel)) => kernel.scratch_needed().ok(),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let mut scratch = BootScratch::take(scratch_needed).unwrap_or_else(|| {
        fatal(format_args!(
            "no {} MiB of contiguous memory to unpack a compressed kernel in",
            scratch_needed >> 20
        ))
    });
    let built = trap_dispatch::with_hypervisor(|hypervisor| {
        let machine = BootMachine {
            memory: &mut memory,
            frames: &mut *FRAMES.lock(),
            m2p: &mut M2pWriter,
            log: &mut log,
            scratch: scratch.bytes(),
        };
        hypervisor.build_boot_domains(bundle, &mut frame_table, table.root(), wallclock, machine)
    });
    if let Err(error) = built {
        fatal(format_args!("{error}"));
    }
    drop(scratch);
    info!(
        "frames: {} free after building the domains",
        FRAMES.lock().free_frames()
    );
    trap_dispatch::start(frame_table, table.root())
}

/// The frame table for machine frames `0..machine_frames`, all free, whose
/// validated L4s get the hypervisor's slots as they are now: everything the
/// hypervisor maps in them (image, direct map, M2P, the table itself) has
/// its L3 by this point, so the slots never change afterwards.
fn create_frame_table(machine_frames: u64, table: &mut HypervisorPageTable) -> FrameTable<'static> {
    let storage = frame_table_storage::take(machine_frames, table, &mut *FRAMES.lock())
        .unwrap_or_else(|e| fatal(format_args!("frame table: {e}")));
    let memory = DIRECT_MAP;
    let slots = core::array::from_fn(|index| table.l4_entry(&memory, FIRST_HYPERVISOR_L4_SLOT + index));
    info!(
        "frame table: {machine_frames} frames, {} KiB at {FRAME_TABLE_VIRT_START:#x}",
        core::mem::size_of_val(storage) >> 10
    );
    let mut frames = FrameTable::new(storage, slots);
    let address_bits = crate::arch::cpu_id::physical_address_bits();
    frames.set_physical_address_bits(address_bits);
    info!("L1TF: non-present entries may name only addresses of no RAM ({address_bits}-bit physical addresses)");
    frames
}

/// The firmware map with everything the loader placed reserved.
fn build_memory_map(boot: &BootInfo) -> MemoryMap {
    let mut map = MemoryMap::from_firmware(boot.memory_map.iter().copied())
        .unwrap_or_else(|e| fatal(format_args!("memory map: {e}")));
    if boot.dropped_memmap_entries > 0 {
        warn!(
            "memory map: {} entries beyond our table were ignored",
            boot.dropped_memmap_entries
        );
    }
    let mut reserve = |range, what| {
        map.reserve(range, what)
            .unwrap_or_else(|e| fatal(format_args!("memory map: {e}")));
    };
    reserve(FIRMWARE_AREA, "firmware and loader data");
    reserve(paging::image_physical_range(), "hypervisor image");
    if let Some(module) = boot.module {
        reserve(PhysRange::from_start_size(module.paddr, module.size), "boot bundle");
    }
    info!(
        "memory map ({} regions, {} MiB of RAM):",
        map.regions().count(),
        map.total_ram() >> 20
    );
    for region in map.regions() {
        info!("  {} {}", region.range, region.kind.name());
    }
    for reservation in map.reservations() {
        info!("  reserved {} {}", reservation.range, reservation.what);
    }
    map
}

/// Hands the usable RAM to the frame allocator; returns what to direct-map.
fn add_free_frames(map: &MemoryMap) -> heapless::Vec<PhysRange, 64> {
    let mut frames = FRAMES.lock();
    let mut beyond = 0;
    for range in map.usable_ranges() {
        beyond += frames.add_free_range(range).beyond_capacity;
    }
    if beyond > 0 {
        warn!("frames: {beyond} frames above 4 GiB are not used yet");
    }
    info!(
        "frames: {} free ({} MiB)",
        frames.free_frames(),
        (frames.free_frames() * PAGE_SIZE) >> 20
    );
    let memory = map
        .regions()
        .filter(|region| {
            matches!(
                region.kind,
                RegionKind::Ram | RegionKind::Acpi | RegionKind::Nvs | RegionKind::Pmem
            )
        })
        .map(|region| region.range);
    let (ranges, dropped) = direct_map_ranges(memory);
    if dropped > 0 {
        warn!("paging: {dropped} memory ranges left out of the direct map");
    }
    ranges
}

/// Finds the boot bundle, checks it and lists what it holds.
fn list_bundle(boot: &BootInfo) -> BootBundle<'static> {
    let module = boot
        .module
        .unwrap_or_else(|| fatal(format_args!("bundle: no boot module; pass the bundle with -initrd")));
    if boot.module_count > 1 {
        warn!("bundle: {} modules passed, only the first is used", boot.module_count);
    }
    let range = PhysRange::from_start_size(module.paddr, module.size);
    let bytes = reserved_bytes(range)
        .unwrap_or_else(|| fatal(format_args!("bundle: module at {range} is outside mapped memory")));
    let bundle = BootBundle::parse(bytes).unwrap_or_else(|e| fatal(format_args!("{e}")));
    info!(
        "bundle: {} bytes at {:#x}, {} files:",
        module.size,
        module.paddr,
        bundle.archive().files().count()
    );
    for file in bundle.archive().files() {
        info!("  file {:<24} {:>9} bytes", file.name, file.data.len());
    }
    for (index, domain) in bundle.manifest().domains.iter().enumerate() {
        let role = if index == 0 { "dom0" } else { "domU" };
        info!(
            "  domain {:<8} {role} kernel {} ({} bytes), ramdisk {} ({} bytes), {} MiB (max {}), cmdline \"{}\"",
            domain.name,
            domain.kernel,
            bundle.kernel_image(domain).len(),
            domain.ramdisk.unwrap_or("none"),
            bundle.module(domain).len(),
            domain.memory_bytes >> 20,
            domain.maxmem_bytes >> 20,
            domain.cmdline
        );
    }
    bundle
}
