-- The event log: one gap-free sequence of opaque bodies, never changed once written.

CREATE TABLE events (
    seq bigint PRIMARY KEY,
    kind text NOT NULL,
    subject integer,
    idempotency_key text UNIQUE,
    recorded_at bigint NOT NULL,
    body bytea NOT NULL
);

CREATE INDEX events_subject_seq ON events (subject, seq);

-- Privileges keep the application role from changing rows; these triggers stop the owner and
-- superusers too, unless they deliberately disable them first.
CREATE FUNCTION dmf_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION dmf_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION dmf_refuse_change();

REVOKE ALL ON events FROM PUBLIC;
REVOKE ALL ON dmf_migrations FROM PUBLIC;

-- The application role may read and append, nothing else. Roles are shared by the whole
-- cluster, so another database's migration may be creating it at the same moment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmf_writer') THEN
        BEGIN
            CREATE ROLE dmf_writer NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role dmf_writer (%); create it and grant it SELECT, INSERT on events by hand', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmf_writer') THEN
        GRANT SELECT, INSERT ON events TO dmf_writer;
        -- It checks the schema version when it connects.
        GRANT SELECT ON dmf_migrations TO dmf_writer;
    END IF;
END;
$$;
