//! Where the PV domain builder puts things in a new domain's address space.
//!
//! Xen's PV builder lays a domain out in one contiguous virtual region starting
//! at `VIRT_BASE`, pseudo-physical page N at `VIRT_BASE + N * 4096`, in this
//! order, each element page-aligned: the kernel image, the module, the p2m list,
//! start_info, (domU only) the xenstore and console ring pages, the bootstrap
//! page tables, one stack page. The end is rounded up to 4 MiB with at least
//! 512 KiB free after the stack. The page tables map the whole region, so their
//! count depends on the end, which depends on their count: computed by
//! iterating until it is stable.

use super::p2m_mapping::P2mMapping;
use crate::mm::Pfn;
use crate::mm::mfn::PAGE_SIZE;
use core::fmt;
use xen_abi::start_info::{BOOTSTRAP_ALIGN, BOOTSTRAP_MIN_PADDING};

/// Granularity the region's end is rounded to.
const END_ALIGN: u64 = BOOTSTRAP_ALIGN;
/// Free space required between the stack page and the end.
const MIN_SLACK: u64 = BOOTSTRAP_MIN_PADDING;

/// What the builder must place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutRequest {
    /// `VIRT_BASE`: virtual address of pseudo-physical page 0.
    pub virt_base: u64,
    /// First virtual address of the kernel image (at or above `virt_base`).
    pub kernel_start: u64,
    /// End of the kernel image (exclusive).
    pub kernel_end: u64,
    /// Size of the boot module mapped in the region, 0 for none.
    pub module_bytes: u64,
    /// Pages of a boot module left out of the region, given by frame number
    /// (the guest's MOD_START_PFN note); 0 for none.
    pub unmapped_module_pages: u64,
    /// Pages of memory the domain gets.
    pub nr_pages: u64,
    /// Where the guest wants its p2m list (its INIT_P2M note), outside the
    /// region; `None` to put it in the region.
    pub init_p2m: Option<u64>,
    /// Whether to place xenstore and console ring pages (domU, not dom0).
    pub ring_pages: bool,
}

/// A page-aligned virtual range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualRange {
    /// First address.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
}

impl VirtualRange {
    /// Number of pages in the range.
    pub const fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE_SIZE
    }
}

/// The computed layout; every address is virtual, in the domain's space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootLayout {
    /// `VIRT_BASE`.
    pub virt_base: u64,
    /// The kernel image, rounded out to pages.
    pub kernel: VirtualRange,
    /// The module mapped in the region (empty if none).
    pub module: VirtualRange,
    /// The first frame of a module left unmapped: Xen's builder gives the
    /// region a power-of-two block of frames and the module the frames
    /// right after it.
    pub unmapped_module: Option<Pfn>,
    /// The p2m list: `nr_pages` 8-byte entries (empty when it is mapped
    /// where the guest asked, [`BootLayout::p2m_mapping`]).
    pub p2m: VirtualRange,
    /// The p2m list mapped where the guest asked (INIT_P2M).
    pub p2m_mapping: Option<P2mMapping>,
    /// The start_info page.
    pub start_info: u64,
    /// The xenstore ring page (domU only).
    pub xenstore: Option<u64>,
    /// The console ring page (domU only).
    pub console: Option<u64>,
    /// The bootstrap page tables: the L4 first, then L3s, L2s, L1s.
    pub page_tables: VirtualRange,
    /// The boot stack page; the initial RSP is its end.
    pub stack: u64,
    /// End of the mapped region (`v_end`): 4 MiB aligned.
    pub end: u64,
    /// How many page-table frames of each level: L4, L3, L2, L1.
    pub tables_per_level: [u64; 4],
}

/// Why a domain cannot be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The kernel starts below `VIRT_BASE` or ends before it starts.
    KernelOutsideRegion,
    /// The region does not fit in the domain's memory.
    TooLittleMemory {
        /// Pages the region needs.
        needed: u64,
        /// Pages the domain has.
        available: u64,
    },
    /// An address computation overflowed: the image is placed too high.
    AddressOverflow,
    /// The p2m list the guest asked for (INIT_P2M) would touch the boot
    /// region or leave the guest's address space.
    P2mPlacement(u64),
    /// VIRT_BASE is not page-aligned.
    MisalignedBase(u64),
    /// The region would reach into the hypervisor's L4 slots 256–271 (or
    /// the non-canonical gap): its page tables would edit mappings every
    /// address space shares.
    OutsideGuestSpace {
        /// Start of the region.
        start: u64,
        /// End of the region.
        end: u64,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::KernelOutsideRegion => write!(f, "domain layout: kernel image lies below VIRT_BASE"),
            LayoutError::TooLittleMemory { needed, available } => write!(
                f,
                "domain layout: the boot region needs {needed} pages ({} MiB), the domain has {available}",
                (needed * PAGE_SIZE) >> 20
            ),
            LayoutError::AddressOverflow => write!(f, "domain layout: addresses overflow the address space"),
            LayoutError::P2mPlacement(address) => write!(
                f,
                "domain layout: the p2m list at {address:#x} touches the boot region or leaves the guest's space"
            ),
            LayoutError::MisalignedBase(base) => write!(f, "domain layout: VIRT_BASE {base:#x} is not page-aligned"),
            LayoutError::OutsideGuestSpace { start, end } => {
                write!(
                    f,
                    "domain layout: region {start:#x}-{end:#x} leaves the guest's address space"
                )
            }
        }
    }
}

/// Rounds `value` up to a multiple of `align` (a power of two), or fails.
fn round_up(value: u64, align: u64) -> Result<u64, LayoutError> {
    value
        .checked_next_multiple_of(align)
        .ok_or(LayoutError::AddressOverflow)
}

/// Page-table frames per level (L4, L3, L2, L1) needed to map `[start, end)`
/// with 4 KiB pages: one table per distinct 512 GiB, 1 GiB and 2 MiB span.
pub fn tables_needed(start: u64, end: u64) -> [u64; 4] {
    let spans = |shift: u32| {
        if end <= start {
            0
        } else {
            ((end - 1) >> shift) - (start >> shift) + 1
        }
    };
    [1, spans(39), spans(30), spans(21)]
}

impl BootLayout {
    /// Lays out a domain as Xen's PV builder does.
    pub fn compute(request: &LayoutRequest) -> Result<BootLayout, LayoutError> {
        if !request.virt_base.is_multiple_of(PAGE_SIZE) {
            return Err(LayoutError::MisalignedBase(request.virt_base));
        }
        if request.kernel_start < request.virt_base || request.kernel_end < request.kernel_start {
            return Err(LayoutError::KernelOutsideRegion);
        }
        let kernel_start = request.kernel_start - request.kernel_start % PAGE_SIZE;
        let kernel = VirtualRange {
            start: kernel_start,
            end: round_up(request.kernel_end, PAGE_SIZE)?,
        };
        let module_end = round_up(
            kernel
                .end
                .checked_add(request.module_bytes)
                .ok_or(LayoutError::AddressOverflow)?,
            PAGE_SIZE,
        )?;
        let module = VirtualRange {
            start: kernel.end,
            end: module_end,
        };
        let p2m_bytes = match request.init_p2m {
            Some(_) => 0,
            None => request.nr_pages.checked_mul(8).ok_or(LayoutError::AddressOverflow)?,
        };
        let p2m = VirtualRange {
            start: module.end,
            end: round_up(
                module.end.checked_add(p2m_bytes).ok_or(LayoutError::AddressOverflow)?,
                PAGE_SIZE,
            )?,
        };
        let start_info = p2m.end;
        let mut next = start_info + PAGE_SIZE;
        let (xenstore, console) = if request.ring_pages {
            next += 2 * PAGE_SIZE;
            (Some(start_info + PAGE_SIZE), Some(start_info + 2 * PAGE_SIZE))
        } else {
            (None, None)
        };
        let tables_start = next;
        // Iterate: more tables may move the end far enough to need more tables.
        let mut table_count = 1;
        let (tables, stack, end, per_level) = loop {
            let tables_end = tables_start
                .checked_add(table_count * PAGE_SIZE)
                .ok_or(LayoutError::AddressOverflow)?;
            let stack = tables_end;
            let stack_end = stack.checked_add(PAGE_SIZE).ok_or(LayoutError::AddressOverflow)?;
            let mut end = round_up(stack_end, END_ALIGN)?;
            if end - stack_end < MIN_SLACK {
                end = end.checked_add(END_ALIGN).ok_or(LayoutError::AddressOverflow)?;
            }
            let per_level = tables_needed(request.virt_base, end);
            let needed: u64 = per_level.iter().sum();
            if needed <= table_count {
                break (
                    VirtualRange {
                        start: tables_start,
                        end: tables_end,
                    },
                    stack,
                    end,
                    per_level,
                );
            }
            table_count = needed;
        };
        if !crate::guest_copy::is_guest_range(request.virt_base, end - request.virt_base) {
            return Err(LayoutError::OutsideGuestSpace {
                start: request.virt_base,
                end,
            });
        }
        let mapped = (end - request.virt_base) / PAGE_SIZE;
        let (mut needed, unmapped_module) = if request.unmapped_module_pages > 0 {
            let first = mapped.next_power_of_two();
            let needed = first
                .checked_add(request.unmapped_module_pages)
                .ok_or(LayoutError::AddressOverflow)?;
            (needed, Some(Pfn(first)))
        } else {
            (mapped, None)
        };
        let p2m_mapping = match request.init_p2m {
            None => None,
            Some(address) => {
                // Xen's first block of frames covers the region less a
                // mapped module, whose frames follow it as an unmapped
                // module's do; the mapping's frames come next.
                let block = (mapped - module.pages()).next_power_of_two();
                let first = block + module.pages() + request.unmapped_module_pages;
                let mapping = P2mMapping::new(address, request.nr_pages, first, (request.virt_base, end))
                    .ok_or(LayoutError::AddressOverflow)?;
                if mapping.overlaps_region() || !crate::guest_copy::is_guest_range(address, mapping.end - address) {
                    return Err(LayoutError::P2mPlacement(address));
                }
                // Xen's own check: the list's pages and three tables fit.
                needed = first + mapping.pages() + 3;
                Some(mapping)
            }
        };
        if needed > request.nr_pages {
            return Err(LayoutError::TooLittleMemory {
                needed,
                available: request.nr_pages,
            });
        }
        Ok(BootLayout {
            virt_base: request.virt_base,
            kernel,
            module,
            unmapped_module,
            p2m,
            p2m_mapping,
            start_info,
            xenstore,
            console,
            page_tables: tables,
            stack,
            end,
            tables_per_level: per_level,
        })
    }

    /// The pseudo-physical frame number of virtual address `va` in the region.
    pub const fn pfn(&self, va: u64) -> Pfn {
        Pfn((va - self.virt_base) / PAGE_SIZE)
    }

    /// Pages the bootstrap region covers (PFNs `0..mapped_pages()`).
    pub const fn mapped_pages(&self) -> u64 {
        (self.end - self.virt_base) / PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const TOP: u64 = 0xFFFF_FFFF_8000_0000;

    fn dom0(kernel_bytes: u64, nr_pages: u64) -> LayoutRequest {
        LayoutRequest {
            virt_base: TOP,
            kernel_start: TOP,
            kernel_end: TOP + kernel_bytes,
            module_bytes: 0,
            unmapped_module_pages: 0,
            init_p2m: None,
            nr_pages,
            ring_pages: false,
        }
    }

    #[test]
    fn elements_follow_each_other_in_xens_order() {
        let layout = BootLayout::compute(&dom0(3 * PAGE_SIZE + 100, 8192)).unwrap();
        assert_eq!(
            layout.kernel,
            VirtualRange {
                start: TOP,
                end: TOP + 4 * PAGE_SIZE
            }
        );
        assert_eq!(layout.module.pages(), 0);
        // 8192 entries of 8 bytes: 16 pages of p2m.
        assert_eq!(
            layout.p2m,
            VirtualRange {
                start: TOP + 4 * PAGE_SIZE,
                end: TOP + 20 * PAGE_SIZE
            }
        );
        assert_eq!(layout.start_info, TOP + 20 * PAGE_SIZE);
        assert_eq!(layout.xenstore, None);
        assert_eq!(layout.page_tables.start, TOP + 21 * PAGE_SIZE);
        assert_eq!(layout.stack, layout.page_tables.end);
        assert_eq!(layout.end % (4 * MIB), 0);
        assert!(layout.end - (layout.stack + PAGE_SIZE) >= 512 * 1024);
    }

    #[test]
    fn page_tables_cover_the_whole_region() {
        for kernel in [PAGE_SIZE, 3 * MIB, 9 * MIB + 5] {
            let layout = BootLayout::compute(&dom0(kernel, 16384)).unwrap();
            let needed: u64 = tables_needed(layout.virt_base, layout.end).iter().sum();
            assert_eq!(layout.page_tables.pages(), needed, "kernel of {kernel} bytes");
        }
        // 4 MiB at the top 2 GiB: one L4, one L3, one L2, two L1s.
        let layout = BootLayout::compute(&dom0(PAGE_SIZE, 8192)).unwrap();
        assert_eq!(layout.end, TOP + 4 * MIB);
        assert_eq!(layout.tables_per_level, [1, 1, 1, 2]);
    }

    #[test]
    fn a_mapped_module_follows_the_kernel_and_pushes_the_p2m_along() {
        let request = LayoutRequest {
            module_bytes: 2 * PAGE_SIZE + 1,
            ..dom0(3 * PAGE_SIZE + 100, 8192)
        };
        let layout = BootLayout::compute(&request).unwrap();
        assert_eq!(
            layout.module,
            VirtualRange {
                start: TOP + 4 * PAGE_SIZE,
                end: TOP + 7 * PAGE_SIZE
            }
        );
        assert_eq!(layout.p2m.start, layout.module.end);
        assert_eq!(layout.unmapped_module, None);
    }

    #[test]
    fn an_unmapped_module_takes_the_frames_after_the_regions_power_of_two_block() {
        // A 4 MiB region is 1024 pages, already a power of two.
        let request = LayoutRequest {
            unmapped_module_pages: 3,
            ..dom0(PAGE_SIZE, 8192)
        };
        let layout = BootLayout::compute(&request).unwrap();
        assert_eq!(layout.module.pages(), 0, "not in the region");
        assert_eq!(layout.p2m.start, layout.kernel.end);
        assert_eq!(layout.end, TOP + 4 * MIB);
        assert_eq!(layout.unmapped_module, Some(Pfn(1024)));
        // A 12 MiB region (3072 pages) is given 4096.
        let request = LayoutRequest {
            unmapped_module_pages: 3,
            ..dom0(9 * MIB, 8192)
        };
        let layout = BootLayout::compute(&request).unwrap();
        assert_eq!(layout.mapped_pages(), 3072);
        assert_eq!(layout.unmapped_module, Some(Pfn(4096)));
        // The block and the module must both fit, as Xen requires.
        let request = LayoutRequest {
            unmapped_module_pages: 3,
            ..dom0(9 * MIB, 4098)
        };
        assert_eq!(
            BootLayout::compute(&request),
            Err(LayoutError::TooLittleMemory {
                needed: 4099,
                available: 4098
            })
        );
    }

    #[test]
    fn domus_get_xenstore_and_console_pages_after_start_info() {
        let request = LayoutRequest {
            ring_pages: true,
            ..dom0(PAGE_SIZE, 8192)
        };
        let layout = BootLayout::compute(&request).unwrap();
        assert_eq!(layout.xenstore, Some(layout.start_info + PAGE_SIZE));
        assert_eq!(layout.console, Some(layout.start_info + 2 * PAGE_SIZE));
        assert_eq!(layout.page_tables.start, layout.start_info + 3 * PAGE_SIZE);
    }

    #[test]
    fn a_mini_os_image_at_va_zero_lays_out_from_zero() {
        let request = LayoutRequest {
            virt_base: 0,
            kernel_start: 0,
            kernel_end: 0x5_0000,
            module_bytes: 0,
            unmapped_module_pages: 0,
            init_p2m: None,
            nr_pages: 8192,
            ring_pages: true,
        };
        let layout = BootLayout::compute(&request).unwrap();
        assert_eq!(layout.pfn(layout.start_info), Pfn(layout.start_info / PAGE_SIZE));
        assert_eq!(layout.end % (4 * MIB), 0);
    }

    #[test]
    fn slack_below_512_kib_adds_another_4_mib() {
        // Make the stack end just below a 4 MiB boundary.
        let mut kernel = 4 * MIB - 64 * 1024;
        loop {
            let layout = BootLayout::compute(&dom0(kernel, 65536)).unwrap();
            let stack_end = layout.stack + PAGE_SIZE;
            assert!(layout.end - stack_end >= 512 * 1024);
            assert!(layout.end - stack_end < 512 * 1024 + 4 * MIB);
            if stack_end % (4 * MIB) > 4 * MIB - 512 * 1024 || kernel > 8 * MIB {
                break;
            }
            kernel += 64 * 1024;
        }
    }

    #[test]
    fn a_region_reaching_the_hypervisor_slots_is_refused() {
        // A kernel ending just below 2^47: p2m, tables and the 4 MiB rounding
        // would run into slot 256, the hypervisor's (and every guest's) M2P.
        let top = 0x0000_8000_0000_0000;
        let request = LayoutRequest {
            virt_base: top - 8 * MIB,
            kernel_start: top - 8 * MIB,
            kernel_end: top - MIB,
            module_bytes: 0,
            unmapped_module_pages: 0,
            init_p2m: None,
            nr_pages: 65536,
            ring_pages: false,
        };
        assert!(matches!(
            BootLayout::compute(&request),
            Err(LayoutError::OutsideGuestSpace { .. })
        ));
        let hole = LayoutRequest {
            virt_base: 0xFFFF_8000_0000_0000,
            kernel_start: 0xFFFF_8000_0000_0000,
            kernel_end: 0xFFFF_8000_0001_0000,
            ..request
        };
        assert!(matches!(
            BootLayout::compute(&hole),
            Err(LayoutError::OutsideGuestSpace { .. })
        ));
    }

    #[test]
    fn an_unaligned_virt_base_is_refused() {
        let request = LayoutRequest {
            virt_base: TOP + 0x800,
            kernel_start: TOP + 0x800,
            ..dom0(PAGE_SIZE, 8192)
        };
        assert_eq!(
            BootLayout::compute(&request),
            Err(LayoutError::MisalignedBase(TOP + 0x800))
        );
    }

    #[test]
    fn too_little_memory_is_refused() {
        let error = BootLayout::compute(&dom0(8 * MIB, 1024)).unwrap_err();
        assert!(
            matches!(error, LayoutError::TooLittleMemory { available: 1024, .. }),
            "{error}"
        );
    }

    #[test]
    fn hostile_placements_are_refused_not_overflowed() {
        let mut request = dom0(PAGE_SIZE, 8192);
        request.kernel_start = TOP - PAGE_SIZE;
        assert_eq!(BootLayout::compute(&request), Err(LayoutError::KernelOutsideRegion));
        let high = LayoutRequest {
            virt_base: u64::MAX - 4 * PAGE_SIZE + 1,
            kernel_start: u64::MAX - 4 * PAGE_SIZE + 1,
            kernel_end: u64::MAX - 3 * PAGE_SIZE + 1,
            module_bytes: 0,
            unmapped_module_pages: 0,
            init_p2m: None,
            nr_pages: 8192,
            ring_pages: false,
        };
        assert_eq!(BootLayout::compute(&high), Err(LayoutError::AddressOverflow));
        let huge = LayoutRequest {
            nr_pages: u64::MAX / 4,
            ..dom0(PAGE_SIZE, 0)
        };
        assert_eq!(BootLayout::compute(&huge), Err(LayoutError::AddressOverflow));
    }
}
