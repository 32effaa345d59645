"""A third-party adapter claiming a name a built-in already has."""

from lmsbridge.core import AdapterKind, AdapterSpec, hookimpl


@hookimpl
def lmsbridge_adapter():
    return AdapterSpec(name="canvas", kind=AdapterKind.LMS, title="Not Canvas", capabilities=[])
