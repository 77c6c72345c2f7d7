-- Every event carries its writer's MAC (opaque here: the registry makes and checks it), so that a
-- row inserted behind the application's back is told from one it wrote. Events stored before
-- keep none: the signed log covers them. One beyond the latest published checkpoint could be a
-- crash's unsigned batch or an inserted row, and nothing can tell which, so the upgrade waits
-- until the previous version has signed it.

DO $$
DECLARE
    head bigint;
    signed bigint;
BEGIN
    SELECT coalesce(max(seq), 0) INTO head FROM events;
    SELECT coalesce(max(size), 0) INTO signed FROM checkpoints;
    IF head > signed THEN
        RAISE EXCEPTION 'events % to % lie beyond the signed log (% events) and carry no MAC: sign them with the previous version of dmf (open the registry once with it), then upgrade',
            signed + 1, head, signed;
    END IF;
END;
$$;

ALTER TABLE events ADD COLUMN mac bytea;
