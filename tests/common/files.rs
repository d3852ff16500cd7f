//! Files in a temporary directory.

use sslbridge::testing::CertifiedKey;
use std::path::{Path, PathBuf};

/// Files (PEM, DER, logs) in a temporary directory, removed on drop.
pub struct TempFiles {
    pub dir: tempfile::TempDir,
}

impl TempFiles {
    pub fn new() -> TempFiles {
        TempFiles {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.file(name);
        std::fs::write(&path, data).expect("write a temporary file");
        path
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of file `name` in the directory (which need not exist yet).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for TempFiles {
    fn default() -> Self {
        TempFiles::new()
    }
}

/// Writes the PEM files of `key` (cert, chain, key) into `files` under `name`.
pub fn write_key(files: &TempFiles, name: &str, key: &CertifiedKey) -> (PathBuf, PathBuf, PathBuf) {
    (
        files.write(&format!("{name}.pem"), &key.cert_pem),
        files.write(&format!("{name}-chain.pem"), &key.chain_pem),
        files.write(&format!("{name}.key"), &key.key_pem),
    )
}

/// A path as a string, for command lines.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
