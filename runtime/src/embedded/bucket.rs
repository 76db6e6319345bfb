//! The bucket as a local directory: keys are relative paths, writes go through a temporary
//! file and a rename so readers never see a partial object.
//!
//! Staged objects (keys under `_staging/`) are the exception: each is one file directly in
//! `_staging/`, its key's remainder with `/` written `%2F` (and `%` written `%25`). A commit
//! stages objects under a key tree of its own and promotes them moments later; as directory
//! trees, every commit made and pruned several directories per tenant and day, and creating
//! directories was a tenth of `tally ingest`'s time (docs/benchmarks.md). A key whose flat name
//! would pass the file system's 255-byte limit, and a tree an earlier version staged, are kept
//! (and found) as a tree.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tally_schemas::layout::STAGING_PREFIX;

use crate::ports::{Bucket, check_key};
use crate::{Error, Result};

/// The directory of staged objects, below the root.
const STAGING_DIRECTORY: &str = "_staging";
/// The longest file name ext4 and most file systems accept, in bytes.
const MAX_FILE_NAME_BYTES: usize = 255;

/// A bucket kept under a root directory.
#[derive(Clone, Debug)]
pub struct LocalBucket {
    root: PathBuf,
}

impl LocalBucket {
    /// A bucket rooted at `root`, created if missing.
    ///
    /// Fails when the directory cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> Result<LocalBucket> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(Error::io("creating", &root))?;
        Ok(LocalBucket { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes the directories above `path` that have become empty, up to the root, so moved
    /// and deleted objects leave no empty folders behind. Best effort: a directory that is not
    /// empty (or cannot be removed) stops the walk.
    fn prune_empty_parents(&self, path: &Path) {
        let mut directory = path.parent();
        while let Some(current) = directory {
            if current == self.root
                || !current.starts_with(&self.root)
                || fs::remove_dir(current).is_err()
            {
                break;
            }
            directory = current.parent();
        }
    }

    /// The path of `key`, refusing keys that could leave the root.
    pub fn path_of(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        let tree = self.root.join(key);
        if let Some(rest) = key.strip_prefix(STAGING_PREFIX) {
            let name = flat_name(rest);
            // A tree staged by an earlier version is found where it is.
            if name.len() <= MAX_FILE_NAME_BYTES && !tree.exists() {
                return Ok(self.root.join(STAGING_DIRECTORY).join(name));
            }
        }
        Ok(tree)
    }
}

/// The file name of a staged key's remainder: `/` as `%2F`, `%` as `%25`.
fn flat_name(rest: &str) -> String {
    rest.replace('%', "%25").replace('/', "%2F")
}

/// The key remainder of a flat staged file name: the inverse of [`flat_name`]; `None` for a name
/// it cannot have made.
fn unflatten(name: &str) -> Option<String> {
    let mut rest = String::with_capacity(name.len());
    let mut parts = name.split('%');
    rest.push_str(parts.next()?);
    for part in parts {
        if let Some(after) = part.strip_prefix("2F") {
            rest.push('/');
            rest.push_str(after);
        } else if let Some(after) = part.strip_prefix("25") {
            rest.push('%');
            rest.push_str(after);
        } else {
            return None;
        }
    }
    Some(rest)
}

/// Makes a rename or a new file durable by syncing its directory.
fn sync_directory(directory: &Path) -> Result<()> {
    fs::File::open(directory)
        .and_then(|handle| handle.sync_all())
        .map_err(Error::io("syncing", directory))
}

fn parent(path: &Path) -> &Path {
    path.parent().expect("bucket paths are below the root")
}

impl Bucket for LocalBucket {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(key)?;
        let directory = parent(&path);
        fs::create_dir_all(directory).map_err(Error::io("creating", directory))?;
        // Appended, not swapped for the extension: a flat staged name's last dot may sit in
        // an earlier part of its key.
        let mut temporary = path.clone().into_os_string();
        temporary.push(".tmp-write");
        let temporary = PathBuf::from(temporary);
        let mut file = fs::File::create(&temporary).map_err(Error::io("creating", &temporary))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(Error::io("writing", &temporary))?;
        fs::rename(&temporary, &path).map_err(Error::io("renaming into", &path))?;
        sync_directory(directory)
    }

    fn promote(&self, from: &str, to: &str) -> Result<()> {
        let source = self.path_of(from)?;
        let target = self.path_of(to)?;
        if !source.exists() && target.exists() {
            return Ok(());
        }
        let directory = parent(&target);
        fs::create_dir_all(directory).map_err(Error::io("creating", directory))?;
        fs::rename(&source, &target).map_err(Error::io("renaming", &source))?;
        sync_directory(directory)?;
        self.prune_empty_parents(&source);
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(key)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if names_no_object(&error, &path) => Ok(None),
            Err(error) => Err(Error::io("reading", path)(error)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        collect_keys(&self.root, &self.root, &mut keys)?;
        keys.retain(|key| key.starts_with(prefix));
        keys.sort_unstable();
        Ok(keys)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match fs::remove_file(&path) {
            Ok(()) => {
                self.prune_empty_parents(&path);
                Ok(())
            }
            Err(error) if names_no_object(&error, &path) => Ok(()),
            Err(error) => Err(Error::io("deleting", path)(error)),
        }
    }
}

/// Whether `error`, met at `path`, means there is no object at that key: the file is missing,
/// the key is only a prefix of other keys (a directory here, nothing in S3), or a part of the
/// key is an object (a file here where a directory would be).
fn names_no_object(error: &std::io::Error, path: &Path) -> bool {
    use std::io::ErrorKind;
    matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) || path.is_dir()
}

fn collect_keys(root: &Path, directory: &Path, keys: &mut Vec<String>) -> Result<()> {
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(Error::io("listing", directory)(error)),
    };
    for entry in entries {
        let entry = entry.map_err(Error::io("listing", directory))?;
        let path = entry.path();
        if path.is_dir() {
            collect_keys(root, &path, keys)?;
        } else if directory == root.join(STAGING_DIRECTORY)
            && let Some(rest) = entry.file_name().to_str().and_then(unflatten)
        {
            keys.push(format!("{STAGING_PREFIX}{rest}"));
        } else if let Ok(relative) = path.strip_prefix(root) {
            keys.push(
                relative
                    .to_string_lossy()
                    .replace(std::path::MAIN_SEPARATOR, "/"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_names_round_trip_every_key_remainder() {
        for rest in [
            "0000000042/tenants/acme/usage/events/dt=2026-10-01/part-0000000042.parquet",
            "stream/acme/000000000007-9f/quarantine/dt=2026-10-01/x.ndjson",
            "odd%name/with%2Fpercent/%25",
            "plain",
        ] {
            let name = flat_name(rest);
            assert!(!name.contains('/'), "{name}");
            assert_eq!(unflatten(&name).as_deref(), Some(rest), "{name}");
        }
        assert_eq!(unflatten("bad%zz"), None);
    }

    #[test]
    fn staged_objects_are_flat_files_and_list_and_promote_as_keys() {
        let root = tempfile::tempdir().unwrap();
        let bucket = LocalBucket::open(root.path()).unwrap();
        let staged = "_staging/0000000001/tenants/acme/usage/events/dt=2026-10-01/part-1.parquet";
        let last = "tenants/acme/usage/events/dt=2026-10-01/part-1.parquet";
        bucket.put(staged, b"PAR1").unwrap();
        // One file directly in _staging/: no directory tree per commit.
        let entries: Vec<_> = fs::read_dir(root.path().join(STAGING_DIRECTORY))
            .unwrap()
            .map(|entry| entry.unwrap())
            .collect();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].file_type().unwrap().is_file());
        assert_eq!(bucket.list("_staging/").unwrap(), vec![staged.to_owned()]);
        assert_eq!(bucket.get(staged).unwrap().as_deref(), Some(&b"PAR1"[..]));

        bucket.promote(staged, last).unwrap();
        assert_eq!(bucket.list("").unwrap(), vec![last.to_owned()]);
        assert_eq!(bucket.get(last).unwrap().as_deref(), Some(&b"PAR1"[..]));
    }

    #[test]
    fn a_tree_staged_by_an_earlier_version_and_a_long_key_stay_trees() {
        let root = tempfile::tempdir().unwrap();
        let bucket = LocalBucket::open(root.path()).unwrap();
        // GIVEN a pending commit staged as a tree (an earlier version's layout)
        let old = "_staging/0000000002/tenants/acme/usage/events/dt=2026-10-01/part-2.parquet";
        let tree = root.path().join(old);
        fs::create_dir_all(tree.parent().unwrap()).unwrap();
        fs::write(&tree, b"OLD").unwrap();
        // THEN it is listed, read and promoted under its key
        assert_eq!(bucket.list("_staging/").unwrap(), vec![old.to_owned()]);
        assert_eq!(bucket.get(old).unwrap().as_deref(), Some(&b"OLD"[..]));
        bucket
            .promote(
                old,
                "tenants/acme/usage/events/dt=2026-10-01/part-2.parquet",
            )
            .unwrap();
        assert!(!tree.exists());
        // A key whose flat name would be too long for a file name is staged as a tree.
        let long = format!("_staging/0000000003/{}/part-3.parquet", "d".repeat(250));
        bucket.put(&long, b"LONG").unwrap();
        assert!(root.path().join(&long).is_file());
        assert_eq!(bucket.list("_staging/").unwrap(), vec![long.clone()]);
    }
}
