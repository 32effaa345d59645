"""The public API for adapter authors: every name from ``lmsbridge.core`` an adapter or its
mock uses. Adapters import core only from here (``make lint`` checks it); everything else in
``lmsbridge.core`` may change without notice.

Groups:

- declaring an adapter: ``hookimpl``, ``AdapterSpec``, ``AdapterKind``, ``Capability``;
- model types hooks receive and return: ``Tenant``, ``Provider``, ``Context``, ``Delivery``,
  ``DeliveryResult``, ``Outcome``, ``GradebookColumn``, ``Publication``, ``Program``,
  ``Course``, ``Item``, ``Progress``, ``RosterMember``, ``MemberStatus``, ``GradeSync``,
  ``evolve``; a learning platform's completions: ``Completion``, ``LearnerIdentity``,
  ``LearningContent``, ``LearningEvent``;
- what hooks are given: ``Runtime``, ``AdapterState`` (the adapter's own state, per tenant),
  ``Secret``;
- errors adapters raise: ``LmsbridgeError``, ``ConfigError``, ``AdapterError``, ``NotFound``,
  ``AlreadyExists``, ``ValidationError``;
- HTTP answers (``core.http``): ``read_capped``, ``AnswerTooLarge``, ``UnreadableAnswer``,
  ``unreadable_json``, ``failure``, ``is_transient``, ``retry_after``, ``parse_retry_after``,
  ``platform_message``, ``redact``, the limits ``POX_LIMIT``, ``JWKS_LIMIT``, ``TOKEN_LIMIT``,
  ``JSON_LIMIT``, and ``iter_pages`` (RFC 8288 ``Link`` paging);
- LTI Advantage: ``advantage`` (the AGS/NRPS hook implementations an LTI adapter delegates to:
  ``advantage.ensure_columns``, ``write_grades``, ``read_roster``, ``retire_content``,
  ``service_for``), ``ScoreWriter``, ``TokenService``, ``AccessToken``, ``TokenError``,
  ``AgsClient``, ``LineItem``, ``Score``, ``ScoreResult``, ``NrpsClient``;
- LMS setup text (``lmsbridge_platform_setup``): ``ToolConfig``, ``TITLE``, ``DESCRIPTION``,
  ``SCOPES``, ``title``;
- adapter commands (``lmsbridge_register_commands``): ``App``, ``pass_app``;
- launch URLs and keys: ``ToolUrls``; ``PROGRAM``, ``COURSE``, ``ITEM`` (the custom/query
  parameter names a published link carries); ``keys`` (column and content keys);
- seeding a mock in the conformance suite (``SuitePlatform.connect``): ``Store`` (the type
  passed in), ``Providers``, ``ToolKeyring``, ``PlatformRegistration``.

Mocks import the mock server and the suite's protocol from ``lmsbridge.conformance``
directly (``lmsbridge.conformance.mock``, ``.suite.platform``, ``.lti``): that package is
public for third parties too, and core imports no conformance module.
"""

from lmsbridge.core import keys
from lmsbridge.core.capabilities import AdapterKind, AdapterSpec, Capability
from lmsbridge.core.cli.app import App, pass_app
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.errors import (
    AdapterError,
    AlreadyExists,
    ConfigError,
    LmsbridgeError,
    NotFound,
    ValidationError,
)
from lmsbridge.core.http import (
    JSON_LIMIT,
    JWKS_LIMIT,
    POX_LIMIT,
    TOKEN_LIMIT,
    AnswerTooLarge,
    UnreadableAnswer,
    failure,
    is_transient,
    parse_retry_after,
    platform_message,
    read_capped,
    redact,
    retry_after,
    unreadable_json,
)
from lmsbridge.core.lti import advantage
from lmsbridge.core.lti.advantage import ScoreWriter
from lmsbridge.core.lti.ags import AgsClient, LineItem, Score, ScoreResult
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.nrps import NrpsClient
from lmsbridge.core.lti.paging import iter_pages
from lmsbridge.core.lti.routing import COURSE, ITEM, PROGRAM
from lmsbridge.core.lti.service_errors import TokenError
from lmsbridge.core.lti.setup import DESCRIPTION, SCOPES, TITLE, ToolConfig, title
from lmsbridge.core.lti.token import AccessToken, TokenService
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import (
    Completion,
    Context,
    Course,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    GradeSync,
    Item,
    LearnerIdentity,
    LearningContent,
    LearningEvent,
    MemberStatus,
    Outcome,
    PlatformRegistration,
    Program,
    Progress,
    Provider,
    Publication,
    RosterMember,
    Tenant,
    evolve,
)
from lmsbridge.core.plugins import hookimpl
from lmsbridge.core.runtime import AdapterState, Runtime
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

__all__ = [
    # declaring an adapter
    "hookimpl", "AdapterSpec", "AdapterKind", "Capability",
    # model types
    "Tenant", "Provider", "Context", "Delivery", "DeliveryResult", "Outcome",
    "GradebookColumn", "Publication", "Program", "Course", "Item", "Progress",
    "RosterMember", "MemberStatus", "GradeSync", "evolve",
    "Completion", "LearnerIdentity", "LearningContent", "LearningEvent",
    # what hooks are given
    "Runtime", "AdapterState", "Secret",
    # errors
    "LmsbridgeError", "ConfigError", "AdapterError", "NotFound", "AlreadyExists",
    "ValidationError",
    # HTTP answers
    "read_capped", "AnswerTooLarge", "UnreadableAnswer", "unreadable_json", "failure",
    "is_transient", "retry_after", "parse_retry_after", "platform_message", "redact",
    "POX_LIMIT", "JWKS_LIMIT", "TOKEN_LIMIT", "JSON_LIMIT", "iter_pages",
    # LTI Advantage
    "advantage", "ScoreWriter", "TokenService", "AccessToken", "TokenError", "AgsClient",
    "LineItem",
    "Score", "ScoreResult", "NrpsClient",
    # LMS setup text
    "ToolConfig", "TITLE", "DESCRIPTION", "SCOPES", "title",
    # adapter commands
    "App", "pass_app",
    # launch URLs and keys
    "ToolUrls", "PROGRAM", "COURSE", "ITEM", "keys",
    # seeding a mock in the conformance suite
    "Store", "Providers", "ToolKeyring", "PlatformRegistration",
]
