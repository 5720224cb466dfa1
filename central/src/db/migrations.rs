//! Central's schema as one ordered list of versioned migrations for both databases.
//!
//! Each [`Migration`] has a version and its SQL for SQLite and for PostgreSQL — one text
//! where the two are the same. A database records the versions it has applied in
//! `schema_migrations`; on open, each store applies [`pending`] in order, in a transaction
//! each (SQLite) or in one transaction under an advisory lock (PostgreSQL), and refuses a
//! database of a newer schema than this build knows.

use super::DbError;

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version; versions increase along the list.
    pub version: i64,
    /// The SQL on SQLite.
    pub sqlite: &'static str,
    /// The SQL on PostgreSQL.
    pub postgres: &'static str,
}

impl Migration {
    /// A change written the same on both databases.
    const fn same(version: i64, sql: &'static str) -> Migration {
        Migration {
            version,
            sqlite: sql,
            postgres: sql,
        }
    }
}

/// What migration 10 writes the same on both databases: the high-risk flags, the people of
/// a child case, the register's district and the audit entry's resident, purpose and flag.
macro_rules! migration_10_both {
    () => {
        "CREATE TABLE risk_flags (
    flag_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, kind TEXT NOT NULL, note TEXT NOT NULL,
    raised_by TEXT NOT NULL, raised_ms BIGINT NOT NULL
);
CREATE INDEX risk_flags_raised ON risk_flags (raised_ms);
CREATE TABLE case_assignments (
    case_id TEXT NOT NULL, staff_id TEXT NOT NULL, assigned_by TEXT NOT NULL,
    assigned_ms BIGINT NOT NULL, PRIMARY KEY (case_id, staff_id)
);
CREATE INDEX case_assignments_staff ON case_assignments (staff_id);
CREATE TABLE case_members (
    case_id TEXT NOT NULL, resident_id TEXT NOT NULL, relation TEXT NOT NULL,
    added_by TEXT NOT NULL, added_ms BIGINT NOT NULL, PRIMARY KEY (case_id, resident_id)
);
CREATE INDEX case_members_resident ON case_members (resident_id);
ALTER TABLE residents ADD COLUMN district TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN resident_id TEXT;
ALTER TABLE audit ADD COLUMN purpose TEXT;
ALTER TABLE audit ADD COLUMN flagged_for TEXT;
CREATE INDEX audit_resident ON audit (resident_id);
"
    };
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    // 1: events exactly once by (node, seq), node heads, the resident record, the register,
    // the audit trail.
    Migration {
        version: 1,
        sqlite: "
CREATE TABLE events (
    node TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, venue TEXT NOT NULL,
    kind TEXT NOT NULL, resident TEXT, hlc_ms INTEGER NOT NULL, hlc_c INTEGER NOT NULL,
    body TEXT NOT NULL, received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (node, seq)
) WITHOUT ROWID;
CREATE INDEX events_resident ON events (resident);
CREATE TABLE node_heads (node TEXT PRIMARY KEY, contiguous INTEGER NOT NULL);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, day TEXT NOT NULL);
CREATE TABLE results (
    event_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, session_id TEXT NOT NULL,
    venue TEXT NOT NULL, day TEXT NOT NULL, item_code TEXT NOT NULL, value TEXT NOT NULL,
    unit TEXT NOT NULL, hlc_ms INTEGER NOT NULL, hlc_c INTEGER NOT NULL, corrects TEXT,
    reason TEXT, staff_id TEXT NOT NULL
);
CREATE INDEX results_resident ON results (resident_id);
CREATE INDEX results_day ON results (day);
CREATE TABLE residents (
    resident_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_kana TEXT NOT NULL,
    birth_date TEXT NOT NULL, sex TEXT NOT NULL, address TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    staff_id TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL
);
",
        postgres: "
CREATE TABLE events (
    node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL UNIQUE, venue TEXT NOT NULL,
    kind TEXT NOT NULL, resident TEXT, hlc_ms BIGINT NOT NULL, hlc_c INTEGER NOT NULL,
    body JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (node, seq)
);
CREATE INDEX events_resident ON events (resident);
CREATE TABLE node_heads (node TEXT PRIMARY KEY, contiguous BIGINT NOT NULL);
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, day TEXT NOT NULL);
CREATE TABLE results (
    event_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, session_id TEXT NOT NULL,
    venue TEXT NOT NULL, day TEXT NOT NULL, item_code TEXT NOT NULL, value TEXT NOT NULL,
    unit TEXT NOT NULL, hlc_ms BIGINT NOT NULL, hlc_c INTEGER NOT NULL, corrects TEXT,
    reason TEXT, staff_id TEXT NOT NULL
);
CREATE INDEX results_resident ON results (resident_id);
CREATE INDEX results_day ON results (day);
CREATE TABLE residents (
    resident_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_kana TEXT NOT NULL,
    birth_date TEXT NOT NULL, sex TEXT NOT NULL, address TEXT NOT NULL
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(),
    staff_id TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL
);
",
    },
    // 2: nothing reads events by resident (the record is built from `results`), and the
    // index cost a b-tree insert per ingested event.
    Migration::same(2, "DROP INDEX events_resident;"),
    // 3: the child-welfare intake queue, fed by notice-intake events.
    Migration::same(
        3,
        "
CREATE TABLE notices (
    case_id TEXT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, venue TEXT NOT NULL,
    node TEXT NOT NULL, staff_id TEXT NOT NULL, saved_ms BIGINT NOT NULL,
    child_name TEXT NOT NULL, child_birth_date TEXT NOT NULL, abuse_type TEXT NOT NULL,
    resident_id TEXT, notice TEXT NOT NULL
);
CREATE INDEX notices_saved ON notices (saved_ms);
",
    ),
    // 4: the audit trail is hash-chained (see `crate::audit`); older entries stay
    // unchained below `base`.
    Migration {
        version: 4,
        sqlite: "
ALTER TABLE audit ADD COLUMN at_ms INTEGER;
ALTER TABLE audit ADD COLUMN link TEXT;
CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL, link TEXT NOT NULL,
    base INTEGER NOT NULL
);
INSERT INTO audit_head SELECT 1, coalesce(max(id), 0), 'checkup-central audit genesis',
    coalesce(max(id), 0) FROM audit;
",
        postgres: "
ALTER TABLE audit ADD COLUMN at_ms BIGINT;
ALTER TABLE audit ADD COLUMN link TEXT;
CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1), id BIGINT NOT NULL, link TEXT NOT NULL,
    base BIGINT NOT NULL
);
INSERT INTO audit_head SELECT 1, coalesce(max(id), 0), 'checkup-central audit genesis',
    coalesce(max(id), 0) FROM audit;
",
    },
    // 5: one-time questionnaire links (only the SHA-256 of each token) and the answers
    // residents gave through them before the day.
    Migration::same(
        5,
        "
CREATE TABLE questionnaire_invitations (
    token_sha256 TEXT PRIMARY KEY, resident_id TEXT NOT NULL, checkup TEXT NOT NULL,
    created_ms BIGINT NOT NULL, used_ms BIGINT, revoked_ms BIGINT
);
CREATE INDEX questionnaire_invitations_resident ON questionnaire_invitations (resident_id, checkup);
CREATE TABLE questionnaire_answers (
    resident_id TEXT NOT NULL, checkup TEXT NOT NULL, lang TEXT NOT NULL,
    answers TEXT NOT NULL, answered_ms BIGINT NOT NULL, PRIMARY KEY (resident_id, checkup)
);
",
    ),
    // 6: the insurer identity a session's check-in carried (from the box's roster), one row
    // per insured session, found by insurer and day for the insurer's archive. Events of
    // earlier builds carry none, so there is nothing to fill in.
    Migration::same(
        6,
        "
CREATE TABLE session_insurers (
    session_id TEXT PRIMARY KEY, resident_id TEXT NOT NULL, venue TEXT NOT NULL,
    day TEXT NOT NULL, insurer_number TEXT NOT NULL, insured_symbol TEXT,
    insured_number TEXT NOT NULL, insured_branch TEXT, ticket_number TEXT, ticket_expiry TEXT
);
CREATE INDEX session_insurers_insurer_day ON session_insurers (insurer_number, day);
",
    ),
    // 7: checkups imported from another municipality's central as 特定健診 documents (a
    // resident who moved in): one row per document, keyed by the local resident and the
    // SHA-256 of the document's content, with where it came from and who imported it.
    Migration::same(
        7,
        "
CREATE TABLE imported_checkups (
    resident_id TEXT NOT NULL, content_sha256 TEXT NOT NULL, checkup_date TEXT NOT NULL,
    origin_number TEXT NOT NULL, origin_name TEXT NOT NULL, document_created TEXT NOT NULL,
    imported_ms BIGINT NOT NULL, imported_by TEXT NOT NULL, source_file TEXT NOT NULL,
    items TEXT NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (resident_id, content_sha256)
);
",
    ),
    // 8: the register's 郵便番号 (optional; 特定健診 claims require it).
    Migration::same(
        8,
        "ALTER TABLE residents ADD COLUMN postal_code TEXT NOT NULL DEFAULT '';",
    ),
    // 9 (PostgreSQL): `events` partitioned by month in Japan (RANGE on hlc_ms), migrated in
    // place; exactly-once by (node, seq) and the unique id move to the unpartitioned
    // `event_keys` (a partitioned table's unique keys must contain its partition key). See
    // `super::partitions`. SQLite keeps its one table.
    Migration {
        version: 9,
        sqlite: "-- nothing on SQLite: events stay one table.",
        postgres: "
CREATE TABLE event_keys (
    node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL UNIQUE, hlc_ms BIGINT NOT NULL,
    PRIMARY KEY (node, seq)
);
INSERT INTO event_keys (node, seq, id, hlc_ms) SELECT node, seq, id, hlc_ms FROM events;
CREATE TABLE events_partitioned (
    node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, venue TEXT NOT NULL,
    kind TEXT NOT NULL, resident TEXT, hlc_ms BIGINT NOT NULL, hlc_c INTEGER NOT NULL,
    body JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now()
) PARTITION BY RANGE (hlc_ms);
-- A partition per month (JST) the old table holds, in the years partitions are made for
-- (2000-2199); anything else goes to DEFAULT. Bounds: 00:00 JST of the month's first day.
DO $$
DECLARE
    m DATE;
BEGIN
    FOR m IN
        SELECT DISTINCT date_trunc('month', DATE '1970-01-01'
            + ((hlc_ms + 32400000) / 86400000)::INTEGER)::DATE
        FROM events
        WHERE hlc_ms >= (DATE '2000-01-01' - DATE '1970-01-01')::BIGINT * 86400000 - 32400000
          AND hlc_ms < (DATE '2200-01-01' - DATE '1970-01-01')::BIGINT * 86400000 - 32400000
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF events_partitioned FOR VALUES FROM (%s) TO (%s)',
            'events_' || to_char(m, 'YYYY_MM'),
            (m - DATE '1970-01-01')::BIGINT * 86400000 - 32400000,
            ((m + INTERVAL '1 month')::DATE - DATE '1970-01-01')::BIGINT * 86400000 - 32400000);
    END LOOP;
END
$$;
CREATE TABLE events_default PARTITION OF events_partitioned DEFAULT;
INSERT INTO events_partitioned (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body,
    received_at)
SELECT node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_partitioned RENAME TO events;
",
    },
    // 10: many municipalities, access by rank and duty. Every row belongs to a municipality
    // (PostgreSQL: a `municipality` column filled from the database role the request runs
    // as, and row-level security that shows and accepts only that municipality's rows; the
    // central's own login owns the tables and sees all, for migrations and `audit verify`;
    // keys that a number could repeat across municipalities now include it). SQLite serves
    // one municipality and has no such column. Both: the register's district (地区), the
    // high-risk flags, the caseworkers and people of a child case, and the audit entry's
    // resident, purpose and the department it is flagged for.
    Migration {
        version: 10,
        sqlite: concat!("\n", migration_10_both!()),
        postgres: concat!(
            "
CREATE TABLE municipality_roles (role_name TEXT PRIMARY KEY, municipality TEXT NOT NULL UNIQUE);
CREATE FUNCTION checkup_municipality() RETURNS TEXT LANGUAGE sql STABLE
    AS $fn$ SELECT municipality FROM municipality_roles WHERE role_name = current_user $fn$;
",
            migration_10_both!(),
            "ALTER TABLE events ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE event_keys ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE node_heads ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE sessions ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE results ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE residents ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE audit ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE notices ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE questionnaire_invitations ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE questionnaire_answers ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE session_insurers ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE imported_checkups ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE risk_flags ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE case_assignments ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE case_members ADD COLUMN municipality TEXT NOT NULL DEFAULT coalesce(checkup_municipality(), '');
ALTER TABLE residents DROP CONSTRAINT residents_pkey;
ALTER TABLE residents ADD PRIMARY KEY (municipality, resident_id);
ALTER TABLE questionnaire_answers DROP CONSTRAINT questionnaire_answers_pkey;
ALTER TABLE questionnaire_answers ADD PRIMARY KEY (municipality, resident_id, checkup);
ALTER TABLE imported_checkups DROP CONSTRAINT imported_checkups_pkey;
ALTER TABLE imported_checkups ADD PRIMARY KEY (municipality, resident_id, content_sha256);
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON events USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE event_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON event_keys USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE node_heads ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON node_heads USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON sessions USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE results ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON results USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE residents ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON residents USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON audit USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE notices ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON notices USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE questionnaire_invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON questionnaire_invitations USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE questionnaire_answers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON questionnaire_answers USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE session_insurers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON session_insurers USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE imported_checkups ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON imported_checkups USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE risk_flags ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON risk_flags USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE case_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON case_assignments USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
ALTER TABLE case_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_municipality ON case_members USING (municipality = checkup_municipality())
    WITH CHECK (municipality = checkup_municipality());
"
        ),
    },
    // 12: staff sessions in the database, so that every central process behind one address
    // honours a sign-in made at another. Only the SHA-256 of each cookie token is kept;
    // times are Unix milliseconds of the database's clock.
    Migration::same(
        12,
        "
CREATE TABLE staff_sessions (
    token_sha256 TEXT PRIMARY KEY, staff_id TEXT NOT NULL, created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
CREATE INDEX staff_sessions_last_seen ON staff_sessions (last_seen_ms);
",
    ),
    // 13: row-level security that costs one lookup per statement, not one per row. Migration
    // 10's policies called `checkup_municipality()` (a query of `municipality_roles`) for
    // every row a scan met: a 30-municipality year export took 8.8 s instead of 2 s. As a
    // scalar sub-select the planner evaluates it once (an InitPlan) and can use it as an
    // index key; the indexes lead with the municipality, so a municipality's year or a
    // resident's rows are read without touching the other municipalities'. SQLite serves
    // one municipality and has neither.
    Migration {
        version: 13,
        sqlite: "",
        postgres: "
ALTER POLICY by_municipality ON events USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON event_keys USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON node_heads USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON sessions USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON results USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON residents USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON audit USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON notices USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON questionnaire_invitations USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON questionnaire_answers USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON session_insurers USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON imported_checkups USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON risk_flags USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON case_assignments USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
ALTER POLICY by_municipality ON case_members USING (municipality = (SELECT checkup_municipality()))
    WITH CHECK (municipality = (SELECT checkup_municipality()));
CREATE INDEX results_municipality_day ON results (municipality, day);
CREATE INDEX results_municipality_resident ON results (municipality, resident_id);
CREATE INDEX session_insurers_municipality ON session_insurers (municipality, insurer_number, day);
",
    },
    // 14: a case's photos are found by their case among the events (the JPEG stays in the
    // signed event, as the box sent it): a partial index of the photo events by case id
    // (PostgreSQL: led by the municipality, as row-level security asks by it). The index
    // covers the photo events held already; new partitions get it when attached.
    Migration {
        version: 14,
        sqlite: "
CREATE INDEX events_case_photos ON events (json_extract(body, '$.body.payload.case_id'))
    WHERE kind = 'case_photo_added';
",
        postgres: "
CREATE INDEX events_case_photos ON events (municipality, (body #>> '{body,payload,case_id}'))
    WHERE kind = 'case_photo_added';
",
    },
];

/// The tables whose rows belong to a municipality (PostgreSQL: a `municipality` column and
/// row-level security, migration 10): what each municipality's database role is granted.
pub const MUNICIPAL_TABLES: &[&str] = &[
    "events",
    "event_keys",
    "node_heads",
    "sessions",
    "results",
    "residents",
    "audit",
    "notices",
    "questionnaire_invitations",
    "questionnaire_answers",
    "session_insurers",
    "imported_checkups",
    "risk_flags",
    "case_assignments",
    "case_members",
];

/// The migrations a database at schema version `current` still needs, in order.
pub fn pending(current: i64) -> Result<impl Iterator<Item = &'static Migration>, DbError> {
    let newest = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > newest {
        return Err(DbError::TooNew(current));
    }
    Ok(MIGRATIONS.iter().filter(move |m| m.version > current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_a_newer_database_is_refused() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
        let newest = MIGRATIONS.last().map_or(0, |m| m.version);
        assert_eq!(pending(0).map(Iterator::count).ok(), Some(MIGRATIONS.len()));
        assert_eq!(pending(newest).map(Iterator::count).ok(), Some(0));
        assert!(matches!(pending(newest + 1), Err(DbError::TooNew(v)) if v == newest + 1));
    }
}
