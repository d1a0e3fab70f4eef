"""The executor's configuration, read once from ``OPR_EXECUTOR_*`` variables (spec section 1).

:func:`Config.from_env` validates every value; an invalid one raises :class:`ConfigError`
whose message is one line naming the variable.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from executor import __version__, catalog

DEFAULT_WORK_DIR = "/tmp/opr-executor"


class ConfigError(ValueError):
    """An ``OPR_EXECUTOR_*`` variable holds an invalid value."""


@dataclass(frozen=True)
class Config:
    """Every setting of one executor. Paths are absolute."""

    env: str = "production"
    secret: str = ""
    adapter: str = "process"
    networks: tuple[str, ...] = ("openruntimes-runtimes",)
    inactive_threshold: int = 60
    maintenance_interval: int = 3600
    storage_root: Path = Path(DEFAULT_WORK_DIR) / "storage"
    storage_roots: tuple[Path, ...] = (Path(DEFAULT_WORK_DIR) / "storage",)
    docker_hub_username: str = ""
    docker_hub_password: str = ""
    images: tuple[str, ...] = ()
    runtime_versions: tuple[str, ...] = ("v3",)
    retry_attempts: int = 5
    retry_delay_ms: int = 500
    logging_provider: str = ""
    logging_config: str = ""
    hostname: str = field(default_factory=socket.gethostname)
    version: str = __version__
    # Additions of this implementation (documented in executor/README.md).
    work_dir: Path = Path(DEFAULT_WORK_DIR) / "runtimes"
    port_range: tuple[int, int] = (20000, 29999)
    rootfs_dir: Path | None = None
    runtimes_dir: Path | None = None
    usage_interval: float = 5.0
    logs_dir: Path | None = None
    prewarm: tuple[tuple[str, int], ...] = ()   # (image, runtimes kept ready); empty = no pools
    artifacts_dir: Path = Path(DEFAULT_WORK_DIR) / "artifacts"

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def host_network(self) -> bool:
        return self.networks == ("host",)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        """Parse ``environ`` (default ``os.environ``); raise :class:`ConfigError` on bad values."""
        env = _Reader(os.environ if environ is None else environ)
        storage_root, storage_roots = _storage(env)
        work_dir = env.path("OPR_EXECUTOR_WORK_DIR", DEFAULT_WORK_DIR + "/runtimes")
        threshold_name = "OPR_EXECUTOR_INACTIVE_THRESHOLD"
        if threshold_name not in env.environ and "OPR_EXECUTOR_INACTIVE_TRESHOLD" in env.environ:
            threshold_name = "OPR_EXECUTOR_INACTIVE_TRESHOLD"  # the v3-era spelling
        rootfs = env.get("OPR_EXECUTOR_ROOTFS_DIR")
        runtimes = env.get("OPR_EXECUTOR_RUNTIMES_DIR")
        adapter = env.choice("OPR_EXECUTOR_ADAPTER", "process", ("process", "docker"))
        return cls(
            env=env.choice("OPR_EXECUTOR_ENV", "production", ("production", "development")),
            secret=env.get("OPR_EXECUTOR_SECRET"),
            adapter=adapter,
            networks=env.names("OPR_EXECUTOR_NETWORK", "openruntimes-runtimes"),
            inactive_threshold=env.integer(threshold_name, 60, minimum=0),
            maintenance_interval=env.integer("OPR_EXECUTOR_MAINTENANCE_INTERVAL", 3600, minimum=1),
            storage_root=storage_root,
            storage_roots=storage_roots,
            docker_hub_username=env.get("OPR_EXECUTOR_DOCKER_HUB_USERNAME"),
            docker_hub_password=env.get("OPR_EXECUTOR_DOCKER_HUB_PASSWORD"),
            images=env.names("OPR_EXECUTOR_IMAGES", "", allow_empty=True),
            runtime_versions=env.names("OPR_EXECUTOR_RUNTIME_VERSIONS", "v3"),
            retry_attempts=env.integer("OPR_EXECUTOR_RETRY_ATTEMPTS", 5, minimum=0),
            retry_delay_ms=env.integer("OPR_EXECUTOR_RETRY_DELAY_MS", 500, minimum=0),
            logging_provider=env.choice("OPR_EXECUTOR_LOGGING_PROVIDER", "", ("", "sentry")),
            logging_config=env.get("OPR_EXECUTOR_LOGGING_CONFIG"),
            hostname=_hostname(env),
            version=env.get("OPR_EXECUTOR_VERSION") or __version__,
            work_dir=work_dir,
            port_range=env.port_range("OPR_EXECUTOR_PORT_RANGE", (20000, 29999)),
            rootfs_dir=Path(rootfs).resolve() if rootfs else None,
            runtimes_dir=Path(runtimes).resolve() if runtimes else None,
            usage_interval=env.number("OPR_EXECUTOR_USAGE_INTERVAL", 5.0, minimum=0.1),
            logs_dir=_logs_dir(env, adapter),
            prewarm=_prewarm(env),
            artifacts_dir=env.path("OPR_EXECUTOR_ARTIFACTS_DIR", str(work_dir.parent / "artifacts")),
        )


class _Reader:
    """Typed accessors over an environment mapping; errors name the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def get(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default).strip()

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name, default)
        if value not in allowed:
            options = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{name}: {value!r} is not one of {options}")
        return value

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        raw = self.get(name) or str(default)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}: {raw!r} is not an integer") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}: {value} is below the minimum {minimum}")
        return value

    def number(self, name: str, default: float, minimum: float) -> float:
        raw = self.get(name) or str(default)
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}: {raw!r} is not a number") from None
        if not value >= minimum:
            raise ConfigError(f"{name}: {value} is below the minimum {minimum}")
        return value

    def names(self, name: str, default: str, allow_empty: bool = False) -> tuple[str, ...]:
        raw = self.get(name) or default
        values = tuple(part.strip() for part in raw.split(",") if part.strip())
        if not values and not allow_empty:
            raise ConfigError(f"{name}: must list at least one value")
        return values

    def path(self, name: str, default: str) -> Path:
        return Path(self.get(name) or default).resolve()

    def port_range(self, name: str, default: tuple[int, int]) -> tuple[int, int]:
        raw = self.get(name)
        if not raw:
            return default
        try:
            low, high = (int(part) for part in raw.split("-", 1))
        except ValueError:
            raise ConfigError(f"{name}: {raw!r} is not a range like 20000-29999") from None
        if not 1024 <= low <= high <= 65535:
            raise ConfigError(f"{name}: {raw!r} must satisfy 1024 <= low <= high <= 65535")
        return low, high


def _logs_dir(env: _Reader, adapter: str) -> Path | None:
    """Where runtimes' log files go: ``OPR_EXECUTOR_LOGS_DIR``, default a folder on the
    ``/dev/shm`` tmpfs when there is one; ``none`` keeps them in the work dir.

    The docker adapter bind-mounts the folder into runtime containers, so the path must be the
    same for the executor and the Docker host. The executor cannot tell (it may run in a
    container whose /dev/shm is its own), so that adapter has no default: set the variable and
    mount the folder at the same path, as docker-compose.yml does."""
    raw = env.get("OPR_EXECUTOR_LOGS_DIR")
    if raw.lower() == "none":
        return None
    if raw:
        if not raw.startswith("/"):
            raise ConfigError(f"OPR_EXECUTOR_LOGS_DIR: must be an absolute path or 'none', got {raw!r}")
        return Path(raw).resolve()
    if adapter == "docker":
        return None
    shm = Path("/dev/shm")
    return shm / "opr-executor-logs" if shm.is_dir() and os.access(shm, os.W_OK) else None


def _storage(env: _Reader) -> tuple[Path, tuple[Path, ...]]:
    """The local storage root (from the ``local://`` DSN) and the allowed roots."""
    name = "OPR_EXECUTOR_CONNECTION_STORAGE"
    dsn = env.get(name) or f"local://{DEFAULT_WORK_DIR}/storage"
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme != "local":
        raise ConfigError(f"{name}: only local://<path> is supported, got {dsn!r}")
    if not rest.startswith("/"):
        raise ConfigError(f"{name}: the local path must be absolute, got {dsn!r}")
    root = Path(rest).resolve()
    raw_roots = env.get("OPR_EXECUTOR_STORAGE_ROOTS")
    roots = tuple(Path(p).resolve() for p in raw_roots.split(":") if p.strip()) if raw_roots else (root,)
    for candidate in roots:
        if not str(candidate).startswith("/"):
            raise ConfigError(f"OPR_EXECUTOR_STORAGE_ROOTS: {candidate} is not absolute")
    return root, roots


def _prewarm(env: _Reader) -> tuple[tuple[str, int], ...]:
    """``image=N,...``: how many pool-mode runtimes to keep ready per known runtime image."""
    name = "OPR_EXECUTOR_PREWARM"
    pools: dict[str, int] = {}
    for entry in env.names(name, "", allow_empty=True):
        image, sep, raw = entry.rpartition("=")
        image = image.strip()
        if not sep or not image or not raw.strip().isdigit():
            raise ConfigError(f"{name}: {entry!r} is not like <image>=<count>")
        if catalog.by_image(image) is None:
            raise ConfigError(f"{name}: {image!r} is not a known runtime image")
        if image in pools:
            raise ConfigError(f"{name}: {image!r} is listed twice")
        count = int(raw)
        if not 0 <= count <= 64:
            raise ConfigError(f"{name}: {entry!r} must keep 0-64 runtimes ready")
        pools[image] = count
    return tuple((image, count) for image, count in pools.items() if count > 0)


def _hostname(env: _Reader) -> str:
    import re

    value = env.get("OPR_EXECUTOR_HOSTNAME") or socket.gethostname()
    # The hostname prefixes directory and container names: keep it to safe characters.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", value):
        raise ConfigError(f"OPR_EXECUTOR_HOSTNAME: {value!r} must be 1-63 characters of A-Z a-z 0-9 . _ -")
    return value
