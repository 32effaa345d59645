"""lmsbridge core: hook specs, plugin registry, domain model, store, CLI.

Adapters import core through :mod:`lmsbridge.core.api`, which holds every name they use.
The four names below stay importable from here for adapters written before it existed.
"""

from importlib import metadata

from lmsbridge.core.capabilities import AdapterKind, AdapterSpec, Capability
from lmsbridge.core.plugins import hookimpl

try:
    __version__ = metadata.version("lmsbridge")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["AdapterKind", "AdapterSpec", "Capability", "hookimpl", "__version__"]
