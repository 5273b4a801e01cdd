//! Build script shared by every example guest (`build = "../guest_build.rs"`):
//! links with the SDK's script, as a fixed-address (non-PIE) executable.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../guest.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=../../guest.ld");
}
