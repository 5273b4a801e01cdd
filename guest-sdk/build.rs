//! Tells guest crates where the SDK's linker script is: their build scripts
//! read it as `DEP_GUEST_SDK_LINKER_SCRIPT` (see `links` in Cargo.toml), or
//! `DEP_GUEST_SDK_LINKER_SCRIPT_LOW` for a guest linked below 4 GiB.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:linker_script={dir}/guest.ld");
    println!("cargo:linker_script_low={dir}/guest-low.ld");
    println!("cargo:rerun-if-changed=guest.ld");
    println!("cargo:rerun-if-changed=guest-low.ld");
}
