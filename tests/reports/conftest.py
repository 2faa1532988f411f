"""The reports' tables join the metadata before any test database is created."""

import shared.reports.models  # noqa: F401
