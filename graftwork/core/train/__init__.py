"""Train engine (UI-free)."""
