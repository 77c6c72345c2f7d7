-- Signed checkpoints of the log, published by whichever process holds the signer lock.

CREATE TABLE checkpoints (
    size bigint PRIMARY KEY,
    note text NOT NULL,
    signed_at bigint NOT NULL
);

CREATE TRIGGER checkpoints_no_update_delete
    BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION dmf_refuse_change();

CREATE TRIGGER checkpoints_no_truncate
    BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION dmf_refuse_change();

REVOKE ALL ON checkpoints FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmf_writer') THEN
        GRANT SELECT, INSERT ON checkpoints TO dmf_writer;
    END IF;
END;
$$;
