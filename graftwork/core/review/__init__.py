"""Samples from base and adapter, and their review verdicts (UI-free)."""
