//! Messages of the xenstore protocol as xenstored handles them: an
//! [`XsdSockmsg`] header, then up to [`XENSTORE_PAYLOAD_MAX`] bytes of
//! NUL-separated fields (the format is `xen_abi::xs_wire`'s, after
//! `io/xs_wire.h`).

use alloc::vec::Vec;
#[cfg(doc)]
use xen_abi::xs_wire::XENSTORE_PAYLOAD_MAX;
use xen_abi::xs_wire::{XsdSockmsg, XsdSockmsgType};

/// Header bytes before a message's payload.
pub const HEADER_SIZE: usize = size_of::<XsdSockmsg>();

/// The header at the start of `bytes`; `None` if they are shorter than one.
pub fn parse_header(bytes: &[u8]) -> Option<XsdSockmsg> {
    let word = |index: usize| {
        let start = index * 4;
        let chunk: [u8; 4] = bytes.get(start..start + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(chunk))
    };
    Some(XsdSockmsg {
        kind: word(0)?,
        req_id: word(1)?,
        tx_id: word(2)?,
        len: word(3)?,
    })
}

/// The bytes of `header`, little-endian as on the ring.
pub fn header_bytes(header: &XsdSockmsg) -> [u8; HEADER_SIZE] {
    let mut bytes = [0; HEADER_SIZE];
    for (index, word) in [header.kind, header.req_id, header.tx_id, header.len]
        .into_iter()
        .enumerate()
    {
        bytes[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

/// A whole message: header and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header (`len` matches the payload).
    pub header: XsdSockmsg,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Message {
    /// A message of type `kind` answering `request`, with `payload`.
    pub fn reply(request: &XsdSockmsg, kind: XsdSockmsgType, payload: Vec<u8>) -> Self {
        Message {
            header: XsdSockmsg {
                kind: kind as u32,
                req_id: request.req_id,
                tx_id: request.tx_id,
                len: payload.len() as u32,
            },
            payload,
        }
    }

    /// A request of type `kind` outside any transaction, with `payload`.
    pub fn request(kind: XsdSockmsgType, req_id: u32, payload: Vec<u8>) -> Self {
        let outside = XsdSockmsg {
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
        bytes.extend_from_slice(&header_bytes(&self.header));
        bytes.extend_from_slice(&self.payload);
        bytes
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
        let header = XsdSockmsg {
            kind: 2,
            req_id: 0x0102_0304,
            tx_id: 7,
            len: 5,
        };
        let bytes = header_bytes(&header);
        assert_eq!(&bytes[4..8], &[4, 3, 2, 1]);
        assert_eq!(parse_header(&bytes), Some(header));
        assert_eq!(parse_header(&bytes[..15]), None);
    }

    #[test]
    fn fields_split_on_nul() {
        assert_eq!(fields(b"a\0bc\0"), [&b"a"[..], b"bc"]);
        assert_eq!(fields(b"a"), [&b"a"[..]]);
        assert_eq!(fields(b""), Vec::<&[u8]>::new());
        assert_eq!(fields(b"\0"), [&b""[..]]);
    }
}
