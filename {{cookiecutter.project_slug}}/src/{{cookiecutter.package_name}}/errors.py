"""The one kind of failure a user must fix: every stage ends on it with one clear line."""

from __future__ import annotations


class StageError(RuntimeError):
    """A problem the user must fix; its message names the file, column or option."""


class ConfigError(StageError):
    """params.yaml is missing, unreadable or holds a bad value."""
