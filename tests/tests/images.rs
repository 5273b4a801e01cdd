//! The images every scenario boots: each example guest found from its
//! folder, and bundles refused when they name a guest there is not.

use tests::images;
use xtask::bundle::{Bundle, Domain};
use xtask::workspace_root;

#[test]
fn every_example_that_is_a_crate_is_built_as_a_guest() {
    let examples = workspace_root().join("guest-sdk").join("examples");
    let mut crates: Vec<String> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|folder| folder.join("Cargo.toml").is_file())
        .map(|folder| folder.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    let built: Vec<&str> = images().guest_names().collect();
    assert_eq!(
        built,
        crates,
        "the guests built are the crates in {}",
        examples.display()
    );
    for guest in built {
        let image = images().image_of(guest).unwrap();
        assert!(image.is_file(), "{guest}: {}", image.display());
        assert!(images().bundle_for(guest).unwrap().is_file(), "{guest}'s bundle");
    }
}

#[test]
fn a_bundle_naming_a_guest_there_is_not_is_refused_with_the_guests_there_are() {
    const UNKNOWN: Bundle = Bundle::new("unknown-guest", &[Domain::new("dom0", "no_such_guest", "memory=16M")]);
    let error = images().write(&UNKNOWN).unwrap_err().to_string();
    assert!(error.contains("no example guest \"no_such_guest\""), "{error}");
    assert!(error.contains("hello"), "{error}");
}

#[test]
fn two_different_bundles_of_one_name_are_refused() {
    const FIRST: Bundle = Bundle::new("one-name", &[Domain::new("dom0", "hello", "memory=16M")]);
    const SECOND: Bundle = Bundle::new("one-name", &[Domain::new("dom0", "hello", "memory=32M")]);
    images().write(&FIRST).unwrap();
    images().write(&FIRST).expect("the same bundle twice is fine");
    let error = images().write(&SECOND).unwrap_err().to_string();
    assert!(
        error.contains("two different bundles are named \"one-name\""),
        "{error}"
    );
}

/// `data` compressed as Linux's build compresses a kernel with xz: x86 BCJ,
/// CRC32, and the uncompressed size appended.
fn linux_xz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("xz")
        .args(["--format=xz", "--check=crc32", "--x86", "--lzma2=dict=8MiB"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("xz (Debian's xz-utils)");
    let mut stdin = child.stdin.take().unwrap();
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let mut bytes = output.stdout;
    bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    bytes
}

/// A bzImage around `payload`: boot sector, four setup sectors, boot
/// protocol 2.15, the payload 0x40 bytes into the protected-mode part.
fn bzimage(payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 5 * 512 + 0x40];
    bytes[0x1f1] = 4;
    bytes[0x1fe..0x200].copy_from_slice(&0xaa55u16.to_le_bytes());
    bytes[0x202..0x206].copy_from_slice(b"HdrS");
    bytes[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    bytes[0x248..0x24c].copy_from_slice(&0x40u32.to_le_bytes());
    bytes[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn a_guest_shipped_as_a_bzimage_with_an_xz_payload_boots() {
    let elf = std::fs::read(images().image_of("hello").unwrap()).unwrap();
    let file = bzimage(&linux_xz(&elf));
    let manifest = "xen-core-manifest 1\ndomain dom0 kernel=vmlinuz memory=32M cmdline=from a bzImage\n";
    let path = workspace_root().join("target").join("bundle").join("hello-bzimage.tar");
    xtask::bundle::write_bundle(&path, manifest, &[("vmlinuz", &file)]).unwrap();
    let outcome = tests::Boot::new("").with_bundle(Some(path)).run();
    outcome.expect_verdict(xen_core::debug_exit::DebugExit::Success);
    let unpacked = outcome.expect_line("d0: kernel vmlinuz is a bzImage holding a Xz-compressed ELF of");
    assert!(unpacked.ends_with(&format!("{} bytes", elf.len())), "{unpacked}");
    outcome.expect_line("from a bzImage");
}
