//! One domain line of the manifest: [`DomainSpec`], the defaults of the keys a
//! line leaves out, and reading it from `domain <name> key=value...`.

use crate::boot::manifest::fields::{is_blank, next_field};
use crate::boot::manifest::limits::{MAX_CMDLINE_LEN, MAX_MEMORY_BYTES, MAX_NAME_LEN};
use crate::boot::manifest::manifest_error::ManifestErrorKind;
use xen_abi::page_table_entry::PAGE_SIZE;

/// Memory of a domain whose line has no `memory=`.
pub const DEFAULT_MEMORY_BYTES: u64 = 32 << 20;

// Weight of a domain whose line has no `weight=` (Xen's default).
pub use xen_abi::sched::CSCHED_DEFAULT_WEIGHT as DEFAULT_WEIGHT;

/// One domain to build at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainSpec<'a> {
    /// The domain's name, unique within the manifest.
    pub name: &'a str,
    /// Name of the kernel image in the bundle archive.
    pub kernel: &'a str,
    /// Memory to give the domain, a whole number of 4 KiB pages.
    pub memory_bytes: u64,
    /// Most memory it may grow to by ballooning (`maxmem=`, as in xl.cfg):
    /// at least `memory_bytes`, which it is when the line has no `maxmem=`.
    pub maxmem_bytes: u64,
    /// Name of its boot module (initrd) in the bundle archive (`ramdisk=`,
    /// as in xl.cfg), if it has one.
    pub ramdisk: Option<&'a str>,
    /// The guest kernel's command line, possibly empty.
    pub cmdline: &'a str,
    /// Scheduler weight (1 to 65535).
    pub weight: u16,
    /// Scheduler cap in percent of one CPU; 0 for none.
    pub cap: u16,
}

/// The domain that `line` (not a comment, not the header) defines.
pub(super) fn parse_domain(line: &str) -> Result<DomainSpec<'_>, ManifestErrorKind<'_>> {
    let mut rest = line;
    match next_field(&mut rest) {
        Some("domain") => {}
        other => return Err(ManifestErrorKind::UnknownDirective(other.unwrap_or_default())),
    }
    let name = next_field(&mut rest).ok_or(ManifestErrorKind::MissingName)?;
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(ManifestErrorKind::BadName(name));
    }
    let (mut kernel, mut memory, mut maxmem, mut ramdisk) = (None, None, None, None);
    let (mut weight, mut cap, mut cmdline) = (None, None, "");
    loop {
        rest = rest.trim_start_matches(is_blank);
        if let Some(verbatim) = rest.strip_prefix("cmdline=") {
            cmdline = verbatim;
            break;
        }
        let Some(field) = next_field(&mut rest) else { break };
        let (key, value) = field
            .split_once('=')
            .ok_or(ManifestErrorKind::MalformedSetting(field))?;
        let slot = match key {
            "kernel" => &mut kernel,
            "memory" => &mut memory,
            "maxmem" => &mut maxmem,
            "ramdisk" => &mut ramdisk,
            "weight" => &mut weight,
            "cap" => &mut cap,
            _ => return Err(ManifestErrorKind::UnknownKey(key)),
        };
        if slot.replace(value).is_some() {
            return Err(ManifestErrorKind::DuplicateKey(key));
        }
    }
    let kernel = kernel.ok_or(ManifestErrorKind::MissingKernel(name))?;
    if kernel.is_empty() {
        return Err(ManifestErrorKind::EmptyValue("kernel"));
    }
    let memory_bytes = memory.map_or(Ok(DEFAULT_MEMORY_BYTES), parse_memory)?;
    let maxmem_bytes = match maxmem {
        None => memory_bytes,
        Some(text) => {
            let bytes = parse_memory(text)?;
            if bytes < memory_bytes {
                return Err(ManifestErrorKind::MaxmemBelowMemory(text));
            }
            bytes
        }
    };
    if ramdisk == Some("") {
        return Err(ManifestErrorKind::EmptyValue("ramdisk"));
    }
    let weight = match weight {
        None => DEFAULT_WEIGHT,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|&weight| weight > 0)
            .ok_or(ManifestErrorKind::BadWeight(text))?,
    };
    let cap = match cap {
        None => 0,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|&cap| cap <= 100)
            .ok_or(ManifestErrorKind::BadCap(text))?,
    };
    if cmdline.len() > MAX_CMDLINE_LEN {
        return Err(ManifestErrorKind::CmdlineTooLong(cmdline.len()));
    }
    Ok(DomainSpec {
        name,
        kernel,
        memory_bytes,
        maxmem_bytes,
        ramdisk,
        cmdline,
        weight,
        cap,
    })
}

/// A size such as `64M`: decimal digits and a binary unit.
fn parse_memory(size: &str) -> Result<u64, ManifestErrorKind<'_>> {
    let (digits, shift) = if let Some(digits) = size.strip_suffix('K') {
        (digits, 10)
    } else if let Some(digits) = size.strip_suffix('M') {
        (digits, 20)
    } else if let Some(digits) = size.strip_suffix('G') {
        (digits, 30)
    } else {
        return Err(ManifestErrorKind::BadMemory(size));
    };
    // `u64::from_str` would also take a sign; only digits are a size.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ManifestErrorKind::BadMemory(size));
    }
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|count| count.checked_mul(1 << shift))
        .filter(|&bytes| bytes > 0 && bytes <= MAX_MEMORY_BYTES)
        .ok_or(ManifestErrorKind::MemoryOutOfRange(size))?;
    if !bytes.is_multiple_of(PAGE_SIZE) {
        return Err(ManifestErrorKind::MemoryNotPageMultiple(size));
    }
    Ok(bytes)
}
