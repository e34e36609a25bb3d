"""Teach engine (UI-free)."""
