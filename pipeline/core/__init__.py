"""The core every feature stands on: configuration, the database (schema, views, ingest, queries) and consent."""
