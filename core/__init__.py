"""lmsbridge core: hook specs, plugin registry, domain model, store, CLI.

What an adapter package needs is importable from here::

    from lmsbridge.core import AdapterKind, AdapterSpec, Capability, hookimpl
"""

from importlib import metadata

from lmsbridge.core.capabilities import AdapterKind, AdapterSpec, Capability
from lmsbridge.core.plugins import hookimpl

try:
    __version__ = metadata.version("lmsbridge")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["AdapterKind", "AdapterSpec", "Capability", "hookimpl", "__version__"]
