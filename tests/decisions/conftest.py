"""Decisions: the consultation area's `hall` (three bodies' staff and an accepted issue)."""
from tests.consultation.conftest import hall  # noqa: F401  (re-exported fixture)
