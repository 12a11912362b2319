"""Schemathesis hooks for .ci/fuzz (docs/fuzzing.md).

- Cases that would change the fuzzing user itself (its password, login, roles...) are not
  sent: the run would lock itself out and test nothing after. They are the cases of
  operations other than GET whose path, query or body name the user's id or email (.ci/fuzz
  suppresses the health check that would fail an operation for filtering many cases out:
  the fuzzer reuses the ids it has seen, and the user's is one).
- Strings known to break servers (a NUL character, LIKE wildcards, quotes, a 60,000-character
  string...) replace one string of the body or the query in a third of the cases: random
  text rarely holds them.
- No targeted generation (see below).
- `smartbi_not_a_server_error`: the Smartbi dialect answers every call with HTTP 200 and
  `{success, msg, result}`, a server-side failure included; this check fails such an answer
  as `not_a_server_error` fails a 5xx.
"""

import hashlib
import json
import os

import hypothesis
import schemathesis

# Schemathesis asks hypothesis to climb towards inputs the server accepts
# (`hypothesis.target`). Against a server whose answers depend on what earlier cases stored,
# a replayed case scores differently, and hypothesis 6.170's optimiser then fails with an
# IndexError in `hill_climb` (seen twice in ten runs): an error of the tool, failing the run.
# Without targets there is nothing to climb; generation is unchanged otherwise.
hypothesis.target = lambda *args, **kwargs: None

USER_ID = os.environ["WEIR_FUZZ_USER_ID"]
USER_EMAIL = os.environ["WEIR_FUZZ_USER_EMAIL"]


def _names_the_fuzz_user(case) -> bool:
    text = json.dumps(
        [case.path_parameters, case.query, case.body], default=str, ensure_ascii=False
    )
    return USER_ID in text or USER_EMAIL.lower() in text.lower()


@schemathesis.hook
def filter_case(context, case):
    return case.method.upper() == "GET" or not _names_the_fuzz_user(case)


# Each known to have made some server answer 500: NUL (PostgreSQL refuses it in text), LIKE
# wildcards and escapes, quotes, a right-to-left override, an astral character, and a string
# past SQLite's longest LIKE pattern (50,000 bytes).
HOSTILE = ["\x00", "a\x00b", "%", "_", "%_\\", "'", '"', "\u202e", "\U0001f600", "x" * 60_000]


def _string_places(value, at=()):
    """The paths (keys and indexes) of every string inside a JSON value."""
    if isinstance(value, str):
        yield at
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_places(v, at + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_places(v, at + (i,))


def _with(value, at, text):
    if not at:
        return text
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[at[0]] = _with(value[at[0]], at[1:], text)
    return copy


def _hostile(value):
    """Every third value (by a hash of it, so a case maps the same way when hypothesis
    replays or shrinks it) gets one of its strings swapped for a hostile one."""
    places = list(_string_places(value))
    if not places:
        return value
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()
    if digest[0] % 3:
        return value
    place = places[digest[1] % len(places)]
    return _with(value, place, HOSTILE[digest[2] % len(HOSTILE)])


@schemathesis.hook
def map_body(context, body):
    return _hostile(body)


@schemathesis.hook
def map_query(context, query):
    return _hostile(query)


@schemathesis.check
def smartbi_not_a_server_error(ctx, response, case):
    if not case.path.startswith("/smartbi/"):
        return None
    try:
        answer = json.loads(response.content)
    except ValueError:
        raise AssertionError("the Smartbi answer is not JSON")
    msg = answer.get("msg") or ""
    if answer.get("success") is False and (
        msg == "internal server error" or msg.startswith("the database is unavailable")
    ):
        raise AssertionError(f"Smartbi answered a server-side failure: {msg}")
    return None
