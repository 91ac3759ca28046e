//! Both migration folders must produce the same schema: tables, column names and nullability,
//! primary keys, index names with their columns and uniqueness, and trigger names. Column
//! types differ on purpose (uuid vs text, timestamptz vs text) and are not compared.

// A test crate: an unwrap here is an assertion, as clippy.toml allows inside `#[test]`s.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use sqlx::{Connection, PgConnection, Row, SqliteConnection};

/// One fact about the schema, comparable across backends.
type Facts = BTreeSet<String>;

async fn sqlite_facts(url: &str) -> Facts {
    let mut connection = SqliteConnection::connect(url).await.unwrap();
    let mut facts = Facts::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
        AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for table in &tables {
        let columns = sqlx::query(
            r#"SELECT name, "notnull", pk FROM pragma_table_info($1) ORDER BY pk, cid"#,
        )
        .bind(table)
        .fetch_all(&mut connection)
        .await
        .unwrap();
        let mut primary_key = Vec::new();
        for column in &columns {
            let name: String = column.get("name");
            let not_null: bool = column.get("notnull");
            facts.insert(format!("column {table}.{name} not_null={not_null}"));
            if column.get::<i64, _>("pk") > 0 {
                primary_key.push(name);
            }
        }
        facts.insert(format!("primary key {table} ({})", primary_key.join(", ")));
        let indexes =
            sqlx::query(r#"SELECT name, "unique" FROM pragma_index_list($1) WHERE origin = 'c'"#)
                .bind(table)
                .fetch_all(&mut connection)
                .await
                .unwrap();
        for index in &indexes {
            let name: String = index.get("name");
            let unique: bool = index.get("unique");
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
            facts.insert(format!(
                "index {name} on {table} ({}) unique={unique}",
                columns.join(", ")
            ));
        }
    }
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT tbl_name || '.' || name FROM sqlite_master WHERE type = 'trigger'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    facts.extend(
        triggers
            .into_iter()
            .map(|trigger| format!("trigger {trigger}")),
    );
    facts
}

async fn postgres_facts(url: &str) -> Facts {
    let mut connection = PgConnection::connect(url).await.unwrap();
    let mut facts = Facts::new();
    let columns = sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name,
            is_nullable = 'NO' AS not_null
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for column in &columns {
        let (table, name): (String, String) = (column.get("table_name"), column.get("column_name"));
        let not_null: bool = column.get("not_null");
        facts.insert(format!("column {table}.{name} not_null={not_null}"));
    }
    let keys = sqlx::query(
        "SELECT c.table_name::text AS table_name,
            string_agg(k.column_name::text, ', ' ORDER BY k.ordinal_position) AS columns
        FROM information_schema.table_constraints c
        JOIN information_schema.key_column_usage k
            ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
        WHERE c.table_schema = 'public' AND c.constraint_type = 'PRIMARY KEY'
            AND c.table_name <> '_sqlx_migrations'
        GROUP BY c.table_name",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for key in &keys {
        let (table, columns): (String, String) = (key.get("table_name"), key.get("columns"));
        facts.insert(format!("primary key {table} ({columns})"));
    }
    let indexes = sqlx::query(
        "SELECT i.relname::text AS name, t.relname::text AS table_name, x.indisunique AS is_unique,
            string_agg(a.attname::text, ', ' ORDER BY a.attnum) AS columns
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = i.oid
        WHERE n.nspname = 'public' AND NOT x.indisprimary
        GROUP BY i.relname, t.relname, x.indisunique",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for index in &indexes {
        let (name, table): (String, String) = (index.get("name"), index.get("table_name"));
        let (unique, columns): (bool, String) = (index.get("is_unique"), index.get("columns"));
        facts.insert(format!(
            "index {name} on {table} ({columns}) unique={unique}"
        ));
    }
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT event_object_table::text || '.' || trigger_name::text
        FROM information_schema.triggers WHERE trigger_schema = 'public'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    facts.extend(
        triggers
            .into_iter()
            .map(|trigger| format!("trigger {trigger}")),
    );
    facts
}

#[tokio::test]
async fn both_migration_folders_produce_the_same_tables_columns_keys_indexes_and_triggers() {
    let Some(postgres) = seam_testkit::postgres_url().await else {
        return;
    };
    let sqlite = seam_testkit::sqlite_url();
    for url in [sqlite.url(), postgres.url()] {
        let database = seam_store::connect(url).await.unwrap();
        database.migrate().await.unwrap();
        database.close().await;
    }

    let sqlite_schema = sqlite_facts(sqlite.url()).await;
    let postgres_schema = postgres_facts(postgres.url()).await;
    postgres.cleanup().await;

    let only_sqlite: Vec<_> = sqlite_schema.difference(&postgres_schema).collect();
    let only_postgres: Vec<_> = postgres_schema.difference(&sqlite_schema).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ.\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_postgres:#?}"
    );
    for fact in [
        "primary key identities (workspace_id, kind, value)",
        "column conversations.assignee_id not_null=false",
        "column users.email not_null=true",
        "index messages_channel_id_provider_message_id_key on messages \
            (channel_id, provider_message_id) unique=true",
        "index conversations_activity_idx on conversations \
            (workspace_id, last_activity_at, id) unique=false",
        "trigger conversations.conversations_labels_on_update",
    ] {
        assert!(sqlite_schema.contains(fact), "the schema lacks {fact}");
    }
}
