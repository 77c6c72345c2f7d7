-- What is done to a correction after its request, besides its approval: a second request for
-- the same person joining it, a supervisor's rejection or sending back for evidence, the
-- requester's resubmission or withdrawal; in the order `n` they happened. Corrections stored
-- before have none: each is awaiting approval or approved, as it was.

CREATE TABLE correction_actions (
    n bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    id bigint NOT NULL REFERENCES correction_requests (id),
    kind text NOT NULL CHECK (kind IN ('joined', 'rejected', 'sent_back', 'resubmitted', 'withdrawn')),
    actor_key bigint NOT NULL,
    actor text NOT NULL,
    at bigint NOT NULL,
    reason text,
    body text
);
CREATE INDEX correction_actions_id ON correction_actions (id, n);

CREATE TRIGGER correction_actions_no_update_delete BEFORE UPDATE OR DELETE ON correction_actions
    FOR EACH ROW EXECUTE FUNCTION dmf_refuse_change();
CREATE TRIGGER correction_actions_no_truncate BEFORE TRUNCATE ON correction_actions
    FOR EACH STATEMENT EXECUTE FUNCTION dmf_refuse_change();

REVOKE ALL ON correction_actions FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmf_writer') THEN
        GRANT SELECT, INSERT ON correction_actions TO dmf_writer;
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO dmf_writer;
    END IF;
END;
$$;
