"""The workstation: a keyboard-driven Textual app over the catalog (imports graftwork.core only)."""
