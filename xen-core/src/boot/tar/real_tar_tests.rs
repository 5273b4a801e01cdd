//! Archives made by the real `tar` command, when the host has one.

use super::*;
use std::format;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::vec::Vec as StdVec;

static NEXT_DIRECTORY: AtomicUsize = AtomicUsize::new(0);

/// Packs `files` from a fresh directory with `tar --format=<format>`, or
/// `None` when no `tar` can be run.
fn pack(format: &str, files: &[(&str, &[u8])], root_as_dot: bool) -> Option<StdVec<u8>> {
    let unique = NEXT_DIRECTORY.fetch_add(1, Ordering::Relaxed);
    let directory: PathBuf =
        std::env::temp_dir().join(format!("xen-core-tar-{}-{format}-{unique}", std::process::id()));
    let root = directory.join("root");
    for (name, data) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let archive = directory.join("bundle.tar");
    let mut command = Command::new("tar");
    command
        .arg(format!("--format={format}"))
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&root);
    if root_as_dot {
        command.arg(".");
    } else {
        command.args(files.iter().map(|(name, _)| name));
    }
    let packed = match command.status() {
        Ok(status) if status.success() => Some(std::fs::read(&archive).unwrap()),
        Ok(status) => panic!("tar --format={format} failed: {status}"),
        Err(error) => {
            std::eprintln!("skipping: cannot run tar: {error}");
            None
        }
    };
    std::fs::remove_dir_all(&directory).unwrap();
    packed
}

#[test]
fn archives_from_the_tar_command_read_back_in_every_format() {
    // Too long for the 100-byte name field, short enough for every format to
    // store: a ustar prefix, a GNU long-name entry or a pax path record.
    let long_name = format!("{}/kernel-with-a-long-name.elf", "long-directory-name-".repeat(4));
    let kernel: StdVec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let files: [(&str, &[u8]); 4] = [
        ("manifest", b"xen-core-manifest 1\n"),
        ("dom0.elf", &kernel),
        (&long_name, b"long"),
        ("empty", b""),
    ];
    for format in ["gnu", "ustar", "posix"] {
        for root_as_dot in [false, true] {
            let Some(bytes) = pack(format, &files, root_as_dot) else {
                return;
            };
            let archive = TarArchive::parse(&bytes).unwrap_or_else(|error| panic!("--format={format}: {error}"));
            assert_eq!(archive.files().count(), files.len(), "--format={format}");
            for (name, data) in files {
                let file = archive.file(name).unwrap_or_else(|| panic!("{format}: {name}"));
                assert_eq!(file.data, data, "--format={format} {name}");
            }
        }
    }
}

#[test]
fn the_v7_format_without_magic_is_refused() {
    let Some(bytes) = pack("v7", &[("a", b"x")], false) else {
        return;
    };
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadMagic { offset: 0 }));
}
