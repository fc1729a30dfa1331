//! A PostgreSQL database of a test's own, on the server `COOP_TEST_POSTGRES_URL` names (a role that
//! may create databases), dropped when the test is done. Without the variable PostgreSQL tests are
//! skipped, unless `COOP_REQUIRE_POSTGRES=1` (as `make test` sets), which makes a missing server a
//! failure.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub struct TestDatabase {
    /// Where the test connects.
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A fresh, empty database named after `prefix`; `None` when PostgreSQL tests are skipped.
    pub async fn create(prefix: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("COOP_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("COOP_REQUIRE_POSTGRES").is_err(),
                "COOP_REQUIRE_POSTGRES is set but COOP_TEST_POSTGRES_URL is not"
            );
            eprintln!("skipped: COOP_TEST_POSTGRES_URL is not set");
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect to the test PostgreSQL");
        for statement in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();
        let base = admin_url.rsplit_once('/').expect("a database in the URL").0;
        Some(TestDatabase { url: format!("{base}/{name}"), admin_url, name })
    }

    /// Drops the database, whoever is still connected to it.
    pub async fn drop(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await.unwrap();
    }
}
