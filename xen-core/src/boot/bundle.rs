//! The boot bundle: one tar archive holding a manifest and the domains' kernels.
//!
//! The loader passes the bundle as the first boot module. [`BootBundle::parse`]
//! checks everything that can be checked before any domain is built (the archive,
//! the manifest, and that every kernel the manifest names is a non-empty file), so
//! a bad bundle stops the boot with one clear message instead of failing after
//! dom0 is half built. See [`super::manifest`] for the manifest's format.

use super::manifest::{DomainSpec, Manifest, ManifestError};
use super::tar::{TarArchive, TarError};
use core::fmt;

/// Name of the manifest file inside the archive.
pub const MANIFEST_FILE: &str = "manifest";

/// A validated boot bundle, borrowing from the module's bytes.
#[derive(Clone, Debug)]
pub struct BootBundle<'a> {
    archive: TarArchive<'a>,
    manifest: Manifest<'a>,
}

/// Why a boot bundle was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError<'a> {
    /// The archive itself is malformed.
    Tar(TarError),
    /// The archive has no file named [`MANIFEST_FILE`].
    MissingManifest,
    /// The manifest is not UTF-8 text.
    ManifestNotUtf8,
    /// The manifest is malformed.
    Manifest(ManifestError<'a>),
    /// A domain's kernel is not in the archive.
    MissingKernel {
        /// The domain's name.
        domain: &'a str,
        /// The kernel file the manifest names.
        file: &'a str,
    },
    /// A domain's kernel file is empty.
    EmptyKernel {
        /// The domain's name.
        domain: &'a str,
        /// The kernel file the manifest names.
        file: &'a str,
    },
    /// A domain's boot module (`ramdisk=`) is not in the archive.
    MissingRamdisk {
        /// The domain's name.
        domain: &'a str,
        /// The module file the manifest names.
        file: &'a str,
    },
}

impl From<TarError> for BundleError<'_> {
    fn from(error: TarError) -> Self {
        BundleError::Tar(error)
    }
}

impl<'a> From<ManifestError<'a>> for BundleError<'a> {
    fn from(error: ManifestError<'a>) -> Self {
        BundleError::Manifest(error)
    }
}

impl fmt::Display for BundleError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Tar(error) => write!(f, "bundle: {error}"),
            BundleError::MissingManifest => {
                write!(f, "bundle: the archive has no `{MANIFEST_FILE}` file")
            }
            BundleError::ManifestNotUtf8 => write!(f, "bundle: `{MANIFEST_FILE}` is not UTF-8 text"),
            BundleError::Manifest(error) => write!(f, "bundle: {error}"),
            BundleError::MissingKernel { domain, file } => {
                write!(f, "bundle: kernel `{file}` of domain `{domain}` is not in the archive")
            }
            BundleError::EmptyKernel { domain, file } => {
                write!(f, "bundle: kernel `{file}` of domain `{domain}` is empty")
            }
            BundleError::MissingRamdisk { domain, file } => {
                write!(f, "bundle: ramdisk `{file}` of domain `{domain}` is not in the archive")
            }
        }
    }
}

impl<'a> BootBundle<'a> {
    /// Parses and checks the bundle in `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<BootBundle<'a>, BundleError<'a>> {
        let archive = TarArchive::parse(bytes)?;
        let manifest_file = archive.file(MANIFEST_FILE).ok_or(BundleError::MissingManifest)?;
        let text = core::str::from_utf8(manifest_file.data).map_err(|_| BundleError::ManifestNotUtf8)?;
        let manifest = Manifest::parse(text)?;
        for domain in &manifest.domains {
            let (name, file) = (domain.name, domain.kernel);
            match archive.file(file) {
                None => return Err(BundleError::MissingKernel { domain: name, file }),
                Some(kernel) if kernel.data.is_empty() => {
                    return Err(BundleError::EmptyKernel { domain: name, file });
                }
                Some(_) => {}
            }
            if let Some(file) = domain.ramdisk
                && archive.file(file).is_none()
            {
                return Err(BundleError::MissingRamdisk { domain: name, file });
            }
        }
        Ok(BootBundle { archive, manifest })
    }

    /// The bundle's archive.
    pub fn archive(&self) -> &TarArchive<'a> {
        &self.archive
    }

    /// The bundle's manifest.
    pub fn manifest(&self) -> &Manifest<'a> {
        &self.manifest
    }

    /// The kernel image of `domain`, one of this bundle's manifest's domains.
    ///
    /// [`BootBundle::parse`] checked that each of those has a non-empty kernel, so an
    /// empty slice can only mean a domain from some other manifest.
    pub fn kernel_image(&self, domain: &DomainSpec<'_>) -> &'a [u8] {
        self.archive.file(domain.kernel).map_or(&[], |file| file.data)
    }

    /// The boot module of `domain` (`ramdisk=`), empty if it has none.
    /// [`BootBundle::parse`] checked that every module named is there.
    pub fn module(&self, domain: &DomainSpec<'_>) -> &'a [u8] {
        domain
            .ramdisk
            .and_then(|name| self.archive.file(name))
            .map_or(&[], |file| file.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::manifest::ManifestErrorKind;
    use std::string::ToString;
    use std::vec::Vec;

    /// A ustar archive of `files`, checksums and end marker included.
    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (name, data) in files {
            let mut header = [0u8; 512];
            header[..name.len()].copy_from_slice(name.as_bytes());
            header[100..108].copy_from_slice(b"0000644\0");
            header[124..136].copy_from_slice(std::format!("{:011o}\0", data.len()).as_bytes());
            header[156] = b'0';
            header[257..265].copy_from_slice(b"ustar\x0000");
            header[148..156].fill(b' ');
            let sum: u32 = header.iter().map(|&byte| u32::from(byte)).sum();
            header[148..156].copy_from_slice(std::format!("{sum:06o}\0 ").as_bytes());
            bytes.extend_from_slice(&header);
            bytes.extend_from_slice(data);
            bytes.resize(bytes.len().next_multiple_of(512), 0);
        }
        bytes.resize(bytes.len() + 1024, 0);
        bytes
    }

    const MANIFEST: &[u8] = b"xen-core-manifest 1\n\
                              domain dom0 kernel=dom0.elf memory=64M\n\
                              domain demo kernel=boot/hello.elf cmdline=console=hvc0\n";

    #[test]
    fn a_complete_bundle_gives_each_domain_its_kernel() {
        let bytes = archive(&[
            ("manifest", MANIFEST),
            ("dom0.elf", b"\x7fELF dom0"),
            ("boot/hello.elf", b"\x7fELF hello"),
        ]);
        let bundle = BootBundle::parse(&bytes).unwrap();
        let domains = &bundle.manifest().domains;
        assert_eq!(domains.len(), 2);
        assert_eq!(bundle.kernel_image(&domains[0]), b"\x7fELF dom0");
        assert_eq!(bundle.kernel_image(&domains[1]), b"\x7fELF hello");
        assert_eq!(domains[1].cmdline, "console=hvc0");
        assert_eq!(bundle.archive().files().count(), 3);
    }

    #[test]
    fn a_broken_archive_is_reported_as_such() {
        assert_eq!(
            BootBundle::parse(&[]).unwrap_err(),
            BundleError::Tar(TarError::Truncated { offset: 0 })
        );
    }

    #[test]
    fn the_manifest_must_exist_and_be_text() {
        let bytes = archive(&[("dom0.elf", b"k")]);
        assert_eq!(BootBundle::parse(&bytes).unwrap_err(), BundleError::MissingManifest);
        let bytes = archive(&[("manifest", b"xen-core-manifest 1\n\xff\n")]);
        assert_eq!(BootBundle::parse(&bytes).unwrap_err(), BundleError::ManifestNotUtf8);
    }

    #[test]
    fn manifest_errors_are_passed_on() {
        let bytes = archive(&[("manifest", b"xen-core-manifest 1\ndomain dom0\n")]);
        assert_eq!(
            BootBundle::parse(&bytes).unwrap_err(),
            BundleError::Manifest(ManifestError {
                line: 2,
                kind: ManifestErrorKind::MissingKernel("dom0")
            })
        );
    }

    #[test]
    fn every_kernel_must_be_present_and_non_empty() {
        let bytes = archive(&[("manifest", MANIFEST), ("dom0.elf", b"k")]);
        assert_eq!(
            BootBundle::parse(&bytes).unwrap_err(),
            BundleError::MissingKernel {
                domain: "demo",
                file: "boot/hello.elf"
            }
        );
        let bytes = archive(&[("manifest", MANIFEST), ("dom0.elf", b""), ("boot/hello.elf", b"k")]);
        assert_eq!(
            BootBundle::parse(&bytes).unwrap_err(),
            BundleError::EmptyKernel {
                domain: "dom0",
                file: "dom0.elf"
            }
        );
    }

    #[test]
    fn a_ramdisk_named_must_be_in_the_archive_and_is_its_domains_module() {
        const WITH_MODULE: &[u8] = b"xen-core-manifest 1\n\
                                     domain dom0 kernel=dom0.elf ramdisk=initrd\n\
                                     domain demo kernel=dom0.elf\n";
        let bytes = archive(&[("manifest", WITH_MODULE), ("dom0.elf", b"k")]);
        assert_eq!(
            BootBundle::parse(&bytes).unwrap_err(),
            BundleError::MissingRamdisk {
                domain: "dom0",
                file: "initrd"
            }
        );
        let bytes = archive(&[("manifest", WITH_MODULE), ("dom0.elf", b"k"), ("initrd", b"module")]);
        let bundle = BootBundle::parse(&bytes).unwrap();
        let domains = &bundle.manifest().domains;
        assert_eq!(bundle.module(&domains[0]), b"module");
        assert_eq!(bundle.module(&domains[1]), b"", "no ramdisk= line: no module");
    }

    #[test]
    fn a_domain_from_elsewhere_has_no_kernel_here() {
        let bytes = archive(&[("manifest", MANIFEST), ("dom0.elf", b"k"), ("boot/hello.elf", b"k")]);
        let bundle = BootBundle::parse(&bytes).unwrap();
        let stranger = DomainSpec {
            name: "x",
            kernel: "other.elf",
            memory_bytes: 4096,
            maxmem_bytes: 4096,
            ramdisk: None,
            cmdline: "",
            weight: 256,
            cap: 0,
        };
        assert_eq!(bundle.kernel_image(&stranger), b"");
    }

    #[test]
    fn errors_read_as_one_line_starting_with_bundle() {
        let errors = [
            BundleError::Tar(TarError::BadChecksum { offset: 1024 }),
            BundleError::MissingManifest,
            BundleError::ManifestNotUtf8,
            BundleError::Manifest(ManifestError {
                line: 3,
                kind: ManifestErrorKind::UnknownKey("foo"),
            }),
            BundleError::MissingKernel {
                domain: "demo",
                file: "hello.elf",
            },
            BundleError::EmptyKernel {
                domain: "demo",
                file: "hello.elf",
            },
        ];
        for error in errors {
            let text = error.to_string();
            assert!(text.starts_with("bundle: ") && !text.contains('\n'), "{text}");
        }
        assert_eq!(errors[0].to_string(), "bundle: tar: bad header checksum at offset 1024");
        assert_eq!(errors[3].to_string(), "bundle: manifest line 3: unknown key `foo`");
        assert_eq!(
            errors[4].to_string(),
            "bundle: kernel `hello.elf` of domain `demo` is not in the archive"
        );
    }
}
