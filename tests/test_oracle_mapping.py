"""Per-tenant attribute mapping from provider course fields to Oracle's provider content fields."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from lmsbridge.adapters.oracle.mapping import (
    DEFAULT_RULES,
    ORACLE_ATTRIBUTE_NAMES,
    TARGETS,
    AttributeMapping,
    Constant,
    MappingError,
    Source,
)

COURSE = {
    "id": "c-ml",
    "name": "Machine Learning",
    "tagline": "Build ML models in Python.",
    "description": "A long description of the course.",
    "url": "https://www.coursera.org/learn/machine-learning",
    "languages": ["en", "es"],
    "workload": "Approx. 33 hours to complete",
    "partner": ["Stanford University", "DeepLearning.AI"],
    "instructors": ["Andrew Ng"],
    "photo_url": "https://d3njjcbhbojbot.cloudfront.net/ml.png",
    "retired": False,
}


def test_targets_are_oracles_documented_fields():
    assert TARGETS == (
        "content_url", "title", "summary", "description", "instruction_languages",
        "expected_effort", "publisher", "author", "instructor", "status",
        "deactivation_date", "cover_art_url",
    )  # fmt: skip
    assert set(DEFAULT_RULES) == set(TARGETS) == set(ORACLE_ATTRIBUTE_NAMES)


def test_default_mapping():
    assert AttributeMapping().map_course(COURSE) == {
        "content_url": "https://www.coursera.org/learn/machine-learning",
        "title": "Machine Learning",
        "summary": "Build ML models in Python.",
        "description": "A long description of the course.",
        "instruction_languages": ["en", "es"],
        "expected_effort": 33.0,
        "publisher": "Stanford University, DeepLearning.AI",
        "author": "Stanford University, DeepLearning.AI",
        "instructor": "Andrew Ng",
        "status": "ACTIVE",
        "cover_art_url": "https://d3njjcbhbojbot.cloudfront.net/ml.png",
    }


def test_to_oracle_uses_the_attribute_name_table():
    payload = AttributeMapping().to_oracle(COURSE)
    assert payload[ORACLE_ATTRIBUTE_NAMES["title"]] == "Machine Learning"
    assert set(payload) <= set(ORACLE_ATTRIBUTE_NAMES.values())


def test_minimal_course_object_with_attributes():
    # The domain model's Course (attrs) has only some fields; the rest are simply absent.
    @attrs.frozen
    class Course:
        id: str
        name: str
        url: str
        description: str | None = None
        retired: bool = False

    out = AttributeMapping().map_course(
        Course(id="c1", name=" Intro ", url="https://x.example/c1", retired=True)
    )
    assert out == {
        "content_url": "https://x.example/c1",
        "title": "Intro",
        "status": "INACTIVE",
    }


def test_fallback_sources_and_explicit_status():
    course = COURSE | {"tagline": "", "status": "Retired", "effort": dt.timedelta(minutes=90)}
    out = AttributeMapping().map_course(course)
    assert out["summary"] == COURSE["description"]
    assert out["status"] == "INACTIVE"
    assert out["expected_effort"] == 1.5  # effort wins over the workload text


@pytest.mark.parametrize(
    ("workload", "hours"),
    [
        ("Approx. 20 hours to complete", 20.0),
        ("1 hour 30 minutes", 1.5),
        ("45 mins", 0.75),
        (12, 12.0),
        ("4-6 hours/week", None),
        ("3 hours per week", None),
        ("3 weeks", None),
    ],
)
def test_effort_parsing(workload, hours):
    out = AttributeMapping().map_course(COURSE | {"workload": workload})
    assert out.get("expected_effort") == hours


def test_deactivation_date_forms():
    m = AttributeMapping()
    for value in (
        dt.date(2027, 3, 1),
        dt.datetime(2027, 3, 1, 23, 0, tzinfo=dt.UTC),
        "2027-03-01T10:00:00Z",
    ):
        assert (
            m.map_course(COURSE | {"deactivation_date": value})["deactivation_date"] == "2027-03-01"
        )


def test_tenant_overrides():
    m = AttributeMapping.from_config(
        {
            "publisher": {"constant": "Coursera"},
            "summary": "description",
            "author": None,  # don't send
            "instructor": ["instructors", "partner"],
            "title": {"source": "slug"},
        }
    )
    out = m.map_course(COURSE | {"slug": "machine-learning", "instructors": []})
    assert out["publisher"] == "Coursera"
    assert out["summary"] == COURSE["description"]
    assert "author" not in out
    assert out["instructor"] == "Stanford University, DeepLearning.AI"
    assert out["title"] == "machine-learning"
    assert m.rules["publisher"] == Constant("Coursera")
    assert m.rules["instructor"] == Source(("instructors", "partner"))
    # Defaults untouched for everyone else.
    assert AttributeMapping().rules["publisher"] == Source("partner")


def test_constant_is_coerced_like_the_target():
    m = AttributeMapping.from_config({"instruction_languages": {"constant": "en, fr"}})
    assert m.map_course(COURSE)["instruction_languages"] == ["en", "fr"]


def test_unknown_target_is_named():
    with pytest.raises(MappingError, match="unknown Oracle target 'summmary'"):
        AttributeMapping.from_config({"summmary": "description"})


def test_unknown_source_is_named():
    with pytest.raises(
        MappingError, match=r"'publisher'.*unknown provider field\(s\) \['partnr'\]"
    ):
        AttributeMapping.from_config({"publisher": "partnr"})
    with pytest.raises(MappingError, match="'nope'"):
        Source(("name", "nope"))


def test_all_config_problems_reported_together():
    with pytest.raises(MappingError) as info:
        AttributeMapping.from_config({"bogus": "name", "author": "bogus_field"})
    assert "'bogus'" in str(info.value) and "'bogus_field'" in str(info.value)


def test_locked_and_required_targets():
    with pytest.raises(MappingError, match="'content_url' cannot be changed"):
        AttributeMapping.from_config({"content_url": "photo_url"})
    with pytest.raises(MappingError, match="'title' is required"):
        AttributeMapping.from_config({"title": None})
    with pytest.raises(MappingError, match="must be a field name"):
        AttributeMapping.from_config({"title": {"const": "x"}})


def test_course_value_errors_name_course_and_target():
    with pytest.raises(
        MappingError, match=r"course 'c-ml': cover_art_url from photo_url: .*not an absolute"
    ):
        AttributeMapping().map_course(COURSE | {"photo_url": "/img/ml.png"})
    with pytest.raises(MappingError, match="title is required"):
        AttributeMapping().map_course(COURSE | {"name": "  "})
    with pytest.raises(MappingError, match="unknown status 'paused'"):
        AttributeMapping().map_course(COURSE | {"status": "paused"})
    with pytest.raises(MappingError, match="not a language code"):
        AttributeMapping().map_course(COURSE | {"languages": ["English (US)"]})
