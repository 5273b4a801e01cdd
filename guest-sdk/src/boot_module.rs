//! The boot module (initrd) the domain builder hands the guest, named in
//! start_info: mapped in the boot region at `mod_start`, or, for a guest
//! that carries the MOD_START_PFN note ([`module_by_frame_number!`]), left
//! unmapped at pseudo-physical frames from `mod_start` on, as Linux takes
//! it.
//!
//! [`module_by_frame_number!`]: crate::module_by_frame_number

use crate::page_table::{ACCESSED, Frame, MmuBackend, PRESENT, PageTableError, PageTableManager};
use crate::start_info::StartInfo;
use xen_abi::page_table_entry::PAGE_SIZE;
use xen_abi::start_info::SifFlags;

/// Where the module's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleLocation {
    /// Mapped in the boot region from this virtual address.
    Mapped {
        /// Its first byte.
        va: u64,
    },
    /// In the domain's frames from this pseudo-physical frame on, unmapped.
    Frames {
        /// Its first frame.
        first_pfn: u64,
    },
}

/// The boot module start_info names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootModule {
    /// Its length in bytes.
    pub len: u64,
    /// Where it is.
    pub location: ModuleLocation,
}

impl BootModule {
    /// The module of `info`, if the builder gave one.
    pub fn of(info: &StartInfo) -> Option<BootModule> {
        if info.mod_len == 0 {
            return None;
        }
        let location = if info.flags & SifFlags::MOD_START_PFN.bits() != 0 {
            ModuleLocation::Frames {
                first_pfn: info.mod_start,
            }
        } else {
            ModuleLocation::Mapped { va: info.mod_start }
        };
        Some(BootModule {
            len: info.mod_len,
            location,
        })
    }

    /// The pages it covers, the last one partly.
    pub fn pages(&self) -> u64 {
        self.len.div_ceil(PAGE_SIZE)
    }

    /// Calls `each` with the module's bytes in order, a page at most at a
    /// time, the last one cut to its length. Frames given by number are
    /// mapped read-only, one at a time, at `window` (a frame of the pool the
    /// caller owns), which is given back its own frame afterwards.
    pub fn read<B: MmuBackend>(
        &self,
        tables: &mut PageTableManager<B>,
        window: &Frame,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), PageTableError> {
        let mut page = [0u8; PAGE_SIZE as usize];
        for index in 0..self.pages() {
            let va = match self.location {
                ModuleLocation::Mapped { va } => va + index * PAGE_SIZE,
                ModuleLocation::Frames { first_pfn } => {
                    let mfn = tables.frame(first_pfn + index).mfn;
                    tables.remap(window.va, mfn, PRESENT | ACCESSED)?;
                    window.va
                }
            };
            let length = (self.len - index * PAGE_SIZE).min(PAGE_SIZE) as usize;
            for (word, bytes) in page[..length.next_multiple_of(8)].chunks_exact_mut(8).enumerate() {
                bytes.copy_from_slice(&tables.backend().read_u64(va + word as u64 * 8).to_le_bytes());
            }
            each(&page[..length]);
        }
        if let ModuleLocation::Frames { .. } = self.location {
            tables.remap(window.va, window.mfn, PRESENT | ACCESSED | crate::page_table::RW)?;
        }
        Ok(())
    }
}

/// Adds the MOD_START_PFN note to the guest image: the builder then leaves
/// its boot module unmapped and names its first frame in start_info, as it
/// does for Linux. Use once, at the top level of the guest crate.
#[macro_export]
macro_rules! module_by_frame_number {
    () => {
        $crate::xen_note_u64!($crate::boot_module::XEN_ELFNOTE_MOD_START_PFN, 1);
    };
}

/// Adds a Xen ELF note of `kind` holding the 64-bit `value` to the guest
/// image, beside the SDK's own; e.g. `XEN_ELFNOTE_INIT_P2M` for where the
/// builder should map the p2m list. Use at the top level of the guest crate.
#[macro_export]
macro_rules! xen_note_u64 {
    ($kind:expr, $value:expr) => {
        ::core::arch::global_asm!(
            ".pushsection .note.Xen, \"a\", @note",
            ".balign 4",
            ".long 4, 8, {kind}",
            ".asciz \"Xen\"",
            ".balign 4",
            ".quad {value}",
            ".popsection",
            kind = const $kind,
            value = const $value,
        );
    };
}

// The note's number, for the macro.
#[doc(hidden)]
pub use xen_abi::elfnote::XEN_ELFNOTE_MOD_START_PFN;

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::FromZeros;

    #[test]
    fn start_info_names_a_mapped_module_by_address_and_an_unmapped_one_by_frame() {
        let mut info = StartInfo::new_zeroed();
        assert_eq!(BootModule::of(&info), None, "no module");
        info.mod_start = 0xffff_ffff_8040_0000;
        info.mod_len = 2 * PAGE_SIZE + 1;
        let module = BootModule::of(&info).unwrap();
        assert_eq!(
            module.location,
            ModuleLocation::Mapped {
                va: 0xffff_ffff_8040_0000
            }
        );
        assert_eq!(module.pages(), 3);
        info.flags = SifFlags::MOD_START_PFN.bits();
        info.mod_start = 0x400;
        assert_eq!(
            BootModule::of(&info).unwrap().location,
            ModuleLocation::Frames { first_pfn: 0x400 }
        );
    }
}
