"""tallyho: count lines, words and TODO markers."""

__version__ = "0.3.1"
