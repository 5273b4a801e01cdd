//! What a domain's kernel file is before it is an ELF image: an ELF as is, a
//! Linux bzImage (the boot sector and setup code, then a compressed ELF, the
//! "payload"), or a compressed ELF alone. Xen's loader takes all three;
//! distributions ship the bzImage (Debian's with an xz payload).
//!
//! The payload's uncompressed size is its last four bytes, little-endian:
//! gzip's own trailer, and what Linux's build appends for every other
//! method. Decompression writes into a buffer of that size the caller
//! provides, and never past it: a hostile image can claim a size, not
//! overrun one.

use core::fmt;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use xz4rust::{XzDecoder, XzNextBlockResult};

/// `boot_flag` at 0x1fe of a Linux boot sector.
const BOOT_FLAG: u16 = 0xaa55;
/// The setup header's signature at 0x202.
const SETUP_MAGIC: &[u8; 4] = b"HdrS";
/// The first boot protocol with `payload_offset` and `payload_length`.
const PAYLOAD_PROTOCOL: u16 = 0x0208;

/// How a payload is compressed, by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip (deflate).
    Gzip,
    /// xz (LZMA2, with Linux's x86 BCJ filter).
    Xz,
    /// zstd.
    Zstd,
    /// bzip2.
    Bzip2,
    /// Legacy LZMA.
    Lzma,
    /// LZO.
    Lzo,
    /// LZ4 (legacy frame).
    Lz4,
}

impl Compression {
    /// The method whose magic `bytes` start with.
    pub fn of(bytes: &[u8]) -> Option<Compression> {
        const MAGICS: [(&[u8], Compression); 7] = [
            (&[0x1f, 0x8b], Compression::Gzip),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0], Compression::Xz),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
            (b"BZh", Compression::Bzip2),
            (&[0x5d, 0, 0], Compression::Lzma),
            (&[0x89, b'L', b'Z', b'O'], Compression::Lzo),
            (&[0x02, 0x21, 0x4c, 0x18], Compression::Lz4),
        ];
        MAGICS
            .iter()
            .find(|(magic, _)| bytes.starts_with(magic))
            .map(|&(_, method)| method)
    }
}

/// Why a kernel file cannot be turned into an ELF image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelImageError {
    /// A bzImage whose boot protocol predates payload fields (2.08).
    OldBootProtocol(u16),
    /// Its payload lies outside the file.
    PayloadOutsideFile,
    /// The payload is neither an ELF nor compressed by a method we know.
    UnknownPayload,
    /// The payload is compressed with a method we do not decompress.
    Unsupported(Compression),
    /// The payload's size trailer is missing or zero.
    NoSize,
    /// The output buffer is smaller than the size the payload claims.
    BufferTooSmall {
        /// What the payload claims.
        needed: usize,
    },
    /// The compressed data is corrupt, or decompresses to another size.
    Corrupt(Compression),
}

impl fmt::Display for KernelImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OldBootProtocol(version) => write!(
                f,
                "kernel image: bzImage boot protocol {}.{:02}, payloads need 2.08",
                version >> 8,
                version & 0xff
            ),
            Self::PayloadOutsideFile => write!(f, "kernel image: bzImage payload lies outside the file"),
            Self::UnknownPayload => write!(
                f,
                "kernel image: bzImage payload is neither ELF nor known compressed data"
            ),
            Self::Unsupported(method) => write!(f, "kernel image: {method:?} payloads are not supported"),
            Self::NoSize => write!(f, "kernel image: compressed payload has no size trailer"),
            Self::BufferTooSmall { needed } => {
                write!(f, "kernel image: {needed} bytes uncompressed do not fit the buffer")
            }
            Self::Corrupt(method) => write!(f, "kernel image: corrupt {method:?} payload"),
        }
    }
}

/// A kernel file, recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelFile<'a> {
    /// An ELF (or anything else: the ELF parser judges it).
    Plain(&'a [u8]),
    /// A compressed ELF: a bzImage's payload or a compressed file.
    Compressed(CompressedKernel<'a>),
}

/// A compressed ELF, ready to decompress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressedKernel<'a> {
    /// The compressed bytes.
    pub data: &'a [u8],
    /// How.
    pub method: Compression,
    /// Whether it came out of a bzImage.
    pub from_bzimage: bool,
}

impl<'a> KernelFile<'a> {
    /// Recognises `bytes`.
    pub fn recognise(bytes: &'a [u8]) -> Result<KernelFile<'a>, KernelImageError> {
        let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        let u32_at = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let is_bzimage = u16_at(0x1fe) == Some(BOOT_FLAG) && bytes.get(0x202..0x206) == Some(&SETUP_MAGIC[..]);
        if is_bzimage {
            let version = u16_at(0x206).unwrap_or(0);
            if version < PAYLOAD_PROTOCOL {
                return Err(KernelImageError::OldBootProtocol(version));
            }
            // 0 setup sectors means 4, for the oldest loaders' sake.
            let setup_sectors = match bytes.get(0x1f1).copied().unwrap_or(0) {
                0 => 4,
                count => usize::from(count),
            };
            let (offset, length) = (u32_at(0x248).unwrap_or(0), u32_at(0x24c).unwrap_or(0));
            let start = (setup_sectors + 1) * 512 + offset;
            let data = start
                .checked_add(length)
                .and_then(|end| bytes.get(start..end))
                .ok_or(KernelImageError::PayloadOutsideFile)?;
            // An uncompressed ELF payload is taken as it is, as Xen does.
            return match Compression::of(data) {
                Some(method) => Ok(KernelFile::Compressed(CompressedKernel {
                    data,
                    method,
                    from_bzimage: true,
                })),
                None if data.starts_with(b"\x7fELF") => Ok(KernelFile::Plain(data)),
                None => Err(KernelImageError::UnknownPayload),
            };
        }
        Ok(match Compression::of(bytes) {
            Some(method) => KernelFile::Compressed(CompressedKernel {
                data: bytes,
                method,
                from_bzimage: false,
            }),
            None => KernelFile::Plain(bytes),
        })
    }
}

impl CompressedKernel<'_> {
    /// The size it decompresses to, from its trailer.
    pub fn uncompressed_size(&self) -> Result<usize, KernelImageError> {
        let trailer = self.data.last_chunk::<4>().ok_or(KernelImageError::NoSize)?;
        match u32::from_le_bytes(*trailer) as usize {
            0 => Err(KernelImageError::NoSize),
            size => Ok(size),
        }
    }

    /// The dictionary its decompression needs: an xz stream's LZMA2 window,
    /// from its first block header (Linux's build uses 32 MiB); 0 for other
    /// methods.
    pub fn dictionary_size(&self) -> Result<usize, KernelImageError> {
        if self.method != Compression::Xz {
            return Ok(0);
        }
        xz_dictionary_size(self.data).ok_or(KernelImageError::Corrupt(Compression::Xz))
    }

    /// Scratch memory [`Self::decompress`] needs: output, then dictionary.
    pub fn scratch_needed(&self) -> Result<usize, KernelImageError> {
        self.uncompressed_size()?
            .checked_add(self.dictionary_size()?)
            .ok_or(KernelImageError::NoSize)
    }

    /// Decompresses into `out` (at least [`Self::uncompressed_size`]
    /// bytes), with `dictionary` as xz's window (Linux's kernels use up to
    /// 32 MiB; other methods ignore it). The bytes written.
    pub fn decompress(&self, out: &mut [u8], dictionary: &mut [u8]) -> Result<usize, KernelImageError> {
        let size = self.uncompressed_size()?;
        let out = out
            .get_mut(..size)
            .ok_or(KernelImageError::BufferTooSmall { needed: size })?;
        let corrupt = KernelImageError::Corrupt(self.method);
        let written = match self.method {
            Compression::Gzip => {
                let deflate = self.data.get(gzip_header_length(self.data)?..).ok_or(corrupt)?;
                let mut state = DecompressorOxide::new();
                let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
                match decompress(&mut state, deflate, out, 0, flags) {
                    (TINFLStatus::Done, _, written) => written,
                    _ => return Err(corrupt),
                }
            }
            Compression::Xz => {
                let mut decoder = XzDecoder::with_fixed_size_dict(dictionary);
                let (mut consumed, mut written) = (0, 0);
                loop {
                    let (input, output) = (&self.data[consumed..], &mut out[written..]);
                    match decoder.decode(input, output) {
                        Ok(XzNextBlockResult::EndOfStream(_, produced)) => {
                            written += produced;
                            break;
                        }
                        Ok(XzNextBlockResult::NeedMoreData(read, produced)) => {
                            // No progress with all the input given: truncated.
                            if read == 0 && produced == 0 {
                                return Err(corrupt);
                            }
                            consumed += read;
                            written += produced;
                        }
                        Err(_) => return Err(corrupt),
                    }
                }
                written
            }
            method => return Err(KernelImageError::Unsupported(method)),
        };
        if written != size {
            return Err(corrupt);
        }
        Ok(written)
    }
}

/// The LZMA2 dictionary size of an xz stream's first block (the xz file
/// format, sections 2.1 and 3.1): the stream header's 12 bytes, then the
/// block header (size, flags, optional sizes, filter flags), whose LZMA2
/// filter (id 0x21) has one property byte encoding the size.
fn xz_dictionary_size(data: &[u8]) -> Option<usize> {
    const LZMA2: u64 = 0x21;
    let header = data.get(12..)?;
    let header_size = (usize::from(*header.first()?) + 1) * 4;
    let block = header.get(..header_size)?;
    let flags = *block.get(1)?;
    let mut at = 2;
    let vli = |at: &mut usize| -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..63).step_by(7) {
            let byte = *block.get(*at)?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    for present in [0x40, 0x80] {
        if flags & present != 0 {
            vli(&mut at)?;
        }
    }
    for _ in 0..(flags & 3) + 1 {
        let id = vli(&mut at)?;
        let properties = usize::try_from(vli(&mut at)?).ok()?;
        if id == LZMA2 && properties == 1 {
            let bits = u32::from(*block.get(at)? & 0x3f);
            if bits > 40 {
                return None;
            }
            if bits == 40 {
                return Some(u32::MAX as usize);
            }
            return Some((2 | (bits & 1) as usize) << (bits / 2 + 11));
        }
        at = at.checked_add(properties)?;
    }
    None
}

/// Bytes of a gzip member's header (RFC 1952): the fixed ten, then the
/// optional extra field, name, comment and header CRC its flags announce.
fn gzip_header_length(data: &[u8]) -> Result<usize, KernelImageError> {
    let corrupt = KernelImageError::Corrupt(Compression::Gzip);
    const FHCRC: u8 = 1 << 1;
    const FEXTRA: u8 = 1 << 2;
    const FNAME: u8 = 1 << 3;
    const FCOMMENT: u8 = 1 << 4;
    if data.get(2) != Some(&8) {
        return Err(corrupt);
    }
    let flags = *data.get(3).ok_or(corrupt)?;
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let length = data.get(at..at + 2).ok_or(corrupt)?;
        at += 2 + usize::from(u16::from_le_bytes([length[0], length[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let text = data.get(at..).ok_or(corrupt)?;
            at += text.iter().position(|&byte| byte == 0).ok_or(corrupt)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > data.len() {
        return Err(corrupt);
    }
    Ok(at)
}

#[cfg(test)]
mod tests;
