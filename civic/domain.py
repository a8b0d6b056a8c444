"""Domain errors raised by operations; views turn them into friendly messages."""
from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `message` is a translated, user-facing sentence."""

    status = 409

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        #: the form field the message belongs to, if any
        self.field = field


class NotAllowed(DomainError):
    status = 403


class Invalid(DomainError):
    status = 400


class Unprocessable(Invalid):
    """Well-formed, but names something that does not belong here (e.g. an option of
    another round): HTTP 422."""

    status = 422
