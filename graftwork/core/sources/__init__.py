"""Source kinds. A widget from the Übersicht gallery is one kind of item; READMEs with file
trees and plan items will be further kinds registered here without changing the core."""

from __future__ import annotations

from graftwork.core.sources.base import Source
from graftwork.core.sources.uebersicht import UebersichtSource

SOURCES: dict[str, Source] = {"uebersicht": UebersichtSource()}


def get_source(kind: str) -> Source:
    try:
        return SOURCES[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known: {', '.join(SOURCES)}") from None
