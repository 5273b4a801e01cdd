//! The xenstore wire protocol (`io/xs_wire.h`, xen-pv-abi 14.4): a 16-byte
//! header, then up to 4096 bytes of NUL-separated fields.

use alloc::vec::Vec;

/// Largest payload a message may carry (`XENSTORE_PAYLOAD_MAX`).
pub const PAYLOAD_MAX: usize = 4096;
/// Header bytes.
pub const HEADER_SIZE: usize = 16;

/// Message types (`enum xsd_sockmsg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Xen's names
pub enum MessageType {
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
    ResetWatches = 21,
    DirectoryPart = 22,
}

impl MessageType {
    /// The type with number `value`, if xenstored knows it.
    pub fn from_u32(value: u32) -> Option<Self> {
        use MessageType::*;
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

/// `struct xsd_sockmsg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The message type number (kept raw: unknown types get ENOSYS).
    pub kind: u32,
    /// Echoed in the reply.
    pub req_id: u32,
    /// Transaction, 0 for none.
    pub tx_id: u32,
    /// Payload bytes.
    pub len: u32,
}

impl Header {
    /// Parses a header; `None` if `bytes` is shorter than one.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let word = |index: usize| {
            let start = index * 4;
            let chunk: [u8; 4] = bytes.get(start..start + 4)?.try_into().ok()?;
            Some(u32::from_le_bytes(chunk))
        };
        Some(Header {
            kind: word(0)?,
            req_id: word(1)?,
            tx_id: word(2)?,
            len: word(3)?,
        })
    }

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut bytes = [0; HEADER_SIZE];
        for (index, word) in [self.kind, self.req_id, self.tx_id, self.len].into_iter().enumerate() {
            bytes[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }
}

/// A whole message: header and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header (`len` matches the payload).
    pub header: Header,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Message {
    /// A message of type `kind` answering `request`, with `payload`.
    pub fn reply(request: &Header, kind: MessageType, payload: Vec<u8>) -> Self {
        Message {
            header: Header {
                kind: kind as u32,
                req_id: request.req_id,
                tx_id: request.tx_id,
                len: payload.len() as u32,
            },
            payload,
        }
    }

    /// A request of type `kind` outside any transaction, with `payload`.
    pub fn request(kind: MessageType, req_id: u32, payload: Vec<u8>) -> Self {
        let outside = Header {
            kind: 0,
            req_id,
            tx_id: 0,
            len: 0,
        };
        Message::reply(&outside, kind, payload)
    }

    /// The bytes to put on the ring.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_SIZE + self.payload.len());
        bytes.extend_from_slice(&self.header.to_bytes());
        bytes.extend_from_slice(&self.payload);
        bytes
    }
}

/// Errors, by their wire names (`xsd_errors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // errno names
pub enum XsError {
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

impl XsError {
    /// The name sent in an ERROR reply.
    pub fn name(self) -> &'static str {
        use XsError::*;
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

/// The NUL-terminated fields of a payload. A payload must end with a NUL
/// unless it is empty; a field holds no NUL by construction.
pub fn fields(payload: &[u8]) -> Vec<&[u8]> {
    let body = payload.strip_suffix(&[0]).unwrap_or(payload);
    if body.is_empty() && payload.is_empty() {
        return Vec::new();
    }
    body.split(|&byte| byte == 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_in_little_endian() {
        let header = Header {
            kind: 2,
            req_id: 0x0102_0304,
            tx_id: 7,
            len: 5,
        };
        let bytes = header.to_bytes();
        assert_eq!(&bytes[4..8], &[4, 3, 2, 1]);
        assert_eq!(Header::parse(&bytes), Some(header));
        assert_eq!(Header::parse(&bytes[..15]), None);
    }

    #[test]
    fn fields_split_on_nul() {
        assert_eq!(fields(b"a\0bc\0"), [&b"a"[..], b"bc"]);
        assert_eq!(fields(b"a"), [&b"a"[..]]);
        assert_eq!(fields(b""), Vec::<&[u8]>::new());
        assert_eq!(fields(b"\0"), [&b""[..]]);
        assert_eq!(MessageType::from_u32(20), None, "20 was removed");
        assert_eq!(MessageType::from_u32(11), Some(MessageType::Write));
    }
}
