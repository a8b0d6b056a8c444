"""Audit log area: hash-chained record of every state change."""
