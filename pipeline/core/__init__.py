"""The core every feature stands on: configuration, the database and consent.

Configuration: ``settings`` (every setting, typed, with its one default), ``config`` (reading
``peerdesk.toml`` and the environment), ``config_checks`` (the one-line errors).
The database: ``schema`` (tables and migrations), ``views`` (the documented views, and what an open help
request is), ``store`` (opening the file), ``database_file`` (is it ours?), ``ingest`` and ``writer`` (storing
pages), ``queries`` (the questions the CLI and dashboard ask), ``recover`` (rebuilding a damaged file).
People: ``consent`` (who may be stored or named), ``account_names``.
"""
