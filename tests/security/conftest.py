"""Fixtures of the security regression suite."""

from tests.security.outsider import office  # noqa: F401  (a live office with an officer)
