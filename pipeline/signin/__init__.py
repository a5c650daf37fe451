"""Signing in once: ``peerdesk login/logout/whoami`` and the 0600 token files they keep."""
