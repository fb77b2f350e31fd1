//! `install DEST`: the init container's job in a pod whose image lacks the
//! recorder. It copies the running binary (static, so it runs in any image)
//! into the pod's emptyDir: written beside DEST, synced, made executable and
//! renamed, so the main container never sees half a binary.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Copies `source` (in main: /proc/self/exe) to `dest`.
pub fn install(source: &Path, dest: &Path) -> io::Result<()> {
    let mut temporary = OsString::from(dest.as_os_str());
    temporary.push(".tmp");
    let temporary = Path::new(&temporary);
    let mut from = File::open(source)?;
    let mut to = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o755)
        .open(temporary)?;
    io::copy(&mut from, &mut to)?;
    to.sync_all()?;
    // The mode given at creation passed through the umask.
    fs::set_permissions(temporary, fs::Permissions::from_mode(0o755))?;
    drop(to);
    fs::rename(temporary, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_is_whole_and_executable_under_its_name() {
        let dir =
            std::env::temp_dir().join(format!("toolbox-recorder-install-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("source"), b"\x7fELF...").unwrap();
        install(&dir.join("source"), &dir.join("toolbox-recorder")).unwrap();
        let dest = dir.join("toolbox-recorder");
        assert_eq!(fs::read(&dest).unwrap(), b"\x7fELF...");
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(!dir.join("toolbox-recorder.tmp").exists());
        assert!(install(&dir.join("missing"), &dest).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
