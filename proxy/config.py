"""Configuration of the proxy: read once from ``OPR_PROXY_*`` into a frozen dataclass."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from proxy import __version__

ALGORITHMS = ("round-robin", "random", "first", "last")
ENVIRONMENTS = ("production", "development")
LOGGING_PROVIDERS = ("", "sentry")


class ConfigError(ValueError):
    """An invalid ``OPR_PROXY_*`` value; the message names the variable and what it accepts."""


@dataclass(frozen=True)
class Executor:
    """One executor as configured: ``name`` is the item's text, as written."""

    name: str
    host: str
    port: int


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the proxy needs, parsed and validated once at start-up."""

    executors: tuple[Executor, ...]
    algorithm: str = "round-robin"
    secret: str = field(default="", repr=False)
    executor_secret: str = field(default="", repr=False)
    healthcheck: bool = True
    healthcheck_interval_ms: int = 10_000
    healthcheck_url: str = ""
    max_timeout: float = 600.0
    worker_per_core: int = 6
    env: str = "production"
    logging_provider: str = ""
    logging_config: str = field(default="", repr=False)
    version: str = __version__
    # Tuning set in code, not from the environment.
    connect_timeout: float = 5.0
    healthcheck_timeout: float = 5.0
    usage_limit: float = 80.0      # host or runtime usage (%) at which an executor counts as loaded
    inflight_cap: int = 64         # in-flight requests from this worker above which an executor is loaded
    idle_connections: int = 256    # keep-alive sockets kept per executor per worker
    chunk_size: int = 64 * 1024    # bytes moved per read when streaming bodies

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def healthcheck_interval(self) -> float:
        """Seconds between health rounds."""
        return self.healthcheck_interval_ms / 1000.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ProxyConfig":
        """Parse ``OPR_PROXY_*`` variables; raise :class:`ConfigError` on any invalid value."""
        env = os.environ if environ is None else environ

        def text(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        def choice(name: str, accepted: tuple[str, ...], default: str) -> str:
            value = text(name, default)
            if value not in accepted:
                shown = ", ".join(repr(a) for a in accepted)
                raise ConfigError(f"{name}={value!r} is invalid; accepted values: {shown}")
            return value

        def integer(name: str, default: int, minimum: int) -> int:
            value = text(name, str(default))
            try:
                number = int(value)
            except ValueError:
                number = minimum - 1
            if number < minimum:
                raise ConfigError(f"{name}={value!r} is invalid; accepted values: an integer >= {minimum}")
            return number

        provider = choice("OPR_PROXY_LOGGING_PROVIDER", LOGGING_PROVIDERS, "")
        logging_config = text("OPR_PROXY_LOGGING_CONFIG")
        if provider == "sentry":
            _check_sentry_dsn(logging_config)
        url = text("OPR_PROXY_HEALTHCHECK_URL")
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"OPR_PROXY_HEALTHCHECK_URL={url!r} is invalid; accepted values: an http:// or https:// URL, or empty")
        return cls(
            executors=parse_executors(env.get("OPR_PROXY_EXECUTORS", "")),
            algorithm=choice("OPR_PROXY_ALGORITHM", ALGORITHMS, "round-robin"),
            secret=env.get("OPR_PROXY_SECRET", ""),
            executor_secret=env.get("OPR_PROXY_EXECUTOR_SECRET", ""),
            healthcheck=choice("OPR_PROXY_HEALTHCHECK", ("enabled", "disabled"), "enabled") == "enabled",
            healthcheck_interval_ms=integer("OPR_PROXY_HEALTHCHECK_INTERVAL", 10_000, 100),
            healthcheck_url=url,
            max_timeout=float(integer("OPR_PROXY_MAX_TIMEOUT", 600, 1)),
            worker_per_core=integer("OPR_PROXY_WORKER_PER_CORE", 6, 1),
            env=choice("OPR_PROXY_ENV", ENVIRONMENTS, "production"),
            logging_provider=provider,
            logging_config=logging_config,
            version=text("OPR_PROXY_VERSION") or __version__,
        )


def parse_executors(value: str) -> tuple[Executor, ...]:
    """Parse ``host[:port],...``; spaces and empty items are ignored, the list must not be empty."""
    accepted = "a comma-separated list of host or host:port"
    executors = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, port = _split_host_port(item)
        if not host or port is None or not 0 < port < 65536 or any(c.isspace() or c in "/?#@" for c in host):
            raise ConfigError(f"OPR_PROXY_EXECUTORS item {item!r} is invalid; accepted values: {accepted}")
        executors.append(Executor(name=item, host=host, port=port))
    if not executors:
        raise ConfigError(f"OPR_PROXY_EXECUTORS is empty; accepted values: {accepted}")
    names = [e.name for e in executors]
    if len(set(names)) != len(names):
        raise ConfigError(f"OPR_PROXY_EXECUTORS lists an executor twice; accepted values: {accepted} (distinct)")
    return tuple(executors)


def _split_host_port(item: str) -> tuple[str, int | None]:
    if item.startswith("["):  # [IPv6]:port
        host, _, rest = item[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else (None if rest else "80")
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    else:
        host, port_text = item, "80"
    if port_text is None or not port_text.isdigit():
        return host, None
    return host, int(port_text)


def _check_sentry_dsn(dsn: str) -> None:
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn:
        raise ConfigError(
            "OPR_PROXY_LOGGING_CONFIG is not a valid Sentry DSN; accepted values: "
            "https://<key>@<host>/<project> (required with OPR_PROXY_LOGGING_PROVIDER=sentry)") from None
