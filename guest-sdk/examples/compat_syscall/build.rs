//! Links this guest below 4 GiB (its attack runs 32-bit code there).

fn main() {
    let script = std::env::var("DEP_GUEST_SDK_LINKER_SCRIPT_LOW").expect("guest-sdk publishes its scripts");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
}
