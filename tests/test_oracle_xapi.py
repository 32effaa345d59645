"""xAPI statements for Oracle Learning, checked by ralph's models (an independent validator)
plus our own rules for what ralph lets through."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid

import pytest
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement

from lmsbridge.adapters.oracle.xapi import (
    VERBS,
    XAPI_VERSION_HEADER,
    LearnerIdentityError,
    Score,
    StatementError,
    batch_statements,
    build_actor,
    build_completion_statement,
    build_start_statement,
    format_duration,
    format_timestamp,
    statement_id,
    validate_statement,
)

POD = "https://acme.fa.ocs.oraclecloud.com"
COURSE_URL = "https://www.coursera.org/learn/machine-learning"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
STARTED = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
FINISHED = dt.datetime(2026, 11, 20, 17, 45, 12, tzinfo=dt.UTC)


def ralph_accepts(statement: dict) -> None:
    # Validate our own dict; ralph's dump is never what we send (it stringifies scores).
    BaseXapiStatement.model_validate(copy.deepcopy(statement))


def email_actor(**kw):
    return build_actor(learner="L1", identify_by="email", email="ada@acme.example", **kw)


def completion(**overrides):
    args = dict(
        tenant="acme-oracle",
        learner_key="L1",
        actor=email_actor(name="Ada Lovelace"),
        activity_id=COURSE_URL,
        title="Machine Learning",
        timestamp=FINISHED,
        score=Score.from_percent(92.5),
        success=True,
        duration=dt.timedelta(hours=12, minutes=30),
        platform="Coursera",
        now=NOW,
    )
    args.update(overrides)
    return build_completion_statement(**args)


# --------------------------------------------------------------------------- happy paths


def test_start_statement_shape():
    s = build_start_statement(
        tenant="acme-oracle",
        learner_key="L1",
        actor=email_actor(),
        activity_id=COURSE_URL,
        title="Machine Learning",
        timestamp=STARTED,
        now=NOW,
    )
    ralph_accepts(s)
    validate_statement(s, now=NOW)
    assert s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/initialized"
    assert s["actor"] == {"objectType": "Agent", "mbox": "mailto:ada@acme.example"}
    assert s["object"]["id"] == COURSE_URL
    assert s["object"]["definition"]["name"] == {"en-US": "Machine Learning"}
    assert s["timestamp"] == "2026-11-01T07:30:00.000Z"  # converted to UTC, zone explicit
    assert "result" not in s and "version" not in s
    uuid.UUID(s["id"])


def test_completion_statement_shape():
    s = completion()
    ralph_accepts(s)
    assert s["verb"] == VERBS["completion"]
    assert s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert s["result"] == {
        "completion": True,
        "success": True,
        "score": {"scaled": 0.925, "raw": 92.5, "min": 0, "max": 100},
        "duration": "PT12H30M",
    }
    assert s["timestamp"] == "2026-11-20T17:45:12.000Z"
    assert s["context"] == {"platform": "Coursera"}
    assert "version" not in s
    json.dumps(s)  # plain JSON types only: numbers stay numbers


def test_account_actor_by_oracle_user_name():
    actor = build_actor(
        learner="L2", identify_by="username", username="ADA.LOVELACE", account_home_page=POD
    )
    assert actor == {"objectType": "Agent", "account": {"homePage": POD, "name": "ADA.LOVELACE"}}
    s = completion(actor=actor, learner_key="L2")
    ralph_accepts(s)


def test_same_inputs_give_same_id_and_statement():
    assert completion() == completion()
    assert completion()["id"] == completion(score=Score.from_percent(80))["id"]  # same event
    ids = {
        completion()["id"],
        completion(learner_key="L2")["id"],
        completion(tenant="other")["id"],
        completion(activity_id=COURSE_URL + "-2")["id"],
        completion(attempt=2)["id"],  # a retake is a new statement (Oracle opens a new enrollment)
    }
    assert len(ids) == 5


def test_start_and_completion_ids_differ():
    kw = dict(tenant="t", learner="L1", content=COURSE_URL)
    assert statement_id(event="start", **kw) != statement_id(event="completion", **kw)
    # Separator keeps ("a b","c") and ("a","b c") apart.
    assert statement_id(tenant="a", learner="b\x20c", content="x", event="e") != statement_id(
        tenant="a b", learner="c", content="x", event="e"
    )


def test_id_does_not_depend_on_email():
    other_email = build_actor(learner="L1", identify_by="email", email="ada@new.example")
    assert completion()["id"] == completion(actor=other_email)["id"]


def test_fallback_to_other_identifier():
    actor = build_actor(
        learner="L3",
        identify_by="email",
        username="l3.user",
        account_home_page=POD,
        fallback=True,
    )
    assert "account" in actor and "mbox" not in actor


def test_only_one_identifier_even_when_both_known():
    actor = build_actor(
        learner="L1",
        identify_by="username",
        email="ada@acme.example",
        username="ada",
        account_home_page=POD,
    )
    assert "mbox" not in actor and actor["account"]["name"] == "ada"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.timedelta(0), "PT0S"),
        (dt.timedelta(seconds=1.5), "PT1.50S"),
        (dt.timedelta(minutes=90), "PT1H30M"),
        (dt.timedelta(days=2, seconds=5), "PT48H5S"),
    ],
)
def test_format_duration(value, expected):
    assert format_duration(value) == expected
    s = completion(duration=value)
    ralph_accepts(s)


def test_headers_constant():
    assert XAPI_VERSION_HEADER == {"X-Experience-API-Version": "1.0.3"}


# --------------------------------------------------------------------------- refusals


def test_learner_without_identifier_is_named():
    with pytest.raises(LearnerIdentityError, match="'L9'.*neither") as info:
        build_actor(learner="L9", identify_by="email", email="  ", username=None)
    assert info.value.learner == "L9"


def test_learner_missing_configured_identifier_without_fallback():
    with pytest.raises(LearnerIdentityError, match="'L4'.*work email"):
        build_actor(learner="L4", identify_by="email", username="l4", account_home_page=POD)


def test_username_needs_pod_url():
    with pytest.raises(StatementError, match="account_home_page"):
        build_actor(learner="L5", identify_by="username", username="l5")


def test_invalid_email_is_refused():
    with pytest.raises(LearnerIdentityError, match="'L6'"):
        build_actor(learner="L6", identify_by="email", email="not-an-email")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(raw=101, min=0, max=100),
        dict(raw=-1, min=0, max=100),
        dict(min=10, max=10),
        dict(scaled=1.5),
        dict(scaled=float("nan")),
        dict(raw=True),
    ],
)
def test_invalid_scores_are_refused(kwargs):
    with pytest.raises(StatementError):
        Score(**kwargs)


def test_naive_timestamp_is_refused():
    with pytest.raises(StatementError, match="no timezone"):
        completion(timestamp=dt.datetime(2026, 11, 20, 17, 45))
    with pytest.raises(StatementError, match="no timezone"):
        format_timestamp(dt.datetime(2026, 11, 20))


def test_future_timestamp_is_refused():
    with pytest.raises(StatementError, match="future"):
        completion(timestamp=NOW + dt.timedelta(minutes=1))


def test_bad_activity_id_and_title():
    with pytest.raises(StatementError, match="IRI"):
        completion(activity_id="machine-learning")
    with pytest.raises(StatementError, match="title"):
        completion(title=" ")


# --------------------------------------------------------------------------- validate_statement
# Each case is something ralph accepts (asserted) but we must not send.


def _mutated(fn):
    s = completion()
    fn(s)
    return s


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(timestamp="2026-11-20T17:45:12"), "no timezone"),
        (lambda s: s.update(timestamp="2027-01-01T00:00:00Z"), "future"),
        # ralph tests min/raw/max by truthiness, so any zero skips its check.
        (lambda s: s["result"]["score"].update(raw=0, min=10, max=100), "below score.min"),
        (lambda s: s["result"]["score"].update(raw=5, min=-10, max=0), "above score.max"),
        (lambda s: s["result"]["score"].update(min=100, max=0, raw=None), "less than"),
        (lambda s: s["result"]["score"].update(min=10, max=10, raw=10), "less than"),
    ],
)
def test_own_checks_catch_what_ralph_misses(mutate, message):
    s = _mutated(mutate)
    s["result"]["score"] = {k: v for k, v in s["result"]["score"].items() if v is not None}
    ralph_accepts(s)  # ralph lets it through ...
    with pytest.raises(StatementError, match=message):  # ... we do not
        validate_statement(s, now=NOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(version="1.0.3"), "version"),
        (lambda s: s["actor"].update(account={"homePage": POD, "name": "x"}), "exactly one"),
        (lambda s: s["actor"].pop("mbox"), "exactly one"),
        (lambda s: s["actor"].update(mbox="ada@acme.example"), "mailto"),
        (lambda s: s["result"]["score"].update(raw=150), "above score.max"),
        (lambda s: s["result"]["score"].update(scaled=-2), "outside"),
        (lambda s: s["result"].update(completion="true"), "boolean"),
        (lambda s: s["result"].update(duration="12 hours"), "duration"),
        (lambda s: s.pop("timestamp"), "missing timestamp"),
        (lambda s: s.update(id="nope"), "UUID"),
        (lambda s: s["verb"].update(id="completed"), "verb.id"),
    ],
)
def test_validate_statement_rejects(mutate, message):
    with pytest.raises(StatementError, match=message):
        validate_statement(_mutated(mutate), now=NOW)


def test_validate_lists_every_problem():
    s = _mutated(lambda s: (s.update(version="1.0.0"), s["result"]["score"].update(raw=500)))
    with pytest.raises(StatementError) as info:
        validate_statement(s, now=NOW)
    assert len(info.value.problems) == 2


# --------------------------------------------------------------------------- batching


def _many(n):
    return [completion(learner_key=f"L{i}") for i in range(n)]


def test_batches_respect_size_and_order():
    statements = _many(7)
    batches = batch_statements(statements, max_size=3)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [s for b in batches for s in b] == statements
    for batch in batches:
        assert len({s["id"] for s in batch}) == len(batch)


def test_exact_duplicates_are_dropped():
    statements = _many(3)
    batches = batch_statements(statements + [copy.deepcopy(statements[0])], max_size=10)
    assert batches == [statements]


def test_conflicting_duplicates_raise():
    a = completion()
    b = completion(score=Score.from_percent(10))
    assert a["id"] == b["id"]
    with pytest.raises(StatementError, match=a["id"]):
        batch_statements([a, b])


def test_batch_edge_cases():
    assert batch_statements([]) == []
    with pytest.raises(ValueError):
        batch_statements(_many(1), max_size=0)
    with pytest.raises(StatementError, match="id"):
        batch_statements([{"actor": {}}])


def test_ralph_rejects_what_we_also_reject():
    # Sanity check that the independent validator is really validating.
    s = _mutated(lambda s: s["result"]["score"].update(scaled=1.5))
    with pytest.raises(ValidationError):
        ralph_accepts(s)
