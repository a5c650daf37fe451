"""The one place that reads ``peerdesk.toml`` and the environment into :class:`~pipeline.core.settings.Settings`.

Nothing reads configuration at import time: a command calls :func:`load_settings` once and passes the
result down. A key the file leaves out keeps the default written in :mod:`pipeline.core.settings`; a value
is checked by :mod:`pipeline.core.config_checks`, which names the key in one line. Secrets never come from
the file; they are looked up in the environment at the moment a collector needs them.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path

from pipeline.core.config_checks import (
    MAX_BUDGET,
    MAX_DAYS,
    MAX_IN_FLIGHT,
    MAX_RETRIES,
    MAX_TIMEOUT,
    ConfigError,
    base_url,
    check_address,
    check_bluesky_list,
    check_distinct_servers,
    check_duration_at_least,
    check_every,
    check_jetstream,
    check_language,
    check_nonempty,
    check_shape,
    check_smtp_host,
    check_tag,
    check_timezone,
    check_visibility,
    check_webhook_url,
    check_within,
)
from pipeline.core.settings import (
    DEFAULT_INSTANCES,
    DEFAULT_TAGS,
    AlertSettings,
    BlueskySettings,
    MastodonSettings,
    RunSettings,
    Settings,
    SummarySettings,
)

CONFIG_ENV = "PEERDESK_CONFIG"
CONFIG_NAME = "peerdesk.toml"
SMTP_PASSWORD_ENV = "PEERDESK_SMTP_PASSWORD"


def find_config(explicit: str | os.PathLike[str] | None) -> Path | None:
    """``--config`` first, then ``PEERDESK_CONFIG``, then ``./peerdesk.toml``."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path.cwd() / CONFIG_NAME
    return local if local.exists() else None


def load_settings(path: Path | None) -> Settings:
    """Read and validate a config file; ``None`` gives the defaults."""
    if path is None:
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (run 'peerdesk init')") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not allowed to read this configuration file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse_settings(raw, base_dir=path.resolve().parent, source=path)


def parse_settings(raw: dict, base_dir: Path, source: Path | None = None) -> Settings:
    """Settings from a parsed TOML document; relative paths are taken from ``base_dir`` (the file's folder)."""
    where = str(source) if source else "config"
    check_shape(raw, where)
    db = raw.get("database", {})
    com = raw.get("community", {})
    col = raw.get("collect", {})
    thr = raw.get("threads", {})
    defaults = Settings()

    def path_of(key: str, value: str | None, default: Path) -> Path:
        if value is None:
            return base_dir / default
        if not value.strip():
            raise ConfigError(f"{where}: [database] {key}: must not be empty")
        if "\0" in value:
            raise ConfigError(f"{where}: [database] {key}: {value!r} holds a NUL character")
        p = Path(value).expanduser()
        return p if p.is_absolute() else base_dir / p

    tags = tuple(check_tag(t, f"{where}: [community] tags[{i}]")
                 for i, t in enumerate(com.get("tags", DEFAULT_TAGS)))
    if not tags:
        raise ConfigError(f"{where}: [community] tags: give at least one tag")
    mastodon = raw.get("mastodon", {})
    instances = _instances(mastodon, where)  # checked in the order the keys have always been
    tz = com.get("timezone", defaults.timezone)
    check_timezone(tz, f"{where}: [community] timezone")
    return Settings(
        db_path=path_of("path", db.get("path"), defaults.db_path),
        state_dir=path_of("state_dir", db.get("state_dir"), defaults.state_dir),
        community=check_nonempty(com.get("name", defaults.community), f"{where}: [community] name"),
        tags=tuple(dict.fromkeys(tags)),
        language=check_language(com.get("language", defaults.language), f"{where}: [community] language"),
        timezone=tz,
        since_days=check_within(col.get("since_days", defaults.since_days), 1, MAX_DAYS,
                                f"{where}: [collect] since_days"),
        timeout=float(check_within(col.get("timeout", defaults.timeout), 1, MAX_TIMEOUT,
                                   f"{where}: [collect] timeout")),
        max_retries=check_within(col.get("max_retries", defaults.max_retries), 0, MAX_RETRIES,
                                 f"{where}: [collect] max_retries"),
        thread_budget=check_within(thr.get("budget", defaults.thread_budget), 0, MAX_BUDGET,
                                   f"{where}: [threads] budget"),
        thread_horizon_days=check_within(thr.get("horizon_days", defaults.thread_horizon_days), 1, MAX_DAYS,
                                         f"{where}: [threads] horizon_days"),
        mastodon=_mastodon(mastodon, instances, where),
        bluesky=_bluesky(raw.get("bluesky", {}), where),
        run=_run(raw.get("run", {}), where),
        summary=_summary(raw.get("summary", {}), where),
        alerts=_alerts(raw, where),
        source_file=source,
    )


def _instances(table: dict, where: str) -> tuple[str, ...]:
    instances = tuple(base_url(v, f"{where}: [mastodon] instances[{i}]")
                      for i, v in enumerate(table.get("instances", DEFAULT_INSTANCES)))
    check_distinct_servers(instances, f"{where}: [mastodon] instances")
    return tuple(dict.fromkeys(instances))


def _mastodon(table: dict, instances: tuple[str, ...], where: str) -> MastodonSettings:
    defaults = MastodonSettings()
    home = table.get("home")
    return MastodonSettings(
        instances=instances,
        home=base_url(home, f"{where}: [mastodon] home") if home else None,
        max_in_flight=check_within(table.get("max_in_flight", defaults.max_in_flight), 1, MAX_IN_FLIGHT,
                                   f"{where}: [mastodon] max_in_flight"),
        fetch_from_origin=table.get("fetch_from_origin", defaults.fetch_from_origin),
        lists=_mastodon_lists(table.get("lists", []), bool(home), f"{where}: [mastodon] lists"),
    )


def _mastodon_lists(values: list[str], has_home: bool, where: str) -> tuple[str, ...]:
    lists = tuple(dict.fromkeys(v.strip() for v in values))
    if any(not v for v in lists):
        raise ConfigError(f"{where}: a list id or title must not be empty")
    if lists and not has_home:
        raise ConfigError(f"{where}: lists are read from your own account: set [mastodon] home too")
    return lists


def _bluesky(table: dict, where: str) -> BlueskySettings:
    defaults = BlueskySettings()
    return BlueskySettings(
        service=base_url(table.get("service", defaults.service), f"{where}: [bluesky] service"),
        appview=base_url(table.get("appview", defaults.appview), f"{where}: [bluesky] appview"),
        lists=tuple(check_bluesky_list(v, f"{where}: [bluesky] lists[{i}]")
                    for i, v in enumerate(table.get("lists", []))),
        jetstream=check_jetstream(table.get("jetstream", defaults.jetstream), f"{where}: [bluesky] jetstream"),
    )


def _run(table: dict, where: str) -> RunSettings:
    if "every" not in table:
        return RunSettings()
    return RunSettings(every=check_every(table["every"], f"{where}: [run] every"))


def _summary(table: dict, where: str) -> SummarySettings:
    """``[summary]`` as written; the template's fields are checked by the summary feature, which knows them."""
    defaults = SummarySettings()
    visibility = check_visibility(table.get("visibility", defaults.visibility), f"{where}: [summary] visibility")
    return SummarySettings(template=table.get("template", defaults.template),
                           mentions=table.get("mentions", defaults.mentions), visibility=visibility)


def _alerts(raw: dict, where: str) -> AlertSettings:
    if "alerts" not in raw:
        return AlertSettings()
    table = raw["alerts"]
    defaults = AlertSettings()
    after = defaults.after
    if "after" in table:
        after = check_duration_at_least(table["after"], timedelta(minutes=1), f"{where}: [alerts] after")
    email_to = tuple(check_address(v, f"{where}: [alerts] email_to[{i}]")
                     for i, v in enumerate(table.get("email_to", [])))
    email_from = table.get("email_from")
    if email_from is not None:
        email_from = check_address(email_from, f"{where}: [alerts] email_from")
    smtp_host = table.get("smtp_host")
    if smtp_host is not None:
        smtp_host = check_smtp_host(smtp_host, f"{where}: [alerts] smtp_host")
    if email_to and not email_from:
        raise ConfigError(f"{where}: [alerts] email_from: required when email_to is set")
    if email_to and not smtp_host:
        raise ConfigError(f"{where}: [alerts] smtp_host: required when email_to is set")
    port = table.get("smtp_port", defaults.smtp_port)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: [alerts] smtp_port: must be between 1 and 65535, got {port}")
    user = table.get("smtp_user")
    if user is not None and (not user.strip() or any(c in user for c in "\r\n")):
        raise ConfigError(f"{where}: [alerts] smtp_user: must be a non-empty single line")
    webhook = table.get("webhook_url")
    if webhook is not None:
        webhook = check_webhook_url(webhook, f"{where}: [alerts] webhook_url")
    return AlertSettings(enabled=True, after=after, email_to=tuple(dict.fromkeys(email_to)), email_from=email_from,
                         smtp_host=smtp_host or None, smtp_port=port,
                         smtp_starttls=table.get("smtp_starttls", defaults.smtp_starttls),
                         smtp_user=user.strip() if user else None, webhook_url=webhook)


def smtp_password() -> str | None:
    """The SMTP password, from the environment only, read when an e-mail is sent."""
    return os.environ.get(SMTP_PASSWORD_ENV) or None
