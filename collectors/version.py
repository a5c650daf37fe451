"""Who we say we are on the network."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/peerdesk/peerdesk"
USER_AGENT = f"peerdesk/{__version__} (+{PROJECT_URL})"
