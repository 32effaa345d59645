from datetime import UTC, datetime

import pytest

from lmsbridge.core.errors import ValidationError
from lmsbridge.core.model import (
    Delivery,
    Grade,
    GradeSync,
    Learner,
    PlatformRegistration,
    Tenant,
    dedupe_key,
)
from lmsbridge.core.secret import Secret

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def reg(**changes):
    values = dict(
        tenant="uni-a",
        issuer="https://canvas.instructure.com",
        client_id="10",
        deployment_ids=["d1"],
        auth_login_url="https://x.test/auth",
        auth_token_url="https://x.test/token",
        jwks_url="https://x.test/jwks",
    )
    return PlatformRegistration(**(values | changes))


@pytest.mark.parametrize(
    "kwargs, field, value",
    [
        (dict(name="Uni A", kind="canvas"), "Tenant.name", "Uni A"),
        (dict(name="uni-a", kind="canvas", grade_sync="B"), "Tenant.grade_sync", "B"),
        (dict(name="uni-a", kind="canvas", base_url="ftp://lms"), "Tenant.base_url", "ftp://lms"),
        (dict(name="uni-a", kind="canvas", incremental="yes"), "Tenant.incremental", "yes"),
    ],
)
def test_bad_tenant_names_field_and_value(kwargs, field, value):
    with pytest.raises(ValidationError) as err:
        Tenant(**kwargs)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert repr(value) in str(err.value)


def test_grade_sync_options_are_exactly_three():
    assert [g.value for g in GradeSync] == ["item", "course", "final"]
    assert Tenant("uni-a", "moodle", "course").grade_sync is GradeSync.COURSE


def test_registration_needs_a_deployment_and_urls():
    assert reg(deployment_ids=["d1", "d2"]).deployment_ids == ("d1", "d2")
    with pytest.raises(ValidationError, match="PlatformRegistration.deployment_ids"):
        reg(deployment_ids=[])
    with pytest.raises(ValidationError, match="PlatformRegistration.jwks_url.*'jwks'"):
        reg(jwks_url="jwks")


def test_grades_need_aware_times_and_score_within_max():
    with pytest.raises(
        ValidationError, match="Grade.updated_at: must be a datetime with a time zone"
    ):
        Grade("l1", "c1", 0.5, 1.0, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="Grade.score.*must not exceed max_score"):
        Grade("l1", "c1", 1.5, 1.0, NOW)


def test_learner_without_pii_is_valid_but_bad_email_is_not():
    assert Learner("l1").email is None
    with pytest.raises(ValidationError, match="Learner.email"):
        Learner("l1", email="first_lastname@")


def test_delivery_dedupe_key_identifies_a_grade_revision():
    d = Delivery("uni-a", "ctx", "item:1", "l1", "u1", 0.5, 1.0, NOW, grade_revision=3)
    assert d.dedupe_key == dedupe_key("uni-a", "ctx", "item:1", "l1", 3)
    later = Delivery("uni-a", "ctx", "item:1", "l1", "u1", 0.7, 1.0, NOW, grade_revision=4)
    assert later.dedupe_key != d.dedupe_key


def test_secret_never_shows_in_repr_or_str():
    s = Secret("tok-123")
    assert "tok-123" not in repr(s) and "tok-123" not in str(s) and "tok-123" not in f"{s}"
    assert s.reveal() == "tok-123"
