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

    /// Drop it, closing whatever is still connected, and the municipalities' database
    /// roles central made for it (roles are the cluster's: `cm_` and a digest of this
    /// database's name, see `checkup_central::db::postgres::role_name`).
    pub async fn drop_now(self) {
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
        let roles = self
            .admin
            .query(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE
                   'cm\\_' || substr(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 1, 10) || '\\_%'",
                &[&self.name],
            )
            .await
            .unwrap_or_default();
        for r in roles {
            let role: String = r.get(0);
            let _ = self
                .admin
                .batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\""))
                .await;
        }
    }

    /// The database's municipality roles still in the cluster (after [`Self::drop_now`]:
    /// none).
    pub async fn roles_of(admin: &tokio_postgres::Client, name: &str) -> Vec<String> {
        admin
            .query(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE
                   'cm\\_' || substr(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 1, 10) || '\\_%'",
                &[&name],
            )
            .await
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default()
    }
}
