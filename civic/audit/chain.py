"""Pure hashing rules of the audit chain; no Flask, no database."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

GENESIS = "0" * 64


def canonical_json(obj) -> str:
    """Sorted keys, no spaces, UTF-8 text: one byte string per value."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default)


def _default(value):
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)  # Decimal, enums (str subclasses are already handled), ids


def format_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_body(seq: int, at: datetime, actor: str, action: str, object_type: str,
                object_id: str, community_id: int | None, payload: str) -> str:
    """The text that is hashed for one event; `payload` is already canonical JSON."""
    return canonical_json({
        "seq": seq, "at": format_time(at), "actor": actor, "action": action,
        "object": f"{object_type}:{object_id}", "community": community_id,
        "payload": json.loads(payload),
    })


def record_body_before_seq(at: datetime, actor: str, action: str, object_type: str,
                           object_id: str, community_id: int | None, payload: str) -> str:
    """The record's text up to its sequence number: "seq" sorts last among its keys, so
    record_body(seq, …) == this + str(seq) + "}". Lets the database, which assigns the
    number, finish the text and hash it (civic.audit.operations)."""
    body = record_body(0, at, actor, action, object_type, object_id, community_id, payload)
    return body[:-len("0}")]


def link_hash(prev_hash: str, body: str) -> str:
    """hash = SHA-256(prev_hash ‖ body), hex."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
