"""``python -m pipeline.cli``: the same as the ``peerdesk`` command."""

from pipeline.cli.commands import main

main()
