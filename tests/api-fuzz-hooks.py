"""Schemathesis hooks for tests/api-fuzz.sh: NDJSON (application/x-ndjson).

The API takes NDJSON on several routes (POST /v1/verify/batch takes nothing else) and answers
NDJSON to it, but schemathesis 4 has no serializer or deserializer for NDJSON: without these
hooks it reports "Serialization not possible" for POST /v1/verify/batch (it cannot send it a
body at all) and skips the schema check of every NDJSON answer.

The description gives, for NDJSON, the schema of one line (OpenAPI 3.1 has no other way to
say it), in requests and in answers.
"""

import json

import schemathesis

NDJSON = "application/x-ndjson"


@schemathesis.serializer(NDJSON)
def ndjson_body(ctx, value):
    """The generated value as one line, whatever it is: a value that is not an object (from
    negative generation) is sent as it is, for the server to refuse that line."""
    if value is None:
        return None
    return json.dumps(value).encode("utf-8") + b"\n"


@schemathesis.deserializer(NDJSON)
def ndjson_answer(ctx, response):
    """The one line answering the one line sent, for schemathesis to check against the schema of
    a line. Every route answers an NDJSON body with one line per line sent (or a single error
    line, for a body over the limit), so any other line, or a line that is not JSON, fails the
    check. A blank line sent is answered with nothing: there is nothing to check."""
    lines = []
    for n, line in enumerate(response.content.decode("utf-8").split("\n"), 1):
        if line.strip():
            try:
                lines.append(json.loads(line))
            except ValueError as e:
                raise ValueError(f"line {n} of the answer is not JSON ({e}): {line[:200]!r}") from None
    if not lines:
        raise NotImplementedError("an empty answer: no line to check")
    if len(lines) > 1:
        raise ValueError(f"{len(lines)} lines answer a request of one line: {lines[:3]!r}")
    return lines[0]
