"""The weekly summary: its facts, words, template, rendering per platform, and idempotent publishing."""
