"""Mastodon (and servers speaking its API): the REST client, hashtag polling, trust, verification, the own account."""
