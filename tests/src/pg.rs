//! A PostgreSQL database of a test's own on this machine's server (127.0.0.1:5432, trust
//! auth): created with a unique name, dropped by [`TempDatabase::drop_now`].

use anyhow::Context;

/// A database created for one test or benchmark run.
pub struct TempDatabase {
    /// Its name.
    pub name: String,
    admin: tokio_postgres::Client,
}

impl TempDatabase {
    /// Create `<prefix>_<uuid>`.
    pub async fn create(prefix: &str) -> anyhow::Result<TempDatabase> {
        let (admin, conn) = tokio_postgres::connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
            tokio_postgres::NoTls,
        )
        .await
        .context("PostgreSQL on 127.0.0.1:5432")?;
        tokio::spawn(conn);
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .context("create database")?;
        Ok(TempDatabase { name, admin })
    }

    /// Its URL (`postgres://…`), as central's configuration takes it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// Drop it, closing whatever is still connected.
    pub async fn drop_now(self) {
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}
