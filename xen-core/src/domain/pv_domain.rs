//! A PV domain: identity, lifecycle, its vCPU, its console line.

use super::privilege::Privilege;
use super::reservation::Reservation;
use super::vcpu::Vcpu;
use crate::arch::{PhysicalMemory, Platform};
use crate::event::PortTable;
use crate::event::two_level::{TwoLevel, UPCALL_MASK_SHIFT};
use crate::grant::{GrantTable, MapTrack};
use crate::mm::budget::Budget;
use crate::mm::teardown::Teardown;
use crate::mm::{FrameTable, Mfn, TypedRef};
use core::fmt;
use heapless::{String, Vec};

use xen_abi::mmu::DomId;

/// Why a domain stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainState {
    /// Runs (or is runnable).
    Running,
    /// Shut itself down with `SCHEDOP_shutdown` and this `SHUTDOWN_*` reason.
    Shutdown(u32),
    /// Crashed by the hypervisor for breaking the rules.
    Crashed,
}

/// Longest console line buffered before it is flushed anyway.
const CONSOLE_LINE: usize = 128;

/// A paravirtualized domain. Its identity, privilege, lifecycle state and
/// the references it holds are private: they change only through the
/// methods below, which keep the log line, the crash reason and the frame
/// table's counts with them. Its vCPU, ports and grant tables are objects
/// that keep their own invariants.
pub struct PvDomain {
    /// Its id; 0 is dom0.
    id: DomId,
    /// Name from the boot manifest.
    name: String<32>,
    /// The control domain's capability, if it is the control domain.
    privilege: Option<Privilege>,
    /// Its one vCPU (multi-vCPU domains come later).
    pub vcpu: Vcpu,
    /// Lifecycle state.
    state: DomainState,
    /// The shared_info frame (hypervisor-owned, mapped by the guest).
    shared_info: Mfn,
    /// The writable type reference that keeps shared_info, which the
    /// hypervisor writes, from ever becoming one of the guest's page tables
    /// (Xen's `share_xen_page_with_guest`); set by the builder.
    shared_info_ref: Option<TypedRef>,
    /// Pages of memory it was built with.
    nr_pages: u64,
    /// How much memory it may hold, and the memory map it is shown.
    pub reservation: Reservation,
    /// Why the hypervisor crashed it, once it has.
    crash_reason: Option<&'static str>,
    /// Console output not yet ended by a newline (non-privileged domains).
    console_line: Vec<u8, CONSOLE_LINE>,
    /// Its event-channel ports.
    pub events: PortTable,
    /// Its grant table: what it grants others.
    pub grants: GrantTable,
    /// Grants of others it has mapped.
    pub maptrack: MapTrack,
    /// The `vm_assist` types it enabled, one bit per `VMASST_TYPE_*`.
    vm_assist: u64,
    /// Physical address of its vCPU's `vcpu_info`: slot 0 of shared_info
    /// until the guest moves it (`VCPUOP_register_vcpu_info`).
    vcpu_info: u64,
    /// The writable type reference on the frame it moved `vcpu_info` to:
    /// the hypervisor writes there, so it must never become a page table.
    vcpu_info_ref: Option<TypedRef>,
}

impl PvDomain {
    /// A running domain with a default vCPU, privileged if `id` is the
    /// control domain's ([`Privilege::of_domain`]).
    pub fn new(id: DomId, name: &str, shared_info: Mfn, nr_pages: u64) -> Self {
        let mut short = String::new();
        for c in name.chars() {
            if short.push(c).is_err() {
                break;
            }
        }
        PvDomain {
            id,
            name: short,
            privilege: Privilege::of_domain(id),
            vcpu: Vcpu::default(),
            state: DomainState::Running,
            shared_info,
            shared_info_ref: None,
            nr_pages,
            reservation: if id == 0 {
                Reservation::dom0()
            } else {
                Reservation::domu(nr_pages)
            },
            crash_reason: None,
            console_line: Vec::new(),
            events: PortTable::default(),
            grants: GrantTable::default(),
            maptrack: MapTrack::default(),
            vm_assist: 0,
            vcpu_info: shared_info.address(),
            vcpu_info_ref: None,
        }
    }

    /// Physical address of its vCPU's `vcpu_info`.
    #[inline]
    pub fn vcpu_info_address(&self) -> u64 {
        self.vcpu_info
    }

    /// Its event bits: the bitmaps in shared_info, the vCPU's flags
    /// wherever its `vcpu_info` is.
    #[inline]
    pub fn event_bits(&self) -> TwoLevel {
        TwoLevel::with_vcpu_info(self.shared_info, self.vcpu_info)
    }

    /// Whether the vCPU's `vcpu_info` moved out of shared_info already.
    pub fn vcpu_info_moved(&self) -> bool {
        self.vcpu_info_ref.is_some()
    }

    /// Moves the vCPU's `vcpu_info` to `address`, in the frame `held`
    /// references (typed writable), copying what it holds there; the old
    /// place is left as it was. Once only, as on Xen: the caller checked.
    pub fn move_vcpu_info(&mut self, memory: &mut impl PhysicalMemory, held: TypedRef, address: u64) {
        memory.copy_bytes(self.vcpu_info, address, size_of::<xen_abi::shared_info::VcpuInfo>());
        self.vcpu_info = address;
        self.vcpu_info_ref = Some(held);
    }

    /// Whether `vm_assist` type `kind` is enabled.
    pub fn vm_assist(&self, kind: u32) -> bool {
        kind < 64 && self.vm_assist & (1 << kind) != 0
    }

    /// Enables or disables `vm_assist` type `kind` (checked against the
    /// types a 64-bit PV guest may use by the caller).
    pub fn set_vm_assist(&mut self, kind: u32, enabled: bool) {
        if kind < 64 {
            if enabled {
                self.vm_assist |= 1 << kind;
            } else {
                self.vm_assist &= !(1 << kind);
            }
        }
    }

    /// Its id.
    #[inline]
    pub fn id(&self) -> DomId {
        self.id
    }

    /// Its name, from the boot manifest.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The control domain's capability, if this is the control domain.
    #[inline]
    pub fn privilege(&self) -> Option<Privilege> {
        self.privilege
    }

    /// Its lifecycle state.
    #[inline]
    pub fn state(&self) -> DomainState {
        self.state
    }

    /// The frame of its shared_info page.
    #[inline]
    pub fn shared_info(&self) -> Mfn {
        self.shared_info
    }

    /// Pages of memory it was given.
    pub fn nr_pages(&self) -> u64 {
        self.nr_pages
    }

    /// Why the hypervisor crashed it, if it did.
    pub fn crash_reason(&self) -> Option<&'static str> {
        self.crash_reason
    }

    /// Keeps `reference`, the builder's writable type reference to the
    /// shared_info frame, until the domain's memory is given back.
    pub fn hold_shared_info(&mut self, reference: TypedRef) {
        debug_assert!(self.shared_info_ref.is_none(), "shared_info held twice");
        self.shared_info_ref = Some(reference);
    }

    /// Stops the domain at its own request (`SCHEDOP_shutdown`); a domain
    /// that already stopped keeps its first state.
    pub fn shut_down(&mut self, reason: u32) {
        if self.state == DomainState::Running {
            self.state = DomainState::Shutdown(reason);
        }
    }

    /// Stops the domain for breaking the rules; `reason` ends up in the log.
    pub fn crash(&mut self, reason: &'static str) {
        if self.state == DomainState::Running {
            self.state = DomainState::Crashed;
            self.crash_reason = Some(reason);
        }
    }

    /// Gives back everything the domain holds in `table`: the base pointer,
    /// the shared_info reference, its pins and every frame it owns, each
    /// frame that becomes free handed to `freed`.
    pub fn release_memory(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut impl PhysicalMemory,
        freed: &mut impl FnMut(Mfn),
    ) -> Teardown {
        self.put_held_references(table, memory, &mut Budget::unlimited());
        table.relinquish_all(memory, self.id, freed)
    }

    /// Starts giving back everything the domain holds, a bounded part at a
    /// time: the base pointer, shared_info and grant frame references go now
    /// (their trees' release is left to the teardown), and the rest is done
    /// by [`FrameTable::relinquish_steps`] at each scheduling pass.
    pub fn begin_release(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut impl PhysicalMemory,
        freed: &mut impl FnMut(Mfn),
    ) {
        self.put_held_references(table, memory, &mut Budget::of(0));
        table.begin_relinquish(memory, self.id, freed);
    }

    /// Puts the base pointer, shared_info and grant frame references,
    /// releasing a tree that loses its last typed reference within `budget`.
    fn put_held_references(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut impl PhysicalMemory,
        budget: &mut Budget,
    ) {
        for held in [
            self.vcpu.kernel_base.take(),
            self.vcpu.user_base.take(),
            self.shared_info_ref.take(),
            self.vcpu_info_ref.take(),
        ]
        .into_iter()
        .flatten()
        .chain(self.vcpu.take_gdt_references())
        .chain(self.grants.take_frames())
        {
            table.put_page_and_type_within(memory, held, budget);
        }
        for held in self.vcpu.ldt.take_references() {
            table.put_page_and_type_within(memory, held, budget);
        }
    }

    /// Whether the domain may still run.
    pub fn is_running(&self) -> bool {
        self.state == DomainState::Running
    }

    /// Writes console output as Xen does: the control domain's bytes go out
    /// as they are (it may be interactive); other domains' output is
    /// collected into lines prefixed with `(d<id>) `.
    pub fn console_write(&mut self, platform: &mut impl Platform, bytes: &[u8]) {
        if self.privilege.is_some() {
            platform.console_write(bytes);
            return;
        }
        for &byte in bytes {
            let full = self.console_line.push(byte).is_err();
            if byte == b'\n' || full {
                self.flush_console(platform);
                if full {
                    let _ = self.console_line.push(byte);
                }
            }
        }
    }

    /// Prints what is buffered as one `(d<id>) ` line.
    pub fn flush_console(&mut self, platform: &mut impl Platform) {
        if self.console_line.is_empty() {
            return;
        }
        let mut prefix: String<16> = String::new();
        let _ = fmt::write(&mut prefix, format_args!("(d{}) ", self.id));
        platform.console_write(prefix.as_bytes());
        platform.console_write(&self.console_line);
        if self.console_line.last() != Some(&b'\n') {
            platform.console_write(b"\n");
        }
        self.console_line.clear();
    }

    /// The vCPU's `evtchn_upcall_mask`: events masked (the virtual IF clear).
    pub fn events_masked(&self, memory: &impl PhysicalMemory) -> bool {
        let word = memory.read_u64(self.vcpu_info);
        (word >> UPCALL_MASK_SHIFT) & 0xff != 0
    }

    /// Sets or clears `evtchn_upcall_mask`.
    pub fn set_events_masked(&self, memory: &mut impl PhysicalMemory, masked: bool) {
        let address = self.vcpu_info;
        let word = memory.read_u64(address) & !(0xff << UPCALL_MASK_SHIFT);
        memory.write_u64(address, word | (u64::from(masked) << UPCALL_MASK_SHIFT));
    }
}
