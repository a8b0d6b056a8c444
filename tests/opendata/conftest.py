"""Open data: the consultation area's `hall`, carried to an effective decision."""
from tests.consultation.conftest import hall  # noqa: F401  (re-exported fixture)
