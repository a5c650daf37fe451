"""What leaves peerdesk for people and other tools: rows as a table, CSV or JSON, and the documented views as files."""
