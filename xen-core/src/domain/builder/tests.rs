//! The builder over a fake machine: every start-of-day rule of `xen.h`, checked by
//! walking the page tables it wrote.

use super::*;
use crate::arch::fake::{FakeM2p, FakeMemory};
use crate::domain::domain_table::DomainTable;
use crate::domain::elf_image::test_elf::{KERNEL_BASE, mini_os, ours};
use crate::mm::FrameInfo;
use crate::mm::PhysRange;
use crate::mm::frame_allocator::FrameAllocator;
use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;
use std::collections::BTreeSet;
use std::vec::Vec;
use zerocopy::FromBytes;

const HYPERVISOR_L4: Mfn = Mfn(0x10);

struct Machine {
    memory: FakeMemory,
    /// The machine's free frames, 0x100 on: room for 16384 frames.
    frames: FrameAllocator<256>,
    /// How many were free before building.
    free_at_start: u64,
    table: FrameTable<'static>,
    m2p: FakeM2p,
}

/// The hypervisor slot entries the frame table puts into validated L4s: the
/// ones the fake hypervisor L4 holds.
fn hypervisor_slots(memory: &FakeMemory) -> [u64; HYPERVISOR_L4_SLOTS] {
    core::array::from_fn(|slot| memory.read_u64(HYPERVISOR_L4.address() + (256 + slot as u64) * 8))
}

fn machine(frames: u64) -> Machine {
    let mut memory = FakeMemory::default();
    // A hypervisor L4 with something in every reserved slot.
    for slot in 256..272u64 {
        memory.write_u64(HYPERVISOR_L4.address() + slot * 8, 0xabc000 + slot * 0x1000 + 0x63);
    }
    let storage = std::vec![FrameInfo::FREE; 0x100 + frames as usize].leak();
    let mut allocator = FrameAllocator::new();
    let added = allocator.add_free_range(PhysRange::new(0x100 * PAGE_SIZE, (0x100 + frames) * PAGE_SIZE));
    assert_eq!(added.beyond_capacity, 0);
    let table = FrameTable::new(storage, hypervisor_slots(&memory));
    Machine {
        memory,
        frames: allocator,
        free_at_start: frames,
        table,
        m2p: FakeM2p::default(),
    }
}

/// A domain the tests build alone: moved out of the table it was built in
/// (tests only), with what the builder reported.
struct Built {
    domain: PvDomain,
    frame: TrapFrame,
    l4: Mfn,
    layout: BootLayout,
}

fn build(bytes: &[u8], nr_pages: u64, privileged: bool, machine: &mut Machine) -> Result<Built, BuildError> {
    build_with_module(bytes, nr_pages, privileged, &[], machine)
}

fn build_with_module(
    bytes: &[u8],
    nr_pages: u64,
    privileged: bool,
    module: &[u8],
    machine: &mut Machine,
) -> Result<Built, BuildError> {
    let domid = if privileged { 0 } else { 1 };
    let mut table = std::boxed::Box::new(DomainTable::new());
    let image = ElfImage::parse(bytes).unwrap();
    let notes = GuestNotes::from_image(&image).unwrap();
    let request = BuildRequest {
        image: &image,
        notes: &notes,
        name: "test",
        nr_pages,
        cmdline: "console=hvc0",
        module,
        hypervisor_l4: HYPERVISOR_L4,
    };
    let built = build_pv_domain(
        &request,
        table.vacant(domid).unwrap(),
        &mut machine.memory,
        &mut machine.frames,
        &mut machine.table,
        &mut machine.m2p,
    )?;
    let (frame, l4, layout) = (built.frame, built.l4, built.layout);
    Ok(Built {
        domain: table.remove(domid).unwrap(),
        frame,
        l4,
        layout,
    })
}

impl Machine {
    /// Destroys the domain and checks that every frame it was given came
    /// back free, with the frame table consistent before and after.
    fn tear_down(&mut self, built: Built) {
        self.check();
        let mut domain = built.domain;
        let taken = self.free_at_start - self.frames.free_frames();
        let frames = &mut self.frames;
        let teardown = domain.release_memory(&mut self.table, &mut self.memory, &mut |mfn| {
            frames.free(mfn).expect("a frame the allocator handed out, freed once");
        });
        assert_eq!(teardown.still_referenced, 0);
        assert_eq!(teardown.freed, taken, "every frame the builder took");
        assert_eq!(
            self.frames.free_frames(),
            self.free_at_start,
            "the allocator has them all back"
        );
        assert!(self.table.frames().iter().all(FrameInfo::is_free));
        self.check();
    }

    /// Panics if the frame table's counts disagree with the page tables.
    fn check(&self) {
        if let Err(violation) = self.table.check_invariants(&self.memory) {
            panic!("invariant broken: {violation}");
        }
    }
}

/// Walks a guest's page tables: physical address and leaf flags for `va`.
fn walk(memory: &FakeMemory, l4: Mfn, va: u64) -> Option<(u64, u64)> {
    let mut table = l4;
    for level in [4u32, 3, 2, 1] {
        let entry = memory.read_u64(table.address() + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
        if entry & PRESENT == 0 {
            return None;
        }
        if level == 1 {
            return Some((
                (entry & 0x000f_ffff_ffff_f000) | (va & 0xfff),
                entry & !0x000f_ffff_ffff_f000,
            ));
        }
        assert_eq!(entry & TABLE_FLAGS, TABLE_FLAGS, "level {level} entry for {va:#x}");
        table = Mfn::containing(entry & 0x000f_ffff_ffff_f000);
    }
    None
}

fn read_virtual(memory: &FakeMemory, l4: Mfn, va: u64, length: usize) -> Vec<u8> {
    (0..length as u64)
        .map(|offset| {
            let (pa, _) = walk(memory, l4, va + offset).expect("mapped");
            (memory.read_u64(pa & !7) >> ((pa & 7) * 8)) as u8
        })
        .collect()
}

/// The start info page `built` hands its guest, read through the guest's tables.
fn start_info(memory: &FakeMemory, built: &Built) -> StartInfo {
    let bytes = read_virtual(
        memory,
        built.l4,
        built.layout.start_info,
        core::mem::size_of::<StartInfo>(),
    );
    StartInfo::read_from_bytes(&bytes).unwrap()
}

#[test]
fn dom0_starts_at_its_entry_with_start_info_in_rsi() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let frame = built.frame;
    assert_eq!(frame.rip, KERNEL_BASE);
    assert_eq!(
        (frame.cs, frame.ss, frame.rflags),
        (u64::from(FLAT_KERNEL_CS), u64::from(FLAT_KERNEL_SS), 0x202)
    );
    assert_eq!(frame.rsi, built.layout.start_info);
    assert_eq!(frame.rsp, built.layout.stack + PAGE_SIZE);
    assert_eq!((frame.rax, frame.rdi, frame.rbx), (0, 0, 0), "other registers zero");
    assert!(frame.is_safe_guest_return());
    m.tear_down(built);
}

#[test]
fn the_image_is_loaded_where_its_notes_say() {
    let bytes = ours().build();
    let image = ElfImage::parse(&bytes).unwrap();
    let mut m = machine(8192);
    let built = build(&bytes, 4096, true, &mut m).unwrap();
    let text = &image.segments()[0];
    let loaded = read_virtual(&m.memory, built.l4, KERNEL_BASE, 64);
    assert_eq!(&loaded[..], &text.data(&image)[..64]);
    // The writable segment's bss (mem_size > file_size) reads as zero.
    let bss = read_virtual(&m.memory, built.l4, KERNEL_BASE + 0x3000 + 0x10, 32);
    assert!(bss.iter().all(|&b| b == 0));
    m.tear_down(built);
}

#[test]
fn the_hypercall_page_holds_the_stubs() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let slot = read_virtual(&m.memory, built.l4, KERNEL_BASE + 0x1000 + 18 * 32, 8);
    assert_eq!(&slot[..], &[0x51, 0x41, 0x53, 0xb8, 18, 0, 0, 0]);
    m.tear_down(built);
}

#[test]
fn start_info_describes_the_domain() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    assert_eq!(&info.magic[..14], b"xen-3.0-x86_64");
    assert_eq!(info.magic[14], 0);
    assert_eq!(info.nr_pages, 4096);
    assert_eq!(info.shared_info, built.domain.shared_info().address());
    assert_eq!(info.flags, (SifFlags::PRIVILEGED | SifFlags::INITDOMAIN).bits());
    assert_eq!(info.pt_base, built.layout.page_tables.start);
    assert_eq!(info.nr_pt_frames, built.layout.page_tables.pages());
    assert_eq!(info.mfn_list, built.layout.p2m.start);
    assert_eq!(&info.cmd_line[..13], b"console=hvc0\0");
    assert_eq!(info.store_mfn, 0, "dom0 has no xenstore page");
    m.tear_down(built);
}

/// A module of `pages` pages and a bit, each byte telling where it is.
fn module_of(pages: usize) -> Vec<u8> {
    (0..pages * PAGE_SIZE as usize + 100).map(|i| (i / 7) as u8).collect()
}

#[test]
fn a_module_is_mapped_after_the_kernel_and_named_in_start_info() {
    let module = module_of(2);
    let mut m = machine(8192);
    let built = build_with_module(&ours().build(), 4096, true, &module, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    assert_eq!(info.mod_start, built.layout.kernel.end, "right after the kernel");
    assert_eq!(info.mod_len, module.len() as u64);
    assert_eq!(info.flags & SifFlags::MOD_START_PFN.bits(), 0);
    let read = read_virtual(&m.memory, built.l4, info.mod_start, module.len() + 16);
    assert_eq!(&read[..module.len()], &module[..]);
    assert!(
        read[module.len()..].iter().all(|&b| b == 0),
        "the last page's tail is zero"
    );
    assert_eq!(info.mfn_list, built.layout.module.end, "the p2m follows it");
    m.tear_down(built);
}

#[test]
fn a_guest_asking_for_it_gets_its_module_by_frame_number_outside_the_region() {
    use crate::domain::elf_image::test_elf::{our_notes, ours_with, xen_u64};
    let notes = [our_notes(), xen_u64(xen_abi::elfnote::XEN_ELFNOTE_MOD_START_PFN, 1)].concat();
    let module = module_of(3);
    let mut m = machine(8192);
    let built = build_with_module(&ours_with(notes).build(), 4096, true, &module, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    assert_ne!(info.flags & SifFlags::MOD_START_PFN.bits(), 0);
    assert_eq!(
        info.mod_start, 1024,
        "after the 4 MiB region's 1024 frames, as Xen puts it"
    );
    assert_eq!(info.mod_len, module.len() as u64);
    assert_eq!(built.layout.module.pages(), 0, "nothing of it in the region");
    // Read it back through the p2m list, frame by frame.
    let p2m = read_virtual(&m.memory, built.l4, info.mfn_list, 4096 * 8);
    let mut read = Vec::new();
    for page in 0..4u64 {
        let entry = &p2m[(info.mod_start + page) as usize * 8..][..8];
        let mfn = Mfn(u64::from_le_bytes(entry.try_into().unwrap()));
        let mut bytes = [0u8; PAGE_SIZE as usize];
        m.memory.read_bytes(mfn.address(), &mut bytes);
        read.extend_from_slice(&bytes);
    }
    assert_eq!(&read[..module.len()], &module[..]);
    // The region (4 MiB) plus four module pages must fit: 1027 pages do not.
    let mut small = machine(8192);
    let refused = build_with_module(
        &ours_with([our_notes(), xen_u64(xen_abi::elfnote::XEN_ELFNOTE_MOD_START_PFN, 1)].concat()).build(),
        1027,
        true,
        &module,
        &mut small,
    );
    assert!(
        matches!(
            refused,
            Err(BuildError::Layout(LayoutError::TooLittleMemory { needed: 1028, .. }))
        ),
        "{:?}",
        refused.err()
    );
    m.tear_down(built);
}

#[test]
fn a_p2m_list_where_the_guest_asks_is_mapped_there_by_frames_after_the_first_block() {
    use crate::domain::elf_image::test_elf::{our_notes, ours_with, xen_u64};
    const LINUX_P2M: u64 = 0x80_0000_0000;
    let notes = [our_notes(), xen_u64(xen_abi::elfnote::XEN_ELFNOTE_INIT_P2M, LINUX_P2M)].concat();
    let mut m = machine(8192);
    let built = build(&ours_with(notes).build(), 4096, true, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    assert_eq!(info.mfn_list, LINUX_P2M);
    // A 4 MiB region is 1024 frames; then an L3, an L2, an L1 and the
    // list's 8 pages, as Xen numbers them.
    assert_eq!((info.first_p2m_pfn, info.nr_p2m_frames), (1024, 3 + 8));
    assert_eq!(built.layout.p2m.pages(), 0, "nothing of it in the region");
    assert_eq!(info.pt_base, built.layout.page_tables.start);
    assert_eq!(built.layout.page_tables.start, built.layout.start_info + PAGE_SIZE);
    // Read through the guest's tables at 512 GiB, it is the p2m: every entry
    // names the frame the M2P says backs that pfn.
    let list = read_virtual(&m.memory, built.l4, LINUX_P2M, 4096 * 8);
    for (pfn, entry) in list.chunks_exact(8).enumerate() {
        let mfn = u64::from_le_bytes(entry.try_into().unwrap());
        assert_eq!(m.m2p.entries.get(&mfn), Some(&(pfn as u64)), "pfn {pfn}");
    }
    // The list's first page is pfn 1027, after the three tables; the L3 is
    // pfn 1024 and hangs from L4 slot 1.
    let frame_of = |pfn: usize| u64::from_le_bytes(list[pfn * 8..pfn * 8 + 8].try_into().unwrap());
    assert_eq!(walk(&m.memory, built.l4, LINUX_P2M).unwrap().0 >> 12, frame_of(1027));
    let l4_slot_1 = m.memory.read_u64(built.l4.address() + 8);
    assert_eq!(l4_slot_1 >> 12 & 0xff_ffff_ffff, frame_of(1024));
    m.tear_down(built);
}

#[test]
fn p2m_and_m2p_agree_and_no_frame_is_used_twice() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let p2m = read_virtual(&m.memory, built.l4, built.layout.p2m.start, 4096 * 8);
    let mut seen = BTreeSet::new();
    for (pfn, entry) in p2m.chunks_exact(8).enumerate() {
        let mfn = u64::from_le_bytes(entry.try_into().unwrap());
        assert!(seen.insert(mfn), "mfn {mfn:#x} twice");
        assert_eq!(m.m2p.entries.get(&mfn), Some(&(pfn as u64)), "m2p of pfn {pfn}");
    }
    assert!(
        !seen.contains(&built.domain.shared_info().0),
        "shared_info is the hypervisor's page"
    );
    m.tear_down(built);
}

#[test]
fn page_tables_are_mapped_read_only_and_everything_else_writable() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let layout = built.layout;
    let mut va = layout.virt_base;
    while va < layout.end {
        let (_, flags) = walk(&m.memory, built.l4, va).unwrap_or_else(|| panic!("{va:#x} unmapped"));
        let is_table = layout.page_tables.start <= va && va < layout.page_tables.end;
        assert_eq!(flags & RW != 0, !is_table, "{va:#x}");
        assert_ne!(flags & USER, 0, "guest kernels run in ring 3");
        va += PAGE_SIZE;
    }
    assert_eq!(
        walk(&m.memory, built.l4, layout.end),
        None,
        "nothing mapped past the end"
    );
    m.tear_down(built);
}

#[test]
fn the_guest_l4_shares_the_hypervisor_slots_and_nothing_else_above_them() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    for slot in 256..272u64 {
        assert_eq!(
            m.memory.read_u64(built.l4.address() + slot * 8),
            m.memory.read_u64(HYPERVISOR_L4.address() + slot * 8)
        );
    }
    let used: Vec<u64> = (0..512u64)
        .filter(|&slot| m.memory.read_u64(built.l4.address() + slot * 8) != 0)
        .collect();
    assert_eq!(
        used.len(),
        17,
        "the 16 hypervisor slots and the kernel's slot 511: {used:?}"
    );
    m.tear_down(built);
}

#[test]
fn events_start_masked_in_every_vcpu_info() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    assert!(built.domain.events_masked(&m.memory));
    for vcpu in 0..32u64 {
        let word = m.memory.read_u64(built.domain.shared_info().address() + vcpu * 64);
        assert_eq!((word >> 8) & 0xff, 1, "vcpu {vcpu}");
    }
    m.tear_down(built);
}

#[test]
fn domus_get_ring_pages_in_start_info() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, false, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    let store_va = built.layout.xenstore.unwrap();
    assert_eq!(info.store_mfn << 12, walk(&m.memory, built.l4, store_va).unwrap().0);
    assert_eq!(info.flags, 0);
    m.tear_down(built);
}

#[test]
fn domus_rings_are_granted_and_offered_to_dom0_as_a_toolstack_does() {
    use crate::event::Channel;
    use xen_abi::grant_table::{GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE, GrantFlags};
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, false, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    let console = info.console.domu();
    assert_eq!((info.store_evtchn, console.evtchn), (STORE_PORT, CONSOLE_PORT));
    for port in [STORE_PORT, CONSOLE_PORT] {
        let entry = built.domain.events.entry(port as u16);
        assert_eq!(
            entry.channel,
            Channel::Unbound { remote: 0 },
            "port {port} offered to dom0"
        );
    }
    assert_eq!(built.domain.grants.frames_in_use(), 1);
    for (gref, frame) in [
        (GNTTAB_RESERVED_XENSTORE, info.store_mfn),
        (GNTTAB_RESERVED_CONSOLE, console.mfn),
    ] {
        let address = built.domain.grants.entry_address(gref).unwrap();
        let entry = m.memory.read_u64(address);
        assert_eq!(entry as u16, GrantFlags::PERMIT_ACCESS.bits(), "writable access");
        assert_eq!((entry >> 16) as u16, 0, "for dom0");
        assert_eq!(entry >> 32, frame, "entry {gref} grants its ring");
    }
    m.tear_down(built);
}

#[test]
fn dom0_gets_no_rings_nor_ports() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let info = start_info(&m.memory, &built);
    assert_eq!((info.store_mfn, info.store_evtchn), (0, 0));
    assert_eq!(built.domain.events.allocated().count(), 0);
    assert_eq!(
        built.domain.grants.frames_in_use(),
        1,
        "its table's first frame, as Xen's, with no entry filled"
    );
    m.tear_down(built);
}

#[test]
fn a_mini_os_image_builds_at_virtual_address_zero() {
    let mut m = machine(8192);
    let built = build(&mini_os().build(), 4096, false, &mut m).unwrap();
    assert_eq!(built.frame.rip, 0);
    assert_eq!(built.layout.virt_base, 0);
    assert!(walk(&m.memory, built.l4, 0).is_some());
    m.tear_down(built);
}

#[test]
fn oversized_or_unsatisfiable_requests_are_refused() {
    let mut m = machine(8192);
    assert_eq!(
        build(&ours().build(), MAX_DOMAIN_PAGES + 1, true, &mut m).err(),
        Some(BuildError::TooLarge(MAX_DOMAIN_PAGES + 1))
    );
    let mut small = machine(100);
    assert_eq!(
        build(&ours().build(), 4096, true, &mut small).err(),
        Some(BuildError::OutOfMemory)
    );
    let mut m = machine(8192);
    assert!(matches!(
        build(&ours().build(), 16, true, &mut m).err(),
        Some(BuildError::Layout(_))
    ));
}

#[test]
fn the_initial_tables_start_pinned_validated_and_loaded_as_on_xen() {
    let mut m = machine(8192);
    let built = build(&ours().build(), 4096, true, &mut m).unwrap();
    let l4 = m.table.frame(built.l4).unwrap();
    assert_eq!(
        (l4.page_type(), l4.is_pinned(), l4.is_validated()),
        (PageType::L4, true, true)
    );
    let base = built.domain.vcpu.kernel_base.as_ref().map(|base| base.mfn());
    assert_eq!(base, Some(built.l4), "the L4 is the vCPU's base pointer");
    let layout = built.layout;
    let mut va = layout.virt_base;
    while va < layout.end {
        let (address, _) = walk(&m.memory, built.l4, va).unwrap();
        let frame = m.table.frame(Mfn::containing(address)).unwrap();
        assert_eq!(frame.owner(), Some(0), "{va:#x}");
        if layout.page_tables.start <= va && va < layout.page_tables.end {
            assert!(frame.page_type().table_level().is_some(), "{va:#x} is a table");
            assert!(frame.is_validated());
        } else {
            assert_eq!(frame.page_type(), PageType::Writable, "{va:#x} is mapped writable");
        }
        va += PAGE_SIZE;
    }
    // shared_info is the domain's, mapped nowhere yet, and typed writable
    // for good, so it can never be made a page table.
    let shared = m.table.frame(built.domain.shared_info()).unwrap();
    assert_eq!(
        (shared.owner(), shared.page_type(), shared.type_count()),
        (Some(0), PageType::Writable, 1)
    );
    m.tear_down(built);
}

#[test]
fn a_frame_the_table_does_not_cover_stops_the_build() {
    let mut m = machine(8192);
    // A table that ends below the frames the allocator hands out.
    m.table = FrameTable::new(std::vec![FrameInfo::FREE; 0x100].leak(), hypervisor_slots(&m.memory));
    assert_eq!(
        build(&ours().build(), 4096, true, &mut m).err(),
        Some(BuildError::FrameNotAssignable(Mfn(0x100), Errno::EINVAL))
    );
}
