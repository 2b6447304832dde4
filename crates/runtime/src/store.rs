//! A worker's values: in memory, or spilled to its local directory.
//!
//! Values live in memory until the memory monitor asks for room; then the
//! least recently used go to disk, one file each, laid out as a data-port
//! frame (the value's raw buffers, not re-encoded element by element).
//! Reading a spilled value brings it back into memory and deletes its
//! file. A value that cannot be encoded (an object without a codec) stays
//! in memory.
//!
//! ```text
//!  insert ─▶ memory (LRU order) ──spill_to(target)──▶ disk: DIR/<hash>.bwk
//!  get ◀──── memory ◀──────────── read back, file removed ─┘
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use blockwork_graph::{Key, Value};
use blockwork_protocol::{FrameDecoder, Limits, Message, PeerMessage};
use rustc_hash::FxHashMap;

struct InMemory {
    value: Value,
    nbytes: u64,
    /// Position in the LRU order.
    used: u64,
}

/// The values of one worker.
pub(crate) struct Store {
    memory: FxHashMap<Key, InMemory>,
    /// Keys in memory by last use, oldest first.
    lru: BTreeMap<u64, Key>,
    clock: u64,
    /// Spilled keys and their sizes.
    disk: FxHashMap<Key, u64>,
    dir: PathBuf,
    memory_bytes: u64,
    disk_bytes: u64,
}

impl Store {
    /// An empty store spilling into `dir` (created at the first spill).
    pub(crate) fn new(dir: PathBuf) -> Store {
        Store {
            memory: FxHashMap::default(),
            lru: BTreeMap::new(),
            clock: 0,
            disk: FxHashMap::default(),
            dir,
            memory_bytes: 0,
            disk_bytes: 0,
        }
    }

    /// Bytes of values in memory.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// Bytes of values on disk.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Keeps `value` under `key` (replacing any), as the most recently used.
    pub(crate) fn insert(&mut self, key: Key, value: Value) {
        self.remove(&key);
        let nbytes = value.nbytes() as u64;
        let used = self.tick();
        self.lru.insert(used, key.clone());
        self.memory_bytes += nbytes;
        self.memory.insert(key, InMemory { value, nbytes, used });
    }

    /// The value of `key`, read back from disk if it was spilled; `None`
    /// if it is not here.
    pub(crate) fn get(&mut self, key: &Key) -> Result<Option<Value>, String> {
        let used = self.tick();
        if let Some(m) = self.memory.get_mut(key) {
            self.lru.remove(&m.used);
            m.used = used;
            self.lru.insert(used, key.clone());
            return Ok(Some(m.value.clone()));
        }
        if !self.disk.contains_key(key) {
            return Ok(None);
        }
        let path = self.path(key);
        let value =
            read_spilled(&path, key).map_err(|e| format!("reading spilled {key} from {}: {e}", path.display()))?;
        self.forget_spilled(key);
        self.insert(key.clone(), value.clone());
        Ok(Some(value))
    }

    /// Drops `key`, from memory or disk.
    pub(crate) fn remove(&mut self, key: &Key) {
        if let Some(m) = self.memory.remove(key) {
            self.lru.remove(&m.used);
            self.memory_bytes -= m.nbytes;
        } else if self.disk.contains_key(key) {
            self.forget_spilled(key);
        }
    }

    fn forget_spilled(&mut self, key: &Key) {
        if let Some(n) = self.disk.remove(key) {
            self.disk_bytes -= n;
            let _ = std::fs::remove_file(self.path(key));
        }
    }

    /// Spills least recently used values until at most `target` bytes
    /// are in memory; returns the bytes spilled. Values that cannot be
    /// encoded are skipped; a failed write is returned as an error (what
    /// was spilled before it stays spilled).
    pub(crate) fn spill_to(&mut self, target: u64) -> Result<u64, String> {
        let mut spilled = 0;
        let mut skipped: Vec<(u64, Key)> = Vec::new();
        let mut result = Ok(());
        while self.memory_bytes > target {
            let Some((used, key)) = self.lru.pop_first() else { break };
            let m = &self.memory[&key];
            let path = self.path(&key);
            match write_spilled(&self.dir, &path, &key, &m.value) {
                Ok(true) => {
                    let m = self.memory.remove(&key).expect("in memory");
                    self.memory_bytes -= m.nbytes;
                    self.disk_bytes += m.nbytes;
                    spilled += m.nbytes;
                    self.disk.insert(key, m.nbytes);
                }
                Ok(false) => skipped.push((used, key)),
                Err(e) => {
                    // A part written before the error only takes space.
                    let _ = std::fs::remove_file(&path);
                    skipped.push((used, key.clone()));
                    result = Err(format!("spilling {key} to {}: {e}", path.display()));
                    break;
                }
            }
        }
        self.lru.extend(skipped);
        result.map(|()| spilled)
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.bwk", blockwork_graph::tokenize(&key.to_string()[..])))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Created at the first spill; gone with its files.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes `value` as a data frame; `Ok(false)` if it has no encoding.
fn write_spilled(dir: &Path, path: &Path, key: &Key, value: &Value) -> std::io::Result<bool> {
    let msg = PeerMessage::Data { data: vec![(key.clone(), value.clone())], missing: Vec::new() };
    let Ok(frame) = msg.encode() else { return Ok(false) };
    std::fs::create_dir_all(dir)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for chunk in frame.chunks() {
        f.write_all(chunk)?;
    }
    f.into_inner().map_err(|e| e.into_error())?.sync_data().ok();
    Ok(true)
}

fn read_spilled(path: &Path, key: &Key) -> Result<Value, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| e.to_string())?;
    let mut decoder = FrameDecoder::new(Limits::default());
    decoder.push(&bytes).map_err(|e| e.to_string())?;
    let frame = decoder.next_frame().ok_or("the file ends inside its frame")?;
    match PeerMessage::from_frame(frame).map_err(|e| e.to_string())? {
        PeerMessage::Data { data, .. } => match data.into_iter().next() {
            Some((k, v)) if &k == key => Ok(v),
            Some((k, _)) => Err(format!("the file holds {k}")),
            None => Err("the file holds no value".into()),
        },
        other => Err(format!("the file holds {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: usize, x: u8) -> Value {
        Value::Bytes(vec![x; n].into())
    }

    #[test]
    fn spills_least_recently_used_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("bw-store-test-{}", std::process::id()));
        let mut s = Store::new(dir.clone());
        for i in 0..4 {
            s.insert(Key::block("x", &[i]), block(1000, i as u8));
        }
        let each = s.memory_bytes() / 4;
        // Touch x-0: x-1 is now the oldest.
        assert!(s.get(&Key::block("x", &[0])).unwrap().is_some());
        assert_eq!(s.spill_to(2 * each).unwrap(), 2 * each);
        assert_eq!((s.memory_bytes(), s.disk_bytes()), (2 * each, 2 * each));
        assert!(s.memory.contains_key(&Key::block("x", &[0])), "recently used stays");
        assert!(s.disk.contains_key(&Key::block("x", &[1])) && s.disk.contains_key(&Key::block("x", &[2])));
        assert_eq!(s.get(&Key::block("x", &[1])).unwrap(), Some(block(1000, 1)));
        assert_eq!(s.disk_bytes(), each);
        assert!(s.disk.contains_key(&Key::block("x", &[2])));
        s.remove(&Key::block("x", &[2]));
        assert_eq!(s.disk_bytes(), 0);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "files removed with their keys");
        s.spill_to(0).unwrap();
        drop(s);
        assert!(!dir.exists(), "the directory goes with the store");
    }

    #[test]
    fn a_corrupt_spill_file_is_an_error_naming_the_key() {
        let dir = std::env::temp_dir().join(format!("bw-store-corrupt-{}", std::process::id()));
        let mut s = Store::new(dir);
        let k = Key::new("y");
        s.insert(k.clone(), block(10, 1));
        s.spill_to(0).unwrap();
        std::fs::write(s.path(&k), b"garbage").unwrap();
        let err = s.get(&k).unwrap_err();
        assert!(err.contains("spilled y"), "{err}");
    }
}
