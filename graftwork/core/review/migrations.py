"""Schema of samples and reviews. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.review")
