//! Writing boot bundles: a POSIX ustar archive holding `manifest` and the
//! domain images, readable with `tar tvf`.

use crate::Result;
use std::path::Path;

/// Writes a bundle with `manifest` first, then `files` in order.
///
/// Headers carry fixed owners and times so the same inputs give the same bytes.
pub fn write_bundle(path: &Path, manifest: &str, files: &[(&str, &[u8])]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let output = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut archive = tar::Builder::new(output);
    let members = std::iter::once(("manifest", manifest.as_bytes())).chain(files.iter().copied());
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive.append_data(&mut header, name, data)?;
    }
    archive.into_inner()?.sync_all()?;
    Ok(())
}
