//! Links the image with our script, as a fixed-address (non-PIE) executable.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    // The 32-bit entry stub uses absolute addresses, which -pie refuses.
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rerun-if-changed=src/arch/boot.S");
    println!("cargo:rerun-if-changed=src/arch/exception_entry.S");
}
