//! `xen_version`: what the hypervisor is and offers.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{copy_to_guest, is_guest_range, offset_address, write_to_guest};
use xen_abi::errno::Errno;
use xen_abi::mmu::HYPERVISOR_VIRT_START;
use xen_abi::page_table_entry::PAGE_SIZE;
use xen_abi::version::*;

/// The Xen interface release whose ABI we implement; guests compare it.
pub const INTERFACE_VERSION: (u32, u32) = (4, 17);

/// Writes `text` into a fixed-size guest buffer, NUL-padded. The whole
/// buffer must be guest space before a byte is written, as Xen checks its
/// one copy: a buffer that runs past the top of the address space is
/// `-EFAULT`, not a wrap.
fn write_string<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    buffer: u64,
    text: &[u8],
    size: usize,
) -> Result<Completion, Errno> {
    if !is_guest_range(buffer, size as u64) {
        return Err(Errno::EFAULT);
    }
    let mut bytes = [0u8; 64];
    let mut written = 0;
    while written < size {
        let length = (size - written).min(bytes.len());
        bytes.fill(0);
        if written < text.len() {
            let from = &text[written..text.len().min(written + length)];
            bytes[..from.len()].copy_from_slice(from);
        }
        let address = offset_address(buffer, written as u64)?;
        copy_to_guest(context.platform.guest(), address, &bytes[..length])?;
        written += length;
    }
    Ok(Completion::Value(0))
}

/// `xen_version(cmd, buffer)`. The sub-ops answered in RAX are kept small
/// enough to inline into the dispatcher (guests ask the version often); the
/// ones that fill guest buffers are out of line.
#[inline(always)]
pub fn xen_version<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (major, minor) = INTERFACE_VERSION;
    match u32::try_from(args[0]) {
        Ok(XENVER_VERSION) => Ok(Completion::Value(i64::from((major << 16) | minor))),
        Ok(XENVER_PAGESIZE) => Ok(Completion::Value(PAGE_SIZE as i64)),
        _ => xen_version_into_buffer(context, args),
    }
}

/// Feature word 0 for `domain`: what Xen 4.17 reports to a 64-bit PV
/// guest and this hypervisor backs with behaviour. `mmu_pt_update_preserve_ad`
/// (`MMU_PT_UPDATE_PRESERVE_AD`), `highmem_assist` (`MMUEXT_CLEAR_PAGE` and
/// `COPY_PAGE`), `direct_mapped` (PV: machine frames are the guest's own),
/// `pae_pgdir_above_4gb` once the guest enabled `pae_extended_cr3`, `dom0`.
/// `gnttab_map_avail_bits` (grant maps carry the guest's available bits),
/// `memory_op_vnode_supported` (`XENMEMF_vnode` is understood: with no
/// virtual NUMA topology it is ignored and `get_vnumainfo` says so, as Xen
/// does for such a domain). Not reported, as on Xen: `writable_page_tables`
/// (the guest asks with `vm_assist`).
fn features(domain: &crate::domain::pv_domain::PvDomain) -> u32 {
    let mut features = 1 << XENFEAT_MMU_PT_UPDATE_PRESERVE_AD
        | 1 << XENFEAT_HIGHMEM_ASSIST
        | 1 << XENFEAT_GNTTAB_MAP_AVAIL_BITS
        | 1 << XENFEAT_MEMORY_OP_VNODE_SUPPORTED
        | 1 << XENFEAT_DIRECT_MAPPED;
    if domain.vm_assist(xen_abi::mmu::VMASST_TYPE_PAE_EXTENDED_CR3) {
        features |= 1 << XENFEAT_PAE_PGDIR_ABOVE_4GB;
    }
    if domain.privilege().is_some() {
        features |= 1 << XENFEAT_DOM0;
    }
    features
}

/// The sub-ops that write a guest buffer.
#[inline(never)]
fn xen_version_into_buffer<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let [command, buffer, ..] = args;
    match u32::try_from(command) {
        Ok(XENVER_EXTRAVERSION) => write_string(context, buffer, b"-xen-core", XEN_EXTRAVERSION_LEN),
        Ok(XENVER_CAPABILITIES) => write_string(context, buffer, b"xen-3.0-x86_64", XEN_CAPABILITIES_INFO_LEN),
        Ok(XENVER_CHANGESET) => write_string(
            context,
            buffer,
            concat!("xen-core ", env!("CARGO_PKG_VERSION")).as_bytes(),
            XEN_CHANGESET_INFO_LEN,
        ),
        Ok(XENVER_COMPILE_INFO) => {
            let mut info = <XenCompileInfo as zerocopy::FromZeros>::new_zeroed();
            info.compiler[..5].copy_from_slice(b"rustc");
            info.compile_by[..8].copy_from_slice(b"xen-core");
            write_to_guest(context.platform.guest(), buffer, &info)?;
            Ok(Completion::Value(0))
        }
        Ok(XENVER_PLATFORM_PARAMETERS) => {
            let parameters = XenPlatformParameters {
                virt_start: HYPERVISOR_VIRT_START,
            };
            write_to_guest(context.platform.guest(), buffer, &parameters)?;
            Ok(Completion::Value(0))
        }
        Ok(XENVER_GET_FEATURES) => {
            let mut info: XenFeatureInfo = crate::guest_copy::read_from_guest(context.platform.guest(), buffer)?;
            if info.submap_idx >= XENFEAT_NR_SUBMAPS {
                return Err(Errno::EINVAL);
            }
            info.submap = if info.submap_idx == 0 {
                features(context.domain)
            } else {
                0
            };
            write_to_guest(context.platform.guest(), buffer, &info)?;
            Ok(Completion::Value(0))
        }
        Ok(XENVER_GUEST_HANDLE) => write_string(context, buffer, &[], 16),
        _ => Err(Errno::ENOSYS),
    }
}
