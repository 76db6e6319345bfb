//! The bucket as a local directory: keys are relative paths, writes go through a temporary
//! file and a rename so readers never see a partial object.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ports::{Bucket, check_key};
use crate::{Error, Result};

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
        Ok(self.root.join(key))
    }
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
        let temporary = path.with_extension("tmp-write");
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
