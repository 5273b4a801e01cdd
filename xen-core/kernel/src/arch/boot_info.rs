//! What the PVH loader handed over, copied out of low memory before anything
//! else can overwrite it.
//!
//! The loader leaves `hvm_start_info`, the module list, the memory map and the
//! command line in ordinary RAM, some only 4-byte aligned (qboot on `microvm`),
//! so each is read with unaligned copies while the boot identity map still
//! covers the low 4 GiB.

use heapless::Vec;
use xen_abi::hvm_start_info::{HvmMemmapTableEntry, HvmModlistEntry, HvmStartInfo, XEN_HVM_START_MAGIC_VALUE};
use zerocopy::FromBytes;

/// Longest command line kept, including its terminator.
pub const COMMAND_LINE_CAPACITY: usize = 1024;
/// Most memory-map entries kept.
pub const MEMMAP_CAPACITY: usize = 128;
/// The boot identity map covers physical addresses below this.
const IDENTITY_MAPPED_LIMIT: u64 = 4 << 30;

/// The loader's hand-over, copied into hypervisor memory.
pub struct BootInfo {
    /// The hypervisor command line's bytes (without the NUL).
    pub command_line: Vec<u8, COMMAND_LINE_CAPACITY>,
    /// The firmware memory map.
    pub memory_map: Vec<HvmMemmapTableEntry, MEMMAP_CAPACITY>,
    /// The first boot module (the bundle), if any.
    pub module: Option<HvmModlistEntry>,
    /// How many modules the loader passed.
    pub module_count: u32,
    /// Memory-map entries dropped for lack of room.
    pub dropped_memmap_entries: u32,
}

/// Why the hand-over could not be read.
#[derive(Debug)]
pub enum BootInfoError {
    /// A structure lies outside the identity-mapped low 4 GiB.
    OutOfReach(&'static str, u64),
    /// The start-info magic is wrong: not a PVH boot.
    BadMagic(u32),
    /// The loader passed a version-0 start info, which has no memory map.
    NoMemoryMap,
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInfoError::OutOfReach(what, address) => {
                write!(f, "{what} at {address:#x} lies above the boot identity map")
            }
            BootInfoError::BadMagic(magic) => {
                write!(
                    f,
                    "hvm_start_info magic is {magic:#x}, expected {XEN_HVM_START_MAGIC_VALUE:#x}"
                )
            }
            BootInfoError::NoMemoryMap => write!(f, "the loader passed no memory map"),
        }
    }
}

/// Reads `T` from physical address `address` through the boot identity map.
fn read_physical<T: FromBytes>(what: &'static str, address: u64) -> Result<T, BootInfoError> {
    let size = core::mem::size_of::<T>() as u64;
    if address.checked_add(size).is_none_or(|end| end > IDENTITY_MAPPED_LIMIT) {
        return Err(BootInfoError::OutOfReach(what, address));
    }
    // SAFETY: the boot page tables identity-map every address below 4 GiB (checked
    // above), `T: FromBytes` accepts any bit pattern, and `read_unaligned` needs no
    // alignment. Nothing else runs yet, so the bytes are not being written.
    Ok(unsafe { core::ptr::read_unaligned(address as *const T) })
}

impl BootInfo {
    /// Copies the hand-over found at physical address `start_info`.
    pub fn copy_from_loader(start_info: u64) -> Result<BootInfo, BootInfoError> {
        let info: HvmStartInfo = read_physical("hvm_start_info", start_info)?;
        if info.magic != XEN_HVM_START_MAGIC_VALUE {
            return Err(BootInfoError::BadMagic(info.magic));
        }
        let mut boot = BootInfo {
            command_line: Vec::new(),
            memory_map: Vec::new(),
            module: None,
            module_count: info.nr_modules,
            dropped_memmap_entries: 0,
        };
        if info.cmdline_paddr != 0 {
            for offset in 0..COMMAND_LINE_CAPACITY as u64 - 1 {
                let byte: u8 = read_physical("command line", info.cmdline_paddr + offset)?;
                if byte == 0 || boot.command_line.push(byte).is_err() {
                    break;
                }
            }
        }
        if info.nr_modules > 0 {
            boot.module = Some(read_physical("module list", info.modlist_paddr)?);
        }
        if info.version < 1 || info.memmap_entries == 0 {
            return Err(BootInfoError::NoMemoryMap);
        }
        let entry_size = core::mem::size_of::<HvmMemmapTableEntry>() as u64;
        for index in 0..u64::from(info.memmap_entries) {
            let address = info.memmap_paddr.saturating_add(index * entry_size);
            let entry = read_physical("memory map", address)?;
            if boot.memory_map.push(entry).is_err() {
                boot.dropped_memmap_entries += 1;
            }
        }
        Ok(boot)
    }

    /// The command line as text; bytes that are not UTF-8 end it.
    pub fn command_line(&self) -> &str {
        match core::str::from_utf8(&self.command_line) {
            Ok(text) => text,
            Err(error) => core::str::from_utf8(&self.command_line[..error.valid_up_to()]).unwrap_or(""),
        }
    }
}
