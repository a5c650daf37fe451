"""The ``peerdesk`` command line, one module per command group; ``main`` is the entry point ``pipeline.cli:main``."""

from pipeline.cli.commands import main

__all__ = ["main"]
