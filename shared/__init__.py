"""Giliran's core. `__version__` is the installed product's version (pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("giliran")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
