"""Shortening the wait: overdue alerts (webhook, e-mail), who could answer, and what was asked before."""
