//! The file store on a local (or shared) directory: `<root>/<workspace>/<ab>/<sha256>`, where
//! `ab` is the hash's first two letters. Writes go to a temporary file that is synced and then
//! renamed into place, so a file is either whole or absent, and durable before `put` returns.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use seam_core::{Error, Result, ids::WorkspaceId, ports::FileStore};
use tokio::io::AsyncWriteExt;

#[derive(Clone, Debug)]
pub struct LocalFiles {
    root: PathBuf,
}

impl LocalFiles {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalFiles { root: root.into() }
    }

    fn path(&self, workspace_id: WorkspaceId, sha256: &str) -> Result<PathBuf> {
        // The key becomes a path: only a hex SHA-256 may.
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(Error::internal("a file key is not a SHA-256"));
        }
        Ok(self
            .root
            .join(workspace_id.0.to_string())
            .join(&sha256[..2])
            .join(sha256))
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::internal(format!("{what} {}: {error}", path.display()))
}

#[async_trait]
impl FileStore for LocalFiles {
    async fn put(&self, workspace_id: WorkspaceId, sha256: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(workspace_id, sha256)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let dir = path
            .parent()
            .ok_or_else(|| Error::internal("a file path without a directory"))?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|error| io_error("creating", dir, error))?;
        let temporary = dir.join(format!(".{sha256}.{}", uuid::Uuid::now_v7()));
        let written = async {
            let mut file = tokio::fs::File::create(&temporary).await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temporary, &path).await?;
            // The rename itself is durable once the directory is synced.
            tokio::fs::File::open(dir).await?.sync_all().await
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(io_error("writing", &path, error));
        }
        Ok(())
    }

    async fn get(&self, workspace_id: WorkspaceId, sha256: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(workspace_id, sha256)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error("reading", &path, error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_per_workspace_and_refuse_odd_keys() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalFiles::new(dir.path());
        let workspace = WorkspaceId::new();
        let other = WorkspaceId::new();
        let sha = "ab".repeat(32);
        files.put(workspace, &sha, b"hello").await.unwrap();
        files.put(workspace, &sha, b"hello").await.unwrap();
        assert_eq!(
            files.get(workspace, &sha).await.unwrap(),
            Some(b"hello".to_vec())
        );
        assert_eq!(files.get(other, &sha).await.unwrap(), None);
        assert!(files.get(workspace, "../../etc/passwd").await.is_err());
    }
}
