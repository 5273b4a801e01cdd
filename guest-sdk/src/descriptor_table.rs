//! A GDT or LDT of the guest kernel's own, for segments beyond Xen's flat
//! ones (Linux's `__USER_CS` and `__USER_DS`, a 32-bit code segment, a
//! thread's data segment in an LDT).
//!
//! The rules a PV guest lives by: a descriptor table lies in frames of its
//! own, mapped nowhere writable while they are one (the hypervisor refuses
//! a frame it can still write, and types it so that it cannot be mapped
//! writable later); every descriptor is checked (no ring-0 or conforming
//! code, no system descriptors but call gates to its own code) and one of
//! DPL 0 is raised to 3; a change after that is one `update_descriptor`.
//! [`DescriptorTable`] does all of it with one frame of the page-table
//! manager's pool (512 entries).

use crate::hypercall::{set_gdt, update_descriptor};
use crate::page_table::{ACCESSED, Frame, MmuBackend, PRESENT, PageTableError, PageTableManager, RW};
use crate::xen_error::XenError;
use xen_abi::errno::Errno;
use xen_abi::mmu::{MMUEXT_SET_LDT, MmuextOp};

/// A flat writable 4 GiB data segment, DPL 3: Linux's `__USER_DS`.
pub const FLAT_DATA: u64 = data_segment(0, 0xf_ffff);
/// A 64-bit code segment, DPL 3: Linux's `__USER_CS`.
pub const CODE_64: u64 = 0x00af_fb00_0000_ffff;
/// Entries in one frame.
pub const ENTRIES_PER_FRAME: usize = 512;

/// A writable data segment at `base`, DPL 3, `limit_pages` + 1 pages long
/// (4 KiB granularity, 32-bit default size).
pub const fn data_segment(base: u32, limit_pages: u32) -> u64 {
    segment(base, limit_pages, 0xf3)
}

/// A 32-bit readable code segment at `base`, DPL 3, `limit_pages` + 1
/// pages long.
pub const fn code32_segment(base: u32, limit_pages: u32) -> u64 {
    segment(base, limit_pages, 0xfb)
}

/// Granularity and 32-bit size, `access` (present, DPL, type), base and a
/// 20-bit limit laid out as the CPU reads them.
const fn segment(base: u32, limit_pages: u32, access: u64) -> u64 {
    let base = base as u64;
    let limit = (limit_pages & 0xf_ffff) as u64;
    (limit & 0xffff) | (base & 0xff_ffff) << 16 | access << 40 | (limit >> 16) << 48 | 0xc << 52 | (base >> 24) << 56
}

/// Which table a [`DescriptorTable`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// The vCPU's GDT (`set_gdt`).
    Gdt,
    /// The vCPU's LDT (`MMUEXT_SET_LDT`).
    Ldt,
}

/// A descriptor table the vCPU uses now.
#[derive(Debug)]
pub struct DescriptorTable {
    frame: Frame,
    entries: usize,
    kind: TableKind,
}

impl DescriptorTable {
    /// Makes `descriptors` (entry 0 first, at most 512; a GDT's entry 0 is
    /// the null descriptor) the vCPU's `kind` table: written to a frame
    /// from `tables`' pool, the frame's mapping made read-only, the table
    /// handed to the hypervisor, which checks every entry.
    pub fn load<B: MmuBackend>(
        tables: &mut PageTableManager<B>,
        kind: TableKind,
        descriptors: &[u64],
    ) -> Result<Self, PageTableError> {
        if descriptors.len() > ENTRIES_PER_FRAME {
            return Err(PageTableError::Xen(XenError {
                code: Errno::EINVAL.as_return(),
            }));
        }
        // A fresh pool frame is mapped writable at its `va`, and only there.
        let frame = tables.allocate_frame()?;
        for (index, &descriptor) in descriptors.iter().enumerate() {
            tables.backend().write_u64(frame.va + index as u64 * 8, descriptor);
        }
        tables.remap(frame.va, frame.mfn, PRESENT | ACCESSED)?;
        let table = DescriptorTable {
            frame,
            entries: descriptors.len(),
            kind,
        };
        table.install(tables, table.entries)?;
        Ok(table)
    }

    /// The selector of entry `index` at RPL 3 (an LDT's with the table
    /// indicator set).
    pub fn selector(&self, index: u16) -> u16 {
        let table = if self.kind == TableKind::Ldt { 4 } else { 0 };
        index << 3 | table | 3
    }

    /// Replaces entry `index` (`update_descriptor`, checked as at load).
    pub fn update(&self, index: usize, descriptor: u64) -> Result<(), XenError> {
        if index >= self.entries {
            return Err(XenError {
                code: Errno::EINVAL.as_return(),
            });
        }
        update_descriptor((self.frame.mfn << 12) + index as u64 * 8, descriptor)
    }

    /// Stops using the table and maps its frame writable again (it is an
    /// ordinary page once the hypervisor dropped its descriptor type).
    pub fn release<B: MmuBackend>(self, tables: &mut PageTableManager<B>) -> Result<Frame, PageTableError> {
        self.install(tables, 0)?;
        tables.remap(self.frame.va, self.frame.mfn, PRESENT | RW | ACCESSED)?;
        Ok(self.frame)
    }

    /// Tells the hypervisor the table has `entries` (0: no table).
    fn install<B: MmuBackend>(&self, tables: &mut PageTableManager<B>, entries: usize) -> Result<(), PageTableError> {
        match self.kind {
            TableKind::Gdt if entries == 0 => set_gdt(&[], 0)?,
            TableKind::Gdt => set_gdt(&[self.frame.mfn], entries as u64)?,
            TableKind::Ldt => tables.backend().mmuext_op(&[MmuextOp {
                cmd: MMUEXT_SET_LDT,
                _pad0: 0,
                arg1: if entries == 0 { 0 } else { self.frame.va },
                arg2: entries as u64,
            }])?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page_table::tests::manager;

    #[test]
    fn segments_are_laid_out_as_the_cpu_reads_them() {
        assert_eq!(FLAT_DATA, 0x00cf_f300_0000_ffff, "Linux's __USER_DS descriptor");
        assert_eq!(
            code32_segment(0, 0xf_ffff),
            0x00cf_fb00_0000_ffff,
            "Linux's __USER32_CS"
        );
        // Base 0x12345678, limit 2 pages.
        assert_eq!(data_segment(0x1234_5678, 1), 0x12c0_f334_5678_0001);
    }

    #[test]
    fn an_ldt_is_written_made_read_only_and_handed_over_then_released() {
        let mut tables = manager();
        let table = DescriptorTable::load(&mut tables, TableKind::Ldt, &[0, FLAT_DATA]).unwrap();
        assert_eq!(table.selector(1), 0xf, "entry 1, LDT, RPL 3");
        let va = table.frame.va;
        assert_eq!(tables.backend().read_u64(va + 8), FLAT_DATA);
        let &(remapped, entry, _) = tables.backend().remaps.last().unwrap();
        assert_eq!(
            (remapped, entry & RW),
            (va, 0),
            "mapped read-only before it is handed over"
        );
        let ops = &tables.backend().ops;
        let last = ops.last().unwrap();
        assert_eq!((last.cmd, last.arg1, last.arg2), (MMUEXT_SET_LDT, va, 2));
        let frame = table.release(&mut tables).unwrap();
        let last = tables.backend().ops.last().unwrap();
        assert_eq!((last.cmd, last.arg1, last.arg2), (MMUEXT_SET_LDT, 0, 0), "no LDT");
        assert_eq!(frame.va, va);
        let &(_, entry, _) = tables.backend().remaps.last().unwrap();
        assert_ne!(entry & RW, 0, "writable again afterwards");
    }

    #[test]
    fn more_than_a_frame_of_entries_is_refused_before_anything_is_taken() {
        let mut tables = manager();
        let free = tables.free_frames();
        let result = DescriptorTable::load(&mut tables, TableKind::Gdt, &[0; 513]);
        assert!(matches!(result, Err(PageTableError::Xen(_))));
        assert_eq!(tables.free_frames(), free);
    }
}
