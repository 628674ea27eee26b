//! Files the runtime keeps on disk: a private directory when there is no home, bounded reads
//! that refuse links and special files, and the host's boot clock (which wall-clock steps do
//! not move) for expiries shared between processes of one host.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};

const ID: &str = "micro.files";

/// `NAME-<uid>` under the system's temporary directory, created readable by this user only.
/// An existing one must belong to this user (another user could have planted it to read or
/// forge what is kept there); its permissions are narrowed to the owner.
pub(crate) fn private_temp_dir(name: &str) -> Result<PathBuf> {
    let base = std::env::temp_dir();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
        let dir = base.join(match uid {
            Some(uid) => format!("{name}-{uid}"),
            None => name.to_owned(),
        });
        let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
        if let Err(e) = made
            && e.kind() != io::ErrorKind::AlreadyExists
        {
            return Err(Error::internal(
                ID,
                format!("cannot create {}: {e} (set MICRO_HOME)", dir.display()),
            ));
        }
        let meta = std::fs::symlink_metadata(&dir)
            .map_err(|e| Error::internal(ID, format!("cannot read {}: {e}", dir.display())))?;
        if !meta.is_dir() || uid.is_some_and(|uid| meta.uid() != uid) {
            return Err(Error::internal(
                ID,
                format!(
                    "{} is not a directory of this user: refusing to keep micro's files there (set MICRO_HOME)",
                    dir.display()
                ),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |e| Error::internal(ID, format!("cannot restrict {}: {e}", dir.display())),
            )?;
        }
        Ok(dir)
    }
    #[cfg(not(unix))]
    {
        Ok(base.join(name))
    }
}

/// Why [`read_regular`] gave nothing.
#[derive(Debug)]
pub(crate) enum Skip {
    /// The file is gone.
    Missing,
    /// A symbolic link, a FIFO, a device ...: never opened.
    NotRegular,
    /// Larger than the limit.
    TooLarge,
    /// Could not be read.
    Failed(io::Error),
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Missing => f.write_str("missing"),
            Skip::NotRegular => f.write_str("not a regular file (a link, FIFO or device)"),
            Skip::TooLarge => f.write_str("larger than the limit"),
            Skip::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// The bytes of the regular file at `path`, at most `max` of them. Symbolic links are not
/// followed and FIFOs are not waited on (the open neither follows nor blocks; the opened
/// file is checked to be regular).
pub(crate) fn read_regular(path: &Path, max: u64) -> std::result::Result<Vec<u8>, Skip> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Skip::Missing),
        // ELOOP: the last component is a symbolic link.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(Skip::NotRegular),
        Err(e) => return Err(Skip::Failed(e)),
    };
    let meta = file.metadata().map_err(Skip::Failed)?;
    if !meta.is_file() {
        return Err(Skip::NotRegular);
    }
    if meta.len() > max {
        return Err(Skip::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(Skip::Failed)?;
    if bytes.len() as u64 > max {
        return Err(Skip::TooLarge);
    }
    Ok(bytes)
}

/// This boot of the host, when the system says (Linux): expiries measured on the boot
/// clock are only compared within one boot.
pub(crate) fn boot_id() -> Option<&'static str> {
    static ID: OnceLock<Option<String>> = OnceLock::new();
    ID.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
    .as_deref()
}

/// Milliseconds since the host booted (Linux's `/proc/uptime`): the same clock for every
/// process of the host, and not moved when the wall clock is stepped.
pub(crate) fn boot_ms() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some((secs * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_regular_files_within_the_limit() {
        let dir = std::env::temp_dir().join(format!("micro-files-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.json");
        std::fs::write(&file, b"{}").unwrap();
        assert_eq!(read_regular(&file, 16).unwrap(), b"{}");
        assert!(matches!(read_regular(&file, 1), Err(Skip::TooLarge)));
        assert!(matches!(
            read_regular(&dir.join("gone"), 16),
            Err(Skip::Missing)
        ));
        #[cfg(unix)]
        {
            let link = dir.join("link.json");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(matches!(read_regular(&link, 16), Err(Skip::NotRegular)));
            let fifo = dir.join("fifo.json");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success());
            // Would block forever if opened for a blocking read.
            assert!(matches!(read_regular(&fifo, 16), Err(Skip::NotRegular)));
            assert!(matches!(read_regular(&dir, 16), Err(Skip::NotRegular)));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_private_temp_dir_is_the_users_own() {
        use std::os::unix::fs::PermissionsExt;
        let name = format!("micro-test-{}", fastrand::u64(..));
        let dir = private_temp_dir(&name).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Opened up by someone: narrowed again.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(private_temp_dir(&name).unwrap(), dir);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
