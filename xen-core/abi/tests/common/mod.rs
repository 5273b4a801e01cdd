//! The C-probe harness shared by the conformance tests.
//!
//! A small C program prints `sizeof`, `offsetof` and constant values computed by
//! the real headers; each line is compared with the value Rust computes for the
//! same item. The headers come from the `libxen-dev` package, which
//! `cargo xtask test` installs.
#![allow(dead_code, unused_macros)] // each test binary uses a different part

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Compiles and runs a C program printing each expression, returns the values
/// (as 64-bit patterns: signed values are sign-extended).
pub fn c_values(headers: &[&str], expressions: &[&str]) -> Vec<u64> {
    c_values_with(&[], headers, expressions)
}

/// As [`c_values`], with `defines` (`NAME` or `NAME VALUE`) set before the headers.
pub fn c_values_with(defines: &[&str], headers: &[&str], expressions: &[&str]) -> Vec<u64> {
    let probe = PathBuf::from("/usr/include/xen/xen.h");
    assert!(
        probe.exists(),
        "Xen public headers missing: install the Debian package libxen-dev (cargo xtask test does)"
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-layout");
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel threads: every probe gets its own files.
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "probe-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    );
    let source = dir.join(format!("{name}.c"));
    let binary = dir.join(&name);
    let mut c = String::new();
    for define in defines {
        c.push_str(&format!("#define {define}\n"));
    }
    c.push_str(
        "#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__\n\
         #include <stdint.h>\n#include <stddef.h>\n#include <stdio.h>\n",
    );
    for header in headers {
        c.push_str(&format!("#include <{header}>\n"));
    }
    c.push_str("int main(void) {\n");
    for expression in expressions {
        c.push_str(&format!(
            "    printf(\"%llu\\n\", (unsigned long long)({expression}));\n"
        ));
    }
    c.push_str("    return 0;\n}\n");
    std::fs::write(&source, c).unwrap();
    let status = Command::new("cc")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("run the C compiler (cc)");
    assert!(status.success(), "C probe failed to compile: {}", source.display());
    let output = Command::new(&binary).output().expect("run the C probe");
    assert!(output.status.success(), "C probe failed: {}", binary.display());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.parse().unwrap())
        .collect()
}

/// Checks each `(C expression, Rust value)` pair.
pub fn assert_layouts(headers: &[&str], pairs: &[(&str, usize)]) {
    let mut probe = Probe::new(headers);
    for (c, rust) in pairs {
        probe.value(*c, *rust);
    }
    probe.run();
}

/// A Rust value compared with a C expression, as its 64-bit pattern.
pub trait Bits64 {
    /// The value zero- or sign-extended to 64 bits, as C's cast to
    /// `unsigned long long` extends it.
    fn bits64(self) -> u64;
}

macro_rules! bits64_unsigned {
    ($($t:ty),*) => {$(impl Bits64 for $t { fn bits64(self) -> u64 { self as u64 } })*};
}
macro_rules! bits64_signed {
    ($($t:ty),*) => {$(impl Bits64 for $t { fn bits64(self) -> u64 { self as i64 as u64 } })*};
}
bits64_unsigned!(u8, u16, u32, u64, usize);
bits64_signed!(i8, i16, i32, i64);

/// A batch of comparisons against one set of headers, compiled as one C program.
pub struct Probe {
    defines: Vec<String>,
    headers: Vec<String>,
    items: Vec<(String, u64)>,
}

impl Probe {
    /// A probe including `headers` (as `<xen/...>` paths).
    pub fn new(headers: &[&str]) -> Self {
        Probe {
            defines: Vec::new(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            items: Vec::new(),
        }
    }

    /// Defines a macro (`NAME` or `NAME VALUE`) before the headers.
    pub fn define(&mut self, define: &str) -> &mut Self {
        self.defines.push(define.to_string());
        self
    }

    /// Compares the C expression `c` with the Rust value `rust`.
    pub fn value(&mut self, c: impl Into<String>, rust: impl Bits64) -> &mut Self {
        self.items.push((c.into(), rust.bits64()));
        self
    }

    /// Compiles and runs the probe; fails listing every mismatch.
    pub fn run(&self) {
        let defines: Vec<&str> = self.defines.iter().map(String::as_str).collect();
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        let expressions: Vec<&str> = self.items.iter().map(|(c, _)| c.as_str()).collect();
        let values = c_values_with(&defines, &headers, &expressions);
        assert_eq!(values.len(), self.items.len(), "C probe printed too few values");
        let mismatches: Vec<String> = self
            .items
            .iter()
            .zip(values)
            .filter(|((_, rust), c)| rust != c)
            .map(|((expr, rust), c)| format!("{expr}: C says {c:#x}, Rust says {rust:#x}"))
            .collect();
        assert!(
            mismatches.is_empty(),
            "mismatches with the C headers:\n{}",
            mismatches.join("\n")
        );
        eprintln!("compared {} items with the C headers", self.items.len());
    }
}

/// Compares a struct's size and, for each listed field, its offset and size:
/// `layout!(probe, "struct c_name", RustType { "c_field" => rust_field, ... })`.
/// Nested paths work on both sides (`"arch.cr2" => arch.cr2`).
macro_rules! layout {
    ($probe:expr, $c:literal, $t:ty { $($cf:literal => $($rf:ident).+),* $(,)? }) => {{
        let zero = <$t as zerocopy::FromZeros>::new_zeroed();
        $probe.value(concat!("sizeof(", $c, ")"), core::mem::size_of::<$t>());
        $(
            $probe.value(
                concat!("offsetof(", $c, ", ", $cf, ")"),
                core::mem::offset_of!($t, $($rf).+),
            );
            $probe.value(
                concat!("sizeof(((", $c, " *)0)->", $cf, ")"),
                core::mem::size_of_val(&zero.$($rf).+),
            );
        )*
        let _ = zero;
    }};
}

/// Compares the fields of a union view held as raw bytes in a Rust struct:
/// `view!(probe, "struct c_name", "c.union.path", base_offset, ViewType { "c_field" => rust_field, ... })`.
macro_rules! view {
    ($probe:expr, $c:literal, $path:literal, $base:expr, $t:ty { $($cf:literal => $rf:ident),* $(,)? }) => {{
        let zero = <$t as zerocopy::FromZeros>::new_zeroed();
        $(
            $probe.value(
                concat!("offsetof(", $c, ", ", $path, ".", $cf, ")"),
                $base + core::mem::offset_of!($t, $rf),
            );
            $probe.value(
                concat!("sizeof(((", $c, " *)0)->", $path, ".", $cf, ")"),
                core::mem::size_of_val(&zero.$rf),
            );
        )*
        let _ = zero;
    }};
}

/// Compares constants: `constants!(probe, C_NAME => RUST_VALUE, SAME_NAME, ...)`.
macro_rules! constants {
    ($probe:expr, $($c:ident $(=> $r:expr)?),* $(,)?) => {{
        $( constants!(@one $probe, $c $(=> $r)?); )*
    }};
    (@one $probe:expr, $c:ident) => {
        $probe.value(stringify!($c), $c);
    };
    (@one $probe:expr, $c:ident => $r:expr) => {
        $probe.value(stringify!($c), $r);
    };
}
