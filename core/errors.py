"""Errors a user can cause and fix. The CLI prints them as one line; the web answers 4xx."""


class LmsbridgeError(Exception):
    """Base for errors caused by input or configuration, not by a bug in lmsbridge."""


class ValidationError(LmsbridgeError, ValueError):
    """A value does not fit its field. The message names the field and the value."""

    def __init__(self, field: str, value: object, reason: str):
        self.field, self.value, self.reason = field, value, reason
        super().__init__(f"{field}: {reason} (got {value!r})")


class NotFound(LmsbridgeError, LookupError):
    """A named thing (tenant, program, adapter…) does not exist."""


class AlreadyExists(LmsbridgeError):
    """A create would duplicate something that must be unique."""


class AdapterError(LmsbridgeError):
    """An adapter cannot serve a call (unknown adapter, capability not implemented)."""


class ConfigError(LmsbridgeError):
    """The configuration file or environment is wrong."""
