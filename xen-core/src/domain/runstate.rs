//! A vCPU's runstate (Xen's `vcpu_runstate_info`): which state it is in
//! since when, and the time it spent in each, kept at every switch on and
//! off the CPU and copied to the guest's registered area
//! (`VCPUOP_register_runstate_memory_area`) each time, as Xen does. Linux
//! reads its steal time from it.
//!
//! States change where the scheduler switches: running when the vCPU goes
//! on the CPU, runnable or blocked when it comes off, and runnable again
//! when the scheduling pass that a wake asks for finds a blocked vCPU
//! awake (Xen counts that wait as runnable, which Linux reports as steal
//! time). The guest's copy changes only at switches, as on Xen.

use crate::arch::GuestMemory;
use crate::guest_copy::copy_to_guest;
use xen_abi::vcpu::{RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE, VcpuRunstateInfo, XEN_RUNSTATE_UPDATE};
use zerocopy::IntoBytes;

/// Byte offset of `state_entry_time` in the guest's area.
const ENTRY_TIME: u64 = 8;

/// The record and where the guest wants it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runstate {
    info: VcpuRunstateInfo,
    /// Guest virtual address of its copy; `None` until registered.
    area: Option<u64>,
}

impl Default for Runstate {
    fn default() -> Self {
        Runstate {
            info: VcpuRunstateInfo {
                state: RUNSTATE_RUNNABLE,
                ..VcpuRunstateInfo::default()
            },
            area: None,
        }
    }
}

impl Runstate {
    /// Enters `state` at system time `now`: the time since the last change
    /// goes to the state left.
    pub fn enter(&mut self, state: i32, now: u64) {
        let left = self.info.state as usize % self.info.time.len();
        self.info.time[left] += now.saturating_sub(self.info.state_entry_time);
        self.info.state = state;
        self.info.state_entry_time = now;
    }

    /// The vCPU is runnable at `now`: a blocked one was woken, and waits
    /// for the CPU from then on.
    pub fn woke(&mut self, now: u64) {
        if self.info.state == RUNSTATE_BLOCKED {
            self.enter(RUNSTATE_RUNNABLE, now);
        }
    }

    /// The record as of `now` (`VCPUOP_get_runstate_info`): the current
    /// state's time counted up to now.
    pub fn at(&self, now: u64) -> VcpuRunstateInfo {
        let mut info = self.info;
        let current = info.state as usize % info.time.len();
        info.time[current] += now.saturating_sub(info.state_entry_time);
        info
    }

    /// Registers the guest's area at `address` (0: none).
    pub fn set_area(&mut self, address: u64) {
        self.area = (address != 0).then_some(address);
    }

    /// Copies the record to the guest's area, through the page tables the
    /// CPU walks now (the vCPU's own). With `update_flag`
    /// (`VMASST_TYPE_runstate_update_flag`) the entry time carries
    /// `XEN_RUNSTATE_UPDATE` while the copy is under way. An area the guest
    /// unmapped is left alone, as on Xen.
    pub fn publish(&self, guest: &mut impl GuestMemory, update_flag: bool) {
        let Some(area) = self.area else {
            return;
        };
        let entry = area.wrapping_add(ENTRY_TIME);
        let mut info = self.info;
        if update_flag {
            info.state_entry_time |= XEN_RUNSTATE_UPDATE;
            if copy_to_guest(guest, entry, info.state_entry_time.as_bytes()).is_err() {
                return;
            }
        }
        if copy_to_guest(guest, area, info.as_bytes()).is_err() {
            return;
        }
        if update_flag {
            let _ = copy_to_guest(guest, entry, self.info.state_entry_time.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeGuestMemory;
    use xen_abi::vcpu::RUNSTATE_RUNNING;
    use zerocopy::FromBytes;

    const AREA: u64 = 0x20_0000;

    fn read(guest: &mut FakeGuestMemory) -> VcpuRunstateInfo {
        let mut bytes = [0u8; 48];
        guest.read(AREA, &mut bytes).unwrap();
        VcpuRunstateInfo::read_from_bytes(&bytes).unwrap()
    }

    #[test]
    fn each_state_gets_the_time_spent_in_it() {
        let mut runstate = Runstate::default();
        runstate.enter(RUNSTATE_RUNNING, 100);
        runstate.enter(RUNSTATE_BLOCKED, 250);
        runstate.enter(RUNSTATE_RUNNING, 1000);
        let info = runstate.at(1010);
        assert_eq!(info.state, RUNSTATE_RUNNING);
        assert_eq!(info.state_entry_time, 1000);
        assert_eq!(info.time, [160, 100, 750, 0], "running, runnable, blocked, offline");
    }

    #[test]
    fn a_woken_vcpu_waits_as_runnable_and_a_running_one_stays_running() {
        let mut runstate = Runstate::default();
        runstate.enter(RUNSTATE_RUNNING, 0);
        runstate.woke(50);
        assert_eq!(runstate.at(50).state, RUNSTATE_RUNNING, "only a blocked vCPU wakes");
        runstate.enter(RUNSTATE_BLOCKED, 100);
        runstate.woke(400);
        runstate.woke(500);
        runstate.enter(RUNSTATE_RUNNING, 1000);
        assert_eq!(
            runstate.at(1000).time,
            [100, 600, 300, 0],
            "running, runnable, blocked, offline"
        );
    }

    #[test]
    fn the_area_gets_each_change_and_no_flag_is_left_behind() {
        let mut guest = FakeGuestMemory::default();
        guest.map(AREA, true);
        let mut runstate = Runstate::default();
        runstate.publish(&mut guest, true);
        assert_eq!(read(&mut guest), VcpuRunstateInfo::default(), "nothing registered");
        runstate.set_area(AREA);
        runstate.enter(RUNSTATE_RUNNING, 500);
        runstate.publish(&mut guest, true);
        let info = read(&mut guest);
        assert_eq!((info.state, info.state_entry_time), (RUNSTATE_RUNNING, 500));
        assert_eq!(info.time[RUNSTATE_RUNNABLE as usize], 500);
        runstate.set_area(0x7000_0000); // unmapped: skipped
        runstate.publish(&mut guest, false);
    }
}
