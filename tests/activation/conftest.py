"""Fixtures for the activation tests (helpers in sync_helpers.py)."""

from sync_helpers import mini, receiver  # noqa: F401 - fixtures
