"""The community follow-list: candidates and decisions, exports in importable formats, syncs to both platforms."""
