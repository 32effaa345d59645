import pytest

from lmsbridge.core.capabilities import HOOK_OF, AdapterKind, AdapterSpec, Capability
from lmsbridge.core.errors import ValidationError
from lmsbridge.core.hookspecs import lmsbridge_adapter


def test_every_capability_has_a_hook():
    assert set(HOOK_OF) == set(Capability)


def test_opt_out_needs_a_reason():
    with pytest.raises(ValidationError, match=r"opt_outs\[content_publish\].*give its reason"):
        AdapterSpec("x", AdapterKind.LMS, "X", [], opt_outs={"content_publish": " "})


def test_unknown_capability_is_named():
    with pytest.raises(ValidationError, match="'grades'"):
        AdapterSpec("x", "lms", "X", ["grades"])


def test_cannot_declare_and_opt_out():
    with pytest.raises(ValidationError, match="both declare and opt out"):
        AdapterSpec("x", "lms", "X", ["grade_write"], opt_outs={"grade_write": "no"})


def test_missing_core_capabilities():
    spec = AdapterSpec(
        "x",
        "lms",
        "X",
        ["grade_write", "gradebook_columns"],
        opt_outs={"content_publish": "published by deep linking"},
    )
    assert spec.missing_core == {Capability.ROSTER_READ}
    assert lmsbridge_adapter.__doc__  # the spec documents itself
