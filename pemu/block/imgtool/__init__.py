"""Implementations behind the ``pemu-img`` subcommands (the CLI only parses)."""
