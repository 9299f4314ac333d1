//! The persistent, content-addressed cache of generated tests: one JSON file per item under
//! `target/testsmith/cache/`, named by the SHA-256 of everything the test depends on. A
//! corrupt or unreadable entry is a miss, never a failure; writes are atomic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped whenever the prompt or the entry format changes, so old entries stop matching.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    item: String,
    code: String,
}

pub struct Cache {
    /// `None` with `--no-cache`.
    dir: Option<PathBuf>,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

/// What `-v` prints after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: usize,
    pub misses: usize,
    pub entries: usize,
}

/// The key of one item: the hash of the parts, each length-prefixed so that no two different
/// lists of parts hash the same bytes.
pub fn key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT_VERSION.to_le_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Cache {
    pub fn new(dir: Option<PathBuf>) -> Cache {
        Cache {
            dir,
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(&key[..2]).join(format!("{key}.json")))
    }

    /// The cached code for `key`. The caller counts a hit or a miss once it knows whether the
    /// code is still usable.
    pub fn get(&self, key: &str, item: &str) -> Option<String> {
        self.path(key)
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .filter(|entry| entry.format == FORMAT_VERSION && entry.item == item)
            .map(|entry| entry.code)
    }

    pub fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// Store `code` for `key`. A failure to write only costs a future call, so it is ignored.
    pub fn put(&self, key: &str, item: &str, code: &str) {
        let Some(path) = self.path(key) else { return };
        let entry = Entry {
            format: FORMAT_VERSION,
            item: item.to_owned(),
            code: code.to_owned(),
        };
        let _ = write_atomic(&path, &serde_json::to_vec(&entry).unwrap_or_default());
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.dir.as_deref().map_or(0, count_entries),
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Entries on disk: `*.json` files one level down.
pub fn count_entries(dir: &Path) -> usize {
    let Ok(shards) = std::fs::read_dir(dir) else {
        return 0;
    };
    shards
        .flatten()
        .filter_map(|shard| std::fs::read_dir(shard.path()).ok())
        .flat_map(|files| files.flatten())
        .filter(|file| file.path().extension().is_some_and(|e| e == "json"))
        .count()
}

/// Remove every entry; returns how many there were.
pub fn clear(dir: &Path) -> std::io::Result<usize> {
    // Only the cache's own files go: `--cache-dir` may point at a directory that holds more.
    let mut removed = 0;
    let shards = match std::fs::read_dir(dir) {
        Ok(shards) => shards,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    for shard in shards.flatten() {
        let shard = shard.path();
        let is_shard = shard.is_dir()
            && shard
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() == 2 && n.chars().all(|c| c.is_ascii_hexdigit()));
        if !is_shard {
            continue;
        }
        for file in std::fs::read_dir(&shard)?.flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
        // Left in place when something else is in it.
        let _ = std::fs::remove_dir(&shard);
    }
    let _ = std::fs::remove_dir(dir);
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_corruption_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path().to_owned()));
        let k = key(&["openai", "model", "add", "pub fn add() {}"]);
        assert_eq!(cache.get(&k, "add"), None);
        cache.put(&k, "add", "#[test] fn t() {}");
        assert_eq!(cache.get(&k, "add").as_deref(), Some("#[test] fn t() {}"));
        assert_eq!(
            cache.get(&k, "other"),
            None,
            "an entry answers only for its item"
        );
        std::fs::write(cache.path(&k).unwrap(), b"{not json").unwrap();
        assert_eq!(cache.get(&k, "add"), None);
        cache.count(true);
        cache.count(false);
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 1,
                misses: 1,
                entries: 1
            }
        );
        std::fs::write(dir.path().join("keep.txt"), "not the cache's").unwrap();
        assert_eq!(clear(dir.path()).unwrap(), 1);
        assert_eq!(count_entries(dir.path()), 0);
        assert!(
            dir.path().join("keep.txt").exists(),
            "clear removes only cache entries"
        );
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_eq!(key(&["x"]).len(), 64);
    }
}
