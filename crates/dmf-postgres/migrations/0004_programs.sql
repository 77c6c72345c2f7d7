-- Computer-matching programs: agreements, their approvals and renewals, the keys bound to
-- them, match requests (refused ones too) and the due process of each match, as one
-- append-only journal that every node replays.

CREATE TABLE program_journal (
    id bigint PRIMARY KEY,
    at_ms bigint NOT NULL,
    day text NOT NULL,
    kind text NOT NULL,
    agreement bigint,
    actor text NOT NULL,
    body text NOT NULL
);

CREATE TRIGGER program_journal_no_update_delete BEFORE UPDATE OR DELETE ON program_journal
    FOR EACH ROW EXECUTE FUNCTION dmf_refuse_change();
CREATE TRIGGER program_journal_no_truncate BEFORE TRUNCATE ON program_journal
    FOR EACH STATEMENT EXECUTE FUNCTION dmf_refuse_change();

REVOKE ALL ON program_journal FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmf_writer') THEN
        GRANT SELECT, INSERT ON program_journal TO dmf_writer;
    END IF;
END;
$$;
