//! The tidy check `cargo xtask test` starts with: no Rust file over
//! [`MAX_LINES`] lines, and one build layout (the two workspaces' lock files,
//! one rustfmt.toml).

use crate::Result;
use std::path::{Path, PathBuf};

/// The most lines a Rust file may have, tests included.
pub const MAX_LINES: usize = 600;

/// The lock files of the two workspaces: the host one and the bare-metal one.
const LOCK_FILES: [&str; 2] = ["Cargo.lock", "bare-metal/Cargo.lock"];

/// The one rustfmt configuration (rustfmt looks in parent folders).
const RUSTFMT_CONFIGS: [&str; 1] = ["rustfmt.toml"];

/// Checks the tree under `root`, printing every problem; fails if any.
pub fn check(root: &Path) -> Result<()> {
    let files = files_under(root, root)?;
    let mut problems = Vec::new();
    for file in files
        .iter()
        .filter(|file| file.extension().is_some_and(|ext| ext == "rs"))
    {
        let text = std::fs::read_to_string(root.join(file)).map_err(|e| format!("{}: {e}", file.display()))?;
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{} has {lines} lines, over {MAX_LINES}: split it by object",
                file.display()
            ));
        }
    }
    let unexpected = |name: &str, expected: &[&str], why: &str| {
        files
            .iter()
            .filter(|file| file.file_name().is_some_and(|file_name| file_name == name))
            .filter(|file| !expected.iter().any(|path| Path::new(path) == *file))
            .map(|file| format!("{}: {why}", file.display()))
            .collect::<Vec<_>>()
    };
    problems.extend(unexpected(
        "Cargo.lock",
        &LOCK_FILES,
        "a lock file besides the host workspace's and the bare-metal workspace's \
         (a bare-metal crate belongs to bare-metal/Cargo.toml: set `package.workspace`)",
    ));
    problems.extend(unexpected(
        "rustfmt.toml",
        &RUSTFMT_CONFIGS,
        "a second rustfmt configuration (the root's applies to the whole tree)",
    ));
    problems.extend(crate::import_graph::problems(root)?);
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    match problems.len() {
        0 => Ok(()),
        count => Err(format!("tidy: {count} problem(s), listed above").into()),
    }
}

/// Every file under `folder`, relative to `root`, sorted; build output
/// (`target`) and hidden folders (`.git`) left out.
fn files_under(root: &Path, folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                files.extend(files_under(root, &path)?);
            }
        } else if kind.is_file() {
            files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch tree of `files` in the temporary folder.
    fn tree(name: &str, files: &[(&str, String)]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-tidy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    fn lines(count: usize) -> String {
        "x\n".repeat(count)
    }

    #[test]
    fn a_tidy_tree_passes() {
        let root = tree(
            "tidy",
            &[
                ("Cargo.lock", String::new()),
                ("bare-metal/Cargo.lock", String::new()),
                ("rustfmt.toml", String::new()),
                ("src/lib.rs", lines(MAX_LINES)),
                ("target/debug/build/out.rs", lines(MAX_LINES + 1)),
            ],
        );
        assert!(check(&root).is_ok());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_long_file_a_third_lock_file_and_a_second_rustfmt_toml_fail() {
        for (name, file) in [
            ("long", ("src/long.rs", lines(MAX_LINES + 1))),
            ("lock", ("guest-sdk/examples/new/Cargo.lock", String::new())),
            ("rustfmt", ("xen-core/kernel/rustfmt.toml", String::new())),
        ] {
            let root = tree(name, &[("Cargo.lock", String::new()), file]);
            assert!(check(&root).is_err(), "{name}");
            std::fs::remove_dir_all(root).unwrap();
        }
    }
}
