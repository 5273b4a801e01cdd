//! Malformed boot bundles: each gives one clear error line and the failure code,
//! never a hang or a fault.

use std::path::PathBuf;
use tests::{Boot, Outcome, images};
use xen_core::debug_exit::DebugExit;

/// Writes `bytes` as a bundle file for one scenario.
fn bundle_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bundle-{name}.tar"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn boot_with(name: &str, bytes: &[u8]) -> Outcome {
    let outcome = Boot::new("").with_bundle(Some(bundle_file(name, bytes))).run();
    outcome.expect_verdict(DebugExit::Failure);
    outcome
}

fn good_bundle() -> Vec<u8> {
    std::fs::read(&images().bundle).unwrap()
}

#[test]
fn a_corrupt_header_is_a_checksum_error() {
    let mut bytes = good_bundle();
    bytes[0] ^= 0x20; // first byte of the first member's name
    let outcome = boot_with("bad-checksum", &bytes);
    outcome.expect_line("bundle: tar: bad header checksum at offset 0");
}

#[test]
fn a_truncated_bundle_is_reported() {
    let bytes = good_bundle();
    let outcome = boot_with("truncated", &bytes[..512 + 100]);
    let line = outcome.expect_line("bundle: ");
    assert!(line.contains("tar: archive cut short"), "{line}");
}

#[test]
fn a_bundle_that_is_not_an_archive_is_reported() {
    let outcome = boot_with("garbage", &[0x5a; 3000]);
    outcome.expect_line("bundle: tar: ");
}

#[test]
fn a_manifest_naming_a_missing_kernel_is_reported() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bundle-missing-kernel.tar");
    let manifest = "xen-core-manifest 1\ndomain dom0 kernel=absent.elf\n";
    xtask::bundle::write_bundle(&path, manifest, &[("hello.elf", b"not used")]).unwrap();
    let outcome = Boot::new("").with_bundle(Some(path)).run();
    outcome.expect_verdict(DebugExit::Failure);
    let line = outcome.expect_line("bundle: ");
    assert!(line.contains("dom0") && line.contains("absent.elf"), "{line}");
}

#[test]
fn booting_without_a_bundle_says_how_to_pass_one() {
    let outcome = Boot::new("").with_bundle(None).run();
    outcome.expect_verdict(DebugExit::Failure);
    outcome.expect_line("bundle: no boot module");
}
