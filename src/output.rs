//! Writing result files: whole or not at all.
//!
//! Owns how bytes reach a file the user named: written to a temporary file
//! beside it, flushed to disk, then renamed over the target, so a reader
//! (or a crash half-way) never sees a half-written drawing or report. A
//! results directory is written the same way: every file into a temporary
//! directory beside it, which then takes the directory's place.
//!
//! Leaves out what the bytes are; renderers and reports produce them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writes within one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory (so the rename never crosses file systems), synced, then
/// renamed over `path`. On failure the temporary file is removed and
/// `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (file, tmp) = create_temporary(&dir, &name.to_string_lossy())?;
    let written = write_and_sync(file, bytes).and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Writes a whole directory atomically: `files` (name relative to `dir`, which
/// may name subdirectories, and contents) into a
/// temporary directory beside `dir`, each synced, then the temporary
/// directory renamed into place. An existing `dir` is replaced only once the
/// new one is complete. On failure nothing at `dir` changes and the
/// temporary directory is removed.
pub fn write_dir_atomic(dir: &Path, files: &[(String, Vec<u8>)]) -> io::Result<()> {
    let name = dir.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a directory", dir.display()),
        )
    })?;
    let parent = match dir.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let name = name.to_string_lossy();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = parent.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let old = parent.join(format!(".{name}.{}.{n}.old", std::process::id()));
    let result = (|| {
        fs::create_dir(&tmp)?;
        for (file, bytes) in files {
            // A name may hold subdirectories (`baseline/summary.json`).
            if let Some(sub) = Path::new(file).parent() {
                fs::create_dir_all(tmp.join(sub))?;
            }
            let f = File::create(tmp.join(file))?;
            write_and_sync(f, bytes)?;
        }
        if dir.exists() {
            fs::rename(dir, &old)?;
        }
        fs::rename(&tmp, dir)?;
        if old.exists() {
            fs::remove_dir_all(&old)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
        if old.exists() && !dir.exists() {
            let _ = fs::rename(&old, dir);
        }
    }
    result
}

fn create_temporary(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            // Left over by an earlier process with the same id: try the next.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn write_and_sync(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_directory_lands_whole_and_replaces_the_old_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("results").join("day");
        let files = vec![
            ("a.json".to_string(), b"1".to_vec()),
            ("b.csv".to_string(), b"x,y".to_vec()),
        ];
        write_dir_atomic(&dir, &files).unwrap();
        assert_eq!(names_in(&dir), vec!["a.json", "b.csv"]);
        write_dir_atomic(&dir, &files[..1]).unwrap();
        assert_eq!(names_in(&dir), vec!["a.json"]);
        assert_eq!(names_in(&root.path().join("results")), vec!["day"]);
    }

    #[test]
    fn a_failed_directory_write_leaves_the_old_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("day");
        write_dir_atomic(&dir, &[("a.json".to_string(), b"1".to_vec())]).unwrap();
        // A file cannot also be a subdirectory.
        let bad = vec![
            ("ok.json".to_string(), b"2".to_vec()),
            ("ok.json/inside.csv".to_string(), vec![]),
        ];
        assert!(write_dir_atomic(&dir, &bad).is_err());
        assert_eq!(fs::read(dir.join("a.json")).unwrap(), b"1");
        assert_eq!(names_in(root.path()), vec!["day"]);
    }

    #[test]
    fn names_may_hold_subdirectories() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cmp");
        let files = vec![
            ("compare.json".to_string(), b"{}".to_vec()),
            ("baseline/summary.json".to_string(), b"1".to_vec()),
        ];
        write_dir_atomic(&dir, &files).unwrap();
        assert_eq!(names_in(&dir), vec!["baseline", "compare.json"]);
        assert_eq!(fs::read(dir.join("baseline/summary.json")).unwrap(), b"1");
    }

    #[test]
    fn writes_and_replaces_without_leaving_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("graph.svg");
        write_atomic(&path, b"first").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first");
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second, longer");
        assert_eq!(names_in(dir.path()), vec!["graph.svg"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("graph.svg");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(names_in(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_rename_keeps_the_old_target() {
        // Renaming a file over a non-empty directory fails.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"k").unwrap();
        assert!(write_atomic(&path, b"x").is_err());
        assert_eq!(names_in(dir.path()), vec!["out"]);
        assert_eq!(fs::read(path.join("keep")).unwrap(), b"k");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let err = write_atomic(Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
