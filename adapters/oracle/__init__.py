"""Oracle Learning adapter: content push over JWT-authenticated REST, completions as xAPI."""

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl


@hookimpl
def lmsbridge_adapter() -> AdapterSpec:
    return AdapterSpec(
        name="oracle",
        kind=AdapterKind.LEARNING,
        title="Oracle Learning",
        capabilities=[Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE,
                      Capability.GRADE_WRITE],
    )
