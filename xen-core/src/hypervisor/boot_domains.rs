//! The domains a boot bundle's manifest lists, built and handed to the
//! scheduler, dom0 first.

use super::Hypervisor;
use crate::arch::{FrameSource, MachineToPhys, PhysicalMemory};
use crate::boot::bundle::BootBundle;
use crate::boot::manifest::DomainSpec;
use crate::domain::boot_layout::BootLayout;
use crate::domain::builder::{BuildError, BuildRequest, build_pv_domain};
use crate::domain::domain_table::MAX_DOMAINS;
use crate::domain::elf_image::{ElfImage, ImageError};
use crate::domain::guest_notes::{GuestNotes, NotesError};
use crate::domain::kernel_image::{CompressedKernel, KernelFile, KernelImageError};
use crate::domain::reservation::Reservation;
use crate::log_level::LogLevel;
use crate::mm::mfn::PAGE_SIZE;
use crate::mm::{FrameTable, Mfn};
use crate::sched::{SchedEntity, SchedParams};
use crate::time::vcpu_time::{Wallclock, publish_wallclock};
use core::fmt;
use xen_abi::mmu::DomId;

/// What building the boot domains needs from the machine.
pub struct BootMachine<'m, M, S, P, L> {
    /// Physical memory.
    pub memory: &'m mut M,
    /// Free frames for the domains.
    pub frames: &'m mut S,
    /// The machine-to-physical table.
    pub m2p: &'m mut P,
    /// The console log.
    pub log: &'m mut L,
    /// Memory to unpack a compressed kernel in (empty if none is): at least
    /// the largest `CompressedKernel::scratch_needed` of the manifest's.
    pub scratch: &'m mut [u8],
}

/// Why a boot domain could not be built: the boot cannot go on.
#[derive(Debug)]
pub struct BootDomainError<'a> {
    /// The domain's name in the manifest.
    pub name: &'a str,
    /// Its id.
    pub domid: DomId,
    /// What went wrong.
    pub cause: BootDomainCause,
}

/// What went wrong building one boot domain.
#[derive(Debug)]
pub enum BootDomainCause {
    /// Its kernel file cannot be unpacked (bzImage, compressed ELF).
    KernelFile(KernelImageError),
    /// Its kernel is not an ELF image we can load.
    Image(ImageError),
    /// Its Xen notes are missing or wrong.
    Notes(NotesError),
    /// The builder refused it (memory, layout).
    Build(BuildError),
    /// Its id is already taken.
    IdTaken,
}

impl fmt::Display for BootDomainError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = if self.domid == 0 { "dom0" } else { "domU" };
        write!(f, "{role} {}: ", self.name)?;
        match &self.cause {
            BootDomainCause::KernelFile(error) => write!(f, "{error}"),
            BootDomainCause::Image(error) => write!(f, "{error}"),
            BootDomainCause::Notes(error) => write!(f, "{error}"),
            BootDomainCause::Build(error) => write!(f, "{error}"),
            BootDomainCause::IdTaken => write!(f, "domain id {} taken", self.domid),
        }
    }
}

impl Hypervisor {
    /// Builds every domain `bundle`'s manifest lists, in order (the first is
    /// dom0, the only privileged one), each with its weight and cap and the
    /// wall clock published; domains beyond [`MAX_DOMAINS`] are left out
    /// with a warning. `hypervisor_l4` is the hypervisor's own L4, whose
    /// slots every guest L4 shares.
    pub fn build_boot_domains<'a, M, S, P, L>(
        &mut self,
        bundle: &BootBundle<'a>,
        frames: &mut FrameTable<'static>,
        hypervisor_l4: Mfn,
        wallclock: Wallclock,
        machine: BootMachine<'_, M, S, P, L>,
    ) -> Result<(), BootDomainError<'a>>
    where
        M: PhysicalMemory,
        S: FrameSource,
        P: MachineToPhys,
        L: FnMut(LogLevel, fmt::Arguments<'_>),
    {
        let BootMachine {
            memory,
            frames: source,
            m2p,
            log,
            scratch,
        } = machine;
        for (index, spec) in bundle.manifest().domains.iter().enumerate() {
            let role = if index == 0 { "dom0" } else { "domU" };
            if index >= MAX_DOMAINS {
                log(
                    LogLevel::Warn,
                    format_args!("{role} {}: only {MAX_DOMAINS} domains fit, left out", spec.name),
                );
                continue;
            }
            // Below MAX_DOMAINS: fits a domain id.
            let domid = index as DomId;
            let fail = |cause| BootDomainError {
                name: spec.name,
                domid,
                cause,
            };
            let file =
                KernelFile::recognise(bundle.kernel_image(spec)).map_err(|e| fail(BootDomainCause::KernelFile(e)))?;
            let elf = match file {
                KernelFile::Plain(bytes) => bytes,
                KernelFile::Compressed(kernel) => {
                    let unpacked = unpack(&kernel, scratch).map_err(|e| fail(BootDomainCause::KernelFile(e)))?;
                    log(
                        LogLevel::Info,
                        format_args!(
                            "d{domid}: kernel {} is a {}{:?}-compressed ELF of {} bytes",
                            spec.kernel,
                            if kernel.from_bzimage { "bzImage holding a " } else { "" },
                            kernel.method,
                            unpacked.len()
                        ),
                    );
                    unpacked
                }
            };
            let image = ElfImage::parse(elf).map_err(|e| fail(BootDomainCause::Image(e)))?;
            let notes = GuestNotes::from_image(&image).map_err(|e| fail(BootDomainCause::Notes(e)))?;
            log_domain(log, domid, spec, &notes);
            let request = BuildRequest {
                image: &image,
                notes: &notes,
                name: spec.name,
                nr_pages: spec.memory_bytes / PAGE_SIZE,
                cmdline: spec.cmdline,
                module: bundle.module(spec),
                hypervisor_l4,
            };
            let slot = self
                .domains
                .vacant(domid)
                .ok_or_else(|| fail(BootDomainCause::IdTaken))?;
            let built = build_pv_domain(&request, slot, memory, source, frames, m2p)
                .map_err(|e| fail(BootDomainCause::Build(e)))?;
            let layout = &built.layout;
            log_module(log, domid, spec, layout);
            log(
                LogLevel::Info,
                format_args!(
                    "d{domid}: kernel {:#x}-{:#x}, p2m {:#x}-{:#x}, start_info {:#x}, page tables {:#x}-{:#x}, stack {:#x}, end {:#x}",
                    layout.kernel.start,
                    notes.virt_kend,
                    layout.p2m_mapping.map_or(layout.p2m.start, |mapping| mapping.start),
                    layout.p2m_mapping.map_or(layout.p2m.end, |mapping| mapping.end),
                    layout.start_info,
                    layout.page_tables.start,
                    layout.page_tables.end,
                    layout.stack,
                    layout.end
                ),
            );
            let domain = built.domain;
            if domid != 0 {
                // A domU may balloon up to `maxmem=` (dom0 has no limit).
                domain.reservation = Reservation::domu(spec.maxmem_bytes / PAGE_SIZE);
            }
            domain.vcpu.context = built.frame;
            domain.vcpu.sched = SchedEntity::new(SchedParams {
                weight: spec.weight,
                cap: spec.cap,
            });
            publish_wallclock(memory, domain.shared_info(), wallclock);
        }
        Ok(())
    }
}

/// Unpacks `kernel` into `scratch`: its ELF bytes.
fn unpack<'s>(kernel: &CompressedKernel<'_>, scratch: &'s mut [u8]) -> Result<&'s [u8], KernelImageError> {
    let size = kernel.uncompressed_size()?;
    let needed = kernel.scratch_needed()?;
    if scratch.len() < needed {
        return Err(KernelImageError::BufferTooSmall { needed });
    }
    let (out, dictionary) = scratch.split_at_mut(size);
    let written = kernel.decompress(out, dictionary)?;
    Ok(&out[..written])
}

/// Where a domain's boot module went, if it has one: a virtual range in its
/// boot region, or the frames it was given by number (MOD_START_PFN).
fn log_module(
    log: &mut impl FnMut(LogLevel, fmt::Arguments<'_>),
    domid: DomId,
    spec: &DomainSpec<'_>,
    layout: &BootLayout,
) {
    let Some(name) = spec.ramdisk else { return };
    match layout.unmapped_module {
        Some(first) => log(
            LogLevel::Info,
            format_args!("d{domid}: module {name} unmapped, from pfn {:#x}", first.0),
        ),
        None => log(
            LogLevel::Info,
            format_args!(
                "d{domid}: module {name} at {:#x}-{:#x}",
                layout.module.start, layout.module.end
            ),
        ),
    }
}

/// The line that introduces a boot domain: its kernel, entry, memory and
/// share of the CPU.
fn log_domain(
    log: &mut impl FnMut(LogLevel, fmt::Arguments<'_>),
    domid: DomId,
    spec: &DomainSpec<'_>,
    notes: &GuestNotes<'_>,
) {
    let role = if domid == 0 { "dom0" } else { "domU" };
    log(
        LogLevel::Info,
        format_args!(
            "d{domid} ({role} {}): {} \"{}\", entry {:#x}, hypercall page {:#x}, {} MiB, weight {}, cap {}",
            spec.name,
            spec.kernel,
            notes.guest_os,
            notes.entry,
            notes.hypercall_page.unwrap_or(0),
            spec.memory_bytes >> 20,
            spec.weight,
            spec.cap
        ),
    );
}
