//! Node permissions: a list whose first entry names the owner and the
//! access everyone else gets, the rest naming the access of particular
//! domains. Written as `r5`, `w0`, `b1` (both), `n3` (none).
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use xen_abi::xs_wire::XsdError;

/// What a domain may do with a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Nothing.
    None,
    /// Read it.
    Read,
    /// Write it.
    Write,
    /// Both.
    Both,
}

impl Access {
    fn letter(self) -> char {
        match self {
            Access::None => 'n',
            Access::Read => 'r',
            Access::Write => 'w',
            Access::Both => 'b',
        }
    }

    /// Whether reading is allowed.
    pub fn reads(self) -> bool {
        matches!(self, Access::Read | Access::Both)
    }

    /// Whether writing is allowed.
    pub fn writes(self) -> bool {
        matches!(self, Access::Write | Access::Both)
    }
}

/// One entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The domain it is about.
    pub domid: u16,
    /// What it may do.
    pub access: Access,
}

impl Permission {
    /// Parses `r5` and the like.
    pub fn parse(text: &[u8]) -> Result<Self, XsdError> {
        let (&letter, number) = text.split_first().ok_or(XsdError::EINVAL)?;
        let access = match letter {
            b'n' => Access::None,
            b'r' => Access::Read,
            b'w' => Access::Write,
            b'b' => Access::Both,
            _ => return Err(XsdError::EINVAL),
        };
        let number = core::str::from_utf8(number).map_err(|_| XsdError::EINVAL)?;
        let domid = number.parse().map_err(|_| XsdError::EINVAL)?;
        Ok(Permission { domid, access })
    }

    /// The written form.
    pub fn format(&self) -> String {
        format!("{}{}", self.access.letter(), self.domid)
    }
}

/// A node's permissions: never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    entries: Vec<Permission>,
}

/// Most entries a node's permission list may have.
pub const MAX_ENTRIES: usize = 64;

impl Permissions {
    /// Owned by `owner`, no access for anyone else.
    pub fn owned_by(owner: u16) -> Self {
        Permissions {
            entries: alloc::vec![Permission {
                domid: owner,
                access: Access::None,
            }],
        }
    }

    /// From parsed entries; EINVAL if there are none or too many.
    pub fn from_entries(entries: Vec<Permission>) -> Result<Self, XsdError> {
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            return Err(XsdError::EINVAL);
        }
        Ok(Permissions { entries })
    }

    /// The owner.
    pub fn owner(&self) -> u16 {
        self.entries[0].domid
    }

    /// The same list with `owner` as owner (a new node's, created from
    /// its parent's).
    pub fn with_owner(&self, owner: u16) -> Self {
        let mut entries = self.entries.clone();
        entries[0].domid = owner;
        Permissions { entries }
    }

    /// What `domid` may do: everything for the owner (and the privileged,
    /// whom the caller checks first), its own entry if it has one, the
    /// default otherwise.
    pub fn access(&self, domid: u16) -> Access {
        if domid == self.owner() {
            return Access::Both;
        }
        self.entries[1..]
            .iter()
            .find(|entry| entry.domid == domid)
            .map_or(self.entries[0].access, |entry| entry.access)
    }

    /// The entries in order.
    pub fn entries(&self) -> &[Permission] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_has_everything_others_their_entry_or_the_default() {
        let perms = Permissions::from_entries(alloc::vec![
            Permission::parse(b"r1").unwrap(),
            Permission::parse(b"b3").unwrap(),
            Permission::parse(b"n4").unwrap(),
        ])
        .unwrap();
        assert_eq!(perms.owner(), 1);
        assert_eq!(perms.access(1), Access::Both);
        assert_eq!(perms.access(3), Access::Both);
        assert_eq!(perms.access(4), Access::None);
        assert_eq!(perms.access(9), Access::Read, "the default");
        assert_eq!(perms.with_owner(9).access(1), Access::Read);
    }

    #[test]
    fn bad_entries_are_einval() {
        for bad in [&b""[..], b"x1", b"r", b"r-1", b"r70000", b"r1a"] {
            assert_eq!(Permission::parse(bad), Err(XsdError::EINVAL), "{bad:?}");
        }
        assert_eq!(Permission::parse(b"w12").unwrap().format(), "w12");
        assert_eq!(Permissions::from_entries(Vec::new()), Err(XsdError::EINVAL));
    }
}
