//! A domain's grant mappings, by handle (Xen's maptrack).

use crate::mm::grant_mapping::GrantMapping;

/// Grant mappings one domain may hold at once.
pub const MAX_MAPTRACK: usize = 256;
// The frame table queues the frames of dead domains' grant mappings until
// the next drain: one domain's maptrack must fit.
const _: () = assert!(crate::mm::frame_table::ORPHAN_QUEUE >= MAX_MAPTRACK);

/// One mapping: whose grant, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapTrackEntry {
    /// The reference mapped.
    pub gref: u32,
    /// The mapping, with the granter and frame.
    pub mapping: GrantMapping,
}

/// The mappings, a handle being the slot.
#[derive(Debug)]
pub struct MapTrack {
    slots: [Option<MapTrackEntry>; MAX_MAPTRACK],
}

impl Default for MapTrack {
    fn default() -> Self {
        MapTrack {
            slots: [None; MAX_MAPTRACK],
        }
    }
}

impl MapTrack {
    /// Whether another mapping fits.
    pub fn has_room(&self) -> bool {
        self.slots.iter().any(Option::is_none)
    }

    /// Records `entry`; its handle, or `None` when full.
    pub fn insert(&mut self, entry: MapTrackEntry) -> Option<u32> {
        let (handle, slot) = self.slots.iter_mut().enumerate().find(|(_, slot)| slot.is_none())?;
        *slot = Some(entry);
        Some(handle as u32)
    }

    /// The mapping with `handle`.
    pub fn get(&self, handle: u32) -> Option<&MapTrackEntry> {
        self.slots.get(handle as usize)?.as_ref()
    }

    /// Every mapping held.
    pub fn iter(&self) -> impl Iterator<Item = &MapTrackEntry> {
        self.slots.iter().flatten()
    }

    /// Forgets the mapping with `handle`.
    pub fn remove(&mut self, handle: u32) -> Option<MapTrackEntry> {
        self.slots.get_mut(handle as usize)?.take()
    }

    /// Forgets every mapping, for the domain's teardown.
    pub fn drain(&mut self) -> impl Iterator<Item = MapTrackEntry> + '_ {
        self.slots.iter_mut().filter_map(Option::take)
    }

    /// Mappings held.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|slot| slot.is_some()).count()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
