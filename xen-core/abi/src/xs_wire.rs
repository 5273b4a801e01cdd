//! The xenstore protocol of `io/xs_wire.h`: the message header and types, the
//! error names xenstored answers with, and the shared page a domain's
//! requests and replies travel through.
//!
//! A message is an [`XsdSockmsg`] header followed by `len` bytes of payload,
//! at most [`XENSTORE_PAYLOAD_MAX`], usually NUL-terminated strings. On a
//! domain's ring page ([`XenstoreDomainInterface`]) messages flow as bytes
//! through two byte rings with free-running indices.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `enum xsd_sockmsg_type`: what a message asks for (or, in a reply, what
/// it answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Xen's names, without the XS_ prefix
pub enum XsdSockmsgType {
    Control = 0,
    Directory = 1,
    Read = 2,
    GetPerms = 3,
    Watch = 4,
    Unwatch = 5,
    TransactionStart = 6,
    TransactionEnd = 7,
    Introduce = 8,
    Release = 9,
    GetDomainPath = 10,
    Write = 11,
    Mkdir = 12,
    Rm = 13,
    SetPerms = 14,
    WatchEvent = 15,
    Error = 16,
    IsDomainIntroduced = 17,
    Resume = 18,
    SetTarget = 19,
    // 20 was XS_RESTRICT, since removed.
    ResetWatches = 21,
    DirectoryPart = 22,
}

impl XsdSockmsgType {
    /// The type with number `value`, if there is one.
    pub fn from_u32(value: u32) -> Option<Self> {
        use XsdSockmsgType::*;
        Some(match value {
            0 => Control,
            1 => Directory,
            2 => Read,
            3 => GetPerms,
            4 => Watch,
            5 => Unwatch,
            6 => TransactionStart,
            7 => TransactionEnd,
            8 => Introduce,
            9 => Release,
            10 => GetDomainPath,
            11 => Write,
            12 => Mkdir,
            13 => Rm,
            14 => SetPerms,
            15 => WatchEvent,
            16 => Error,
            17 => IsDomainIntroduced,
            18 => Resume,
            19 => SetTarget,
            21 => ResetWatches,
            22 => DirectoryPart,
            _ => return None,
        })
    }
}

/// `struct xsd_sockmsg` (16 bytes, little-endian): the header of every
/// message.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XsdSockmsg {
    /// An [`XsdSockmsgType`] number (C: `type`); kept raw, since a peer may
    /// send any number.
    pub kind: u32,
    /// Chosen by the requester, echoed in the reply.
    pub req_id: u32,
    /// Transaction id; 0 outside a transaction.
    pub tx_id: u32,
    /// Bytes of payload after the header.
    pub len: u32,
}

/// `xsd_errors`: the names an `XS_ERROR` reply carries, in the order of the
/// header's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, clippy::upper_case_acronyms)] // errno names
pub enum XsdError {
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
}

impl XsdError {
    /// Every error, in the order of the header's `xsd_errors` table.
    pub const ALL: [XsdError; 16] = {
        use XsdError::*;
        [
            EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO, ENOTEMPTY, ENOSYS, EROFS, EBUSY, EAGAIN,
            EISCONN, E2BIG, EPERM,
        ]
    };

    /// The name sent in an `XS_ERROR` reply (without its NUL).
    pub fn name(self) -> &'static str {
        use XsdError::*;
        match self {
            EINVAL => "EINVAL",
            EACCES => "EACCES",
            EEXIST => "EEXIST",
            EISDIR => "EISDIR",
            ENOENT => "ENOENT",
            ENOMEM => "ENOMEM",
            ENOSPC => "ENOSPC",
            EIO => "EIO",
            ENOTEMPTY => "ENOTEMPTY",
            ENOSYS => "ENOSYS",
            EROFS => "EROFS",
            EBUSY => "EBUSY",
            EAGAIN => "EAGAIN",
            EISCONN => "EISCONN",
            E2BIG => "E2BIG",
            EPERM => "EPERM",
        }
    }
}

/// `XS_WATCH_PATH`: index of the path among a watch event's fields.
pub const XS_WATCH_PATH: usize = 0;
/// `XS_WATCH_TOKEN`: index of the token among a watch event's fields.
pub const XS_WATCH_TOKEN: usize = 1;

/// `XENSTORE_RING_SIZE`: bytes in each direction's ring.
pub const XENSTORE_RING_SIZE: usize = 1024;
/// `XENSTORE_PAYLOAD_MAX`: the most payload one message may carry; a
/// longer one breaks the connection.
pub const XENSTORE_PAYLOAD_MAX: usize = 4096;
/// `XENSTORE_ABS_PATH_MAX`: the longest absolute path.
pub const XENSTORE_ABS_PATH_MAX: usize = 3072;
/// `XENSTORE_REL_PATH_MAX`: the longest relative path.
pub const XENSTORE_REL_PATH_MAX: usize = 2048;

/// `XENSTORE_SERVER_FEATURE_RECONNECTION`: the server can reset a ring.
pub const XENSTORE_SERVER_FEATURE_RECONNECTION: u32 = 1;
/// `XENSTORE_SERVER_FEATURE_ERROR`: the page has the `error` field.
pub const XENSTORE_SERVER_FEATURE_ERROR: u32 = 2;
/// `XENSTORE_CONNECTED`: `connection` in the steady state.
pub const XENSTORE_CONNECTED: u32 = 0;
/// `XENSTORE_RECONNECT`: `connection` while a reconnection is under way.
pub const XENSTORE_RECONNECT: u32 = 1;
/// `XENSTORE_ERROR_NONE`: no error.
pub const XENSTORE_ERROR_NONE: u32 = 0;
/// `XENSTORE_ERROR_COMM`: a communication problem.
pub const XENSTORE_ERROR_COMM: u32 = 1;
/// `XENSTORE_ERROR_RINGIDX`: an invalid ring index.
pub const XENSTORE_ERROR_RINGIDX: u32 = 2;
/// `XENSTORE_ERROR_PROTO`: a protocol violation (a payload too long).
pub const XENSTORE_ERROR_PROTO: u32 = 3;

/// `struct xenstore_domain_interface` (2076 bytes at the start of the
/// domain's xenstore page): requests from the domain, replies and watch
/// events to it, each a byte ring with free-running `u32` indices.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenstoreDomainInterface {
    /// Request bytes, written by the domain.
    pub req: [u8; XENSTORE_RING_SIZE],
    /// Reply and watch-event bytes, written by xenstored.
    pub rsp: [u8; XENSTORE_RING_SIZE],
    /// Requests consumed by xenstored.
    pub req_cons: u32,
    /// Requests produced by the domain.
    pub req_prod: u32,
    /// Replies consumed by the domain.
    pub rsp_cons: u32,
    /// Replies produced by xenstored.
    pub rsp_prod: u32,
    /// `XENSTORE_SERVER_FEATURE_*` bits the server offers.
    pub server_features: u32,
    /// `XENSTORE_CONNECTED` or `XENSTORE_RECONNECT`.
    pub connection: u32,
    /// A `XENSTORE_ERROR_*` value: why the server stopped serving the ring.
    pub error: u32,
}

const _: () = {
    assert!(size_of::<XsdSockmsg>() == 16);
    assert!(offset_of!(XsdSockmsg, len) == 12);
    assert!(offset_of!(XenstoreDomainInterface, req_cons) == 2048);
    assert!(offset_of!(XenstoreDomainInterface, error) == 2072);
    assert!(size_of::<XenstoreDomainInterface>() == 2076);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_read_back_from_their_numbers() {
        let known = (0..32).filter_map(XsdSockmsgType::from_u32);
        for (count, kind) in known.enumerate() {
            assert_eq!(XsdSockmsgType::from_u32(kind as u32), Some(kind));
            assert!(count < 22);
        }
        assert_eq!(XsdSockmsgType::from_u32(20), None, "20 was removed");
        assert_eq!(XsdSockmsgType::from_u32(11), Some(XsdSockmsgType::Write));
        assert_eq!(XsdSockmsgType::from_u32(23), None);
    }
}
