//! Build script shared by every example guest (`build = "../guest_build.rs"`):
//! links with the SDK's script, as a fixed-address (non-PIE) executable.

fn main() {
    let script = std::env::var("DEP_GUEST_SDK_LINKER_SCRIPT").expect("guest-sdk publishes its linker script");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
}
