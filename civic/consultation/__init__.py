"""Consultation rounds of the joint meeting (协商议事, DESIGN.md §4)."""
