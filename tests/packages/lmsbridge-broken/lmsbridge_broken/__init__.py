"""A third-party adapter whose import fails, as a half-installed package does."""

import lmsbridge_broken_dependency  # noqa: F401  (not installed anywhere)
