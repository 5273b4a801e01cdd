//! The PV start-of-day page of `xen.h`: `start_info`, its SIF_* flags and the
//! multiboot module list.
//!
//! The domain builder fills a [`StartInfo`] in its own page inside the initial
//! mapping and passes its virtual address in RSI. Fields from `magic` to
//! `console` are rewritten on resume; the rest are set at first boot only.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The interface string a 64-bit PV guest finds at the start of `magic`
/// (NUL-terminated there; the terminator is not part of this constant).
pub const XEN_START_INFO_MAGIC: &[u8] = b"xen-3.0-x86_64";

/// `MAX_GUEST_CMDLINE`: size of [`StartInfo::cmd_line`], including its NUL.
pub const MAX_GUEST_CMDLINE: usize = 1024;

/// The initial mapping ends on a boundary of this many bytes (`xen.h`'s
/// start-of-day memory layout, rule 2).
pub const BOOTSTRAP_ALIGN: u64 = 4 << 20;
/// Mapped padding guaranteed after the last bootstrap element, the stack
/// (rule 7): room a kernel may use before it maps anything itself.
pub const BOOTSTRAP_MIN_PADDING: u64 = 512 << 10;

bitflags! {
    /// `SIF_*`: what [`StartInfo::flags`] says about the domain and its module.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct SifFlags: u32 {
        /// The domain is privileged.
        const PRIVILEGED = 1 << 0;
        /// The domain is the initial control domain (dom0).
        const INITDOMAIN = 1 << 1;
        /// `mod_start` holds a list of [`XenMultibootModList`] entries.
        const MULTIBOOT_MOD = 1 << 2;
        /// `mod_start` is a PFN, not a virtual address.
        const MOD_START_PFN = 1 << 3;
        /// The toolstack understands a virtually mapped p2m list.
        const VIRT_P2M_4TOOLS = 1 << 4;
        /// Byte reserved for power-management options.
        const PM_MASK = 0xff << 8;
    }
}

/// `struct start_info` (1168 bytes), x86_64 layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct StartInfo {
    /// Interface string, [`XEN_START_INFO_MAGIC`] followed by NULs.
    pub magic: [u8; 32],
    /// Number of pages given to the domain.
    pub nr_pages: u64,
    /// Machine address of the shared-info page.
    pub shared_info: u64,
    /// [`SifFlags`] bits.
    pub flags: u32,
    /// Implicit C padding before `store_mfn`; zero.
    pub _pad0: u32,
    /// MFN of the xenstore ring page.
    pub store_mfn: u64,
    /// Local event-channel port of the xenstore connection.
    pub store_evtchn: u32,
    /// Implicit C padding before `console`; zero.
    pub _pad1: u32,
    /// The console union: [`StartInfoConsole::domu`] for unprivileged domains,
    /// [`StartInfoConsole::dom0`] for the initial domain.
    pub console: StartInfoConsole,
    /// Virtual address of the bootstrap L4 page table.
    pub pt_base: u64,
    /// Number of bootstrap page-table frames.
    pub nr_pt_frames: u64,
    /// Virtual address of the p2m array (`nr_pages` entries of 8 bytes).
    pub mfn_list: u64,
    /// Virtual address of the boot module, or its PFN with
    /// [`SifFlags::MOD_START_PFN`]; 0 when there is none.
    pub mod_start: u64,
    /// Size of the boot module in bytes.
    pub mod_len: u64,
    /// NUL-terminated command line (C declares it `int8_t`).
    pub cmd_line: [u8; MAX_GUEST_CMDLINE],
    /// First PFN of the page-table and p2m frames of a relocated p2m, else 0.
    pub first_p2m_pfn: u64,
    /// Number of those frames.
    pub nr_p2m_frames: u64,
}

/// The 16-byte `console` union of [`StartInfo`], read and written through
/// one of its two views.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct StartInfoConsole {
    /// The union's bytes.
    pub raw: [u8; 16],
}

/// `console.domU`: the console ring of an unprivileged domain.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ConsoleDomU {
    /// MFN of the console ring page.
    pub mfn: u64,
    /// Local event-channel port of the console.
    pub evtchn: u32,
    /// Implicit C padding at the end of the union; zero.
    pub _pad0: u32,
}

/// `console.dom0`: where the initial domain finds its `dom0_vga_console_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ConsoleDom0 {
    /// Offset of the console-info structure within the start-info page.
    pub info_off: u32,
    /// Size of that structure.
    pub info_size: u32,
    /// Rest of the union (the larger domU view); zero.
    pub _pad0: [u32; 2],
}

impl StartInfoConsole {
    /// The domU view.
    pub fn domu(&self) -> &ConsoleDomU {
        zerocopy::transmute_ref!(self)
    }

    /// The domU view, writable.
    pub fn domu_mut(&mut self) -> &mut ConsoleDomU {
        zerocopy::transmute_mut!(self)
    }

    /// The dom0 view.
    pub fn dom0(&self) -> &ConsoleDom0 {
        zerocopy::transmute_ref!(self)
    }

    /// The dom0 view, writable.
    pub fn dom0_mut(&mut self) -> &mut ConsoleDom0 {
        zerocopy::transmute_mut!(self)
    }
}

/// `struct xen_multiboot_mod_list` (16 bytes): one descriptor of a multiboot
/// package ([`SifFlags::MULTIBOOT_MOD`]). The descriptors sit at the start of the
/// package, addresses are relative to the package, and a descriptor whose
/// `mod_start` is 0 ends the list.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMultibootModList {
    /// Offset of the module's first byte; 0 ends the list.
    pub mod_start: u32,
    /// Offset of the module's last byte (inclusive).
    pub mod_end: u32,
    /// Offset of the module's NUL-terminated command line.
    pub cmdline: u32,
    /// Unused; zero.
    pub pad: u32,
}

const _: () = {
    assert!(size_of::<StartInfo>() == 1168);
    assert!(offset_of!(StartInfo, nr_pages) == 32);
    assert!(offset_of!(StartInfo, shared_info) == 40);
    assert!(offset_of!(StartInfo, flags) == 48);
    assert!(offset_of!(StartInfo, store_mfn) == 56);
    assert!(offset_of!(StartInfo, store_evtchn) == 64);
    assert!(offset_of!(StartInfo, console) == 72);
    assert!(offset_of!(StartInfo, pt_base) == 88);
    assert!(offset_of!(StartInfo, mfn_list) == 104);
    assert!(offset_of!(StartInfo, mod_start) == 112);
    assert!(offset_of!(StartInfo, cmd_line) == 128);
    assert!(offset_of!(StartInfo, first_p2m_pfn) == 1152);
    assert!(offset_of!(StartInfo, nr_p2m_frames) == 1160);
    assert!(size_of::<StartInfoConsole>() == 16);
    assert!(offset_of!(ConsoleDomU, evtchn) == 8);
    assert!(offset_of!(ConsoleDom0, info_size) == 4);
    assert!(size_of::<XenMultibootModList>() == 16);
};

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::FromZeros;

    #[test]
    fn console_views_share_the_union_bytes() {
        let mut info = StartInfo::new_zeroed();
        info.console.domu_mut().mfn = 0x1122_3344_5566_7788;
        info.console.domu_mut().evtchn = 3;
        let bytes = info.as_bytes();
        assert_eq!(bytes[72..80], 0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(bytes[80..84], 3u32.to_le_bytes());
        assert_eq!(info.console.dom0().info_off, 0x5566_7788);
        assert_eq!(info.console.dom0().info_size, 0x1122_3344);

        info.console.dom0_mut().info_size = 0x40;
        assert_eq!(info.console.domu().mfn, 0x40_5566_7788);
    }
}
