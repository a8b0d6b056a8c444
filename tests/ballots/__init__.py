"""Tests for owners' ballots (Civil Code Art. 278)."""
