"""Money is integer fen (分) everywhere; yuan strings only at the edges (forms, pages)."""
from __future__ import annotations

import re
from decimal import Decimal

_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?", re.ASCII)

#: ¥ 100 亿 — far beyond any community budget, well inside BIGINT
MAX_FEN = 10**12


def parse_yuan(text: str | None) -> int:
    """"12,500.5" or "¥12500.50" → 1250050 fen, exactly. Raises ValueError for anything
    that is not a non-negative amount with at most two decimals."""
    cleaned = (text or "").strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not _AMOUNT.fullmatch(cleaned):
        raise ValueError("not an amount in yuan with at most two decimals")
    fen = int(Decimal(cleaned) * 100)
    if fen > MAX_FEN:
        raise ValueError("too large")
    return fen


def format_fen(fen: int | None) -> str:
    """1250050 → "12,500.50" (no currency sign: templates put "¥" or "元" around it)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan:,}.{cents:02d}"
