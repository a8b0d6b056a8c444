"""Owners' ballots on the matters of Civil Code Art. 278."""
