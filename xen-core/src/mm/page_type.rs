//! Page types: what a frame is used as while it holds typed references.
//!
//! A frame's type only means something while its type count is above zero;
//! with no typed reference left it is [`PageType::None`].

/// The use a frame's typed references are for (Xen's `PGT_*` types).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PageType {
    /// No typed reference is held.
    #[default]
    None,
    /// A level-1 page table (maps 4 KiB pages).
    L1,
    /// A level-2 page table (points at L1s).
    L2,
    /// A level-3 page table (points at L2s).
    L3,
    /// A level-4 page table (points at L3s; what CR3 holds).
    L4,
    /// A GDT or LDT frame, its descriptors checked (`descriptor_page`).
    SegDesc,
    /// Mapped writable by a guest, or written by the hypervisor for it.
    Writable,
}

impl PageType {
    /// The page-table level of an L1–L4 type.
    pub const fn table_level(self) -> Option<TableLevel> {
        match self {
            PageType::L1 => Some(TableLevel::L1),
            PageType::L2 => Some(TableLevel::L2),
            PageType::L3 => Some(TableLevel::L3),
            PageType::L4 => Some(TableLevel::L4),
            PageType::None | PageType::SegDesc | PageType::Writable => None,
        }
    }
}

/// A page-table level of the x86_64 four-level format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableLevel {
    /// Entries map 4 KiB pages.
    L1,
    /// Entries point at L1 tables.
    L2,
    /// Entries point at L2 tables.
    L3,
    /// Entries point at L3 tables; slots 256–271 belong to the hypervisor.
    L4,
}

impl TableLevel {
    /// All levels, lowest first.
    pub const ALL: [TableLevel; 4] = [TableLevel::L1, TableLevel::L2, TableLevel::L3, TableLevel::L4];

    /// The page type a table of this level has.
    pub const fn page_type(self) -> PageType {
        match self {
            TableLevel::L1 => PageType::L1,
            TableLevel::L2 => PageType::L2,
            TableLevel::L3 => PageType::L3,
            TableLevel::L4 => PageType::L4,
        }
    }

    /// The level of the tables this level's entries point at (`None` for L1,
    /// whose entries map data frames).
    pub const fn lower(self) -> Option<TableLevel> {
        match self {
            TableLevel::L1 => None,
            TableLevel::L2 => Some(TableLevel::L1),
            TableLevel::L3 => Some(TableLevel::L2),
            TableLevel::L4 => Some(TableLevel::L3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_types_correspond() {
        for level in TableLevel::ALL {
            assert_eq!(level.page_type().table_level(), Some(level));
        }
        assert_eq!(PageType::Writable.table_level(), None);
        assert_eq!(PageType::SegDesc.table_level(), None);
        assert_eq!(TableLevel::L4.lower(), Some(TableLevel::L3));
        assert_eq!(TableLevel::L1.lower(), None);
    }
}
