"""The SQLite catalog: the source of truth for curation state (one file per workspace)."""
