"""A toy third-party adapter, as an integrator would ship one."""

from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl
from lmsbridge.core.model import RosterMember


@hookimpl
def lmsbridge_adapter():
    return AdapterSpec(name="schoology", kind=AdapterKind.LMS, title="Schoology",
                       capabilities=[Capability.ROSTER_READ])


@hookimpl
def lmsbridge_read_roster(tenant, context):
    return [RosterMember("u1", ["Learner"])]
