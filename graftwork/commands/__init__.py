"""One module per `graftwork` subcommand; each exposes `command`."""
