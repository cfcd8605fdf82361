//! Files that hold secrets (the API key, the client certificate's key, tokens): readable by
//! their owner only. One check, shared by the `tenpay` command and the reference server.

use std::path::Path;

/// A secret file that its group or others may read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LooseFile {
    /// Its permission bits (`0o644`, …).
    pub mode: u32,
}

/// Whether `path` is open to its group or others (Unix permission bits `0o077`). `None` when
/// it is private, when its metadata cannot be read (reading it will say why), and on systems
/// without Unix permissions.
#[must_use]
pub fn loose(path: &Path) -> Option<LooseFile> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then_some(LooseFile { mode: mode & 0o777 })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The warning for a loose secret file, naming it as `what`: "`what` PATH is readable by
/// others (mode 644); chmod 600 it". `None` when the file is private.
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::fs::PermissionsExt as _;
/// let path = std::env::temp_dir().join(format!("tenpay-doc-key-{}", std::process::id()));
/// std::fs::write(&path, "192006250b4c09247ec02edce69f6a2d")?;
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
/// let warning = tenpay_client::secret_file::warning(&path, "the key file").unwrap();
/// assert!(warning.contains("mode 644"));
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
/// assert!(tenpay_client::secret_file::warning(&path, "the key file").is_none());
/// # std::fs::remove_file(&path)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use]
pub fn warning(path: &Path, what: &str) -> Option<String> {
    loose(path).map(|l| {
        format!(
            "{what} {} is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            l.mode
        )
    })
}
