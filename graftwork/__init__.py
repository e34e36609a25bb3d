"""graftwork: curate fine-tuning datasets and grow adapters from the terminal."""

__version__ = "0.1.0"
