"""The base of every form: Flask-WTF's, with its CSRF token made when the form is shown.

Flask-WTF makes the token when a form is built, which puts it in the session. Pages build
forms that only some readers see (the comment box, the co-sign button, a moderator's
controls), so an anonymous reader of an issue would leave with a session cookie and a
private page: no shared cache could keep it. Here the token is made on first use, i.e. when
a template renders the form's hidden field; a form never shown costs nothing. Checking a
submitted token is unchanged.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from markupsafe import escape


class _Token:
    """The token, made when first turned into text."""

    def __init__(self, make):
        self._make, self._value = make, None

    def __str__(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value

    def __html__(self) -> str:
        return str(escape(str(self)))


class _LazyCSRF(_FlaskFormCSRF):
    def generate_csrf_token(self, csrf_token_field):
        return _Token(lambda: super(_LazyCSRF, self).generate_csrf_token(csrf_token_field))


class Form(FlaskForm):
    class Meta:
        csrf_class = _LazyCSRF
