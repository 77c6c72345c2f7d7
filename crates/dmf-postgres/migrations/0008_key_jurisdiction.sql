-- A state's reporter key bound to the NCHS jurisdiction (two capital letters: NY, DC, PR, YC,
-- ...) whose records it may send; NULL is none. Keys stored before have none.
ALTER TABLE api_keys
    ADD COLUMN jurisdiction text,
    ADD CONSTRAINT api_keys_jurisdiction_state CHECK (
        jurisdiction IS NULL
        OR (jurisdiction ~ '^[A-Z]{2}$' AND role = 'reporter' AND coalesce(source, '') = 'state')
    );
