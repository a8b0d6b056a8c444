"""A real SMTP server (aiosmtpd) on 127.0.0.1 and an ephemeral port, and mail helpers."""
from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from civic.extensions import db
from civic.notifications.models import EmailMode, NotificationSetting, OutboxEmail


class _EphemeralController(Controller):
    """Controller bound to port 0: learn the port the OS chose before the readiness probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Inbox:
    """What the server received; set `refuse` to an SMTP reply (e.g. "451 …") to fail DATA."""
    messages: list = field(default_factory=list)
    refuse: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.messages.append(envelope)
        return "250 OK"

    def parsed(self, i: int = -1):
        return email.message_from_bytes(self.messages[i].content, policy=email.policy.default)

    def html(self, i: int = -1) -> str:
        return self.parsed(i).get_body(("html",)).get_content()

    def text(self, i: int = -1) -> str:
        return self.parsed(i).get_body(("plain",)).get_content()


def _start(handler, **kwargs):
    controller = _EphemeralController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server(app):
    """Start a local SMTP server and point the app at it."""
    inbox = Inbox()
    controller = _start(inbox)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_USER="",
                      SMTP_PASSWORD="", SMTP_FROM="notify@civic.example.org",
                      SMTP_STARTTLS=False)
    inbox.controller = controller
    yield inbox
    controller.stop()


@pytest.fixture
def auth_smtp_server(app):
    """An SMTP server that offers AUTH over plain text and refuses every credential."""
    inbox = Inbox()

    def deny(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    controller = _start(inbox, authenticator=deny, auth_require_tls=False)
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def set_email(app):
    """set_email(user, address, mode="immediate", last_digest_at=None)"""
    def build(user, address, mode="immediate", last_digest_at=None):
        with app.app_context():
            db.session.merge(NotificationSetting(user_id=user.id, email=address,
                                                 mode=EmailMode(mode),
                                                 last_digest_at=last_digest_at))
            db.session.commit()
    return build


@pytest.fixture
def outbox(app):
    """outbox() → every OutboxEmail, oldest first, detached."""
    def read(**filters):
        with app.app_context():
            rows = db.session.query(OutboxEmail).filter_by(**filters).order_by(OutboxEmail.id).all()
            for r in rows:
                db.session.expunge(r)
            return rows
    return read
