"""What the views work with: configuration, adapter, registry and storage of one executor."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from executor.adapters.base import Adapter
from executor.artifacts import ArtifactCache
from executor.config import Config
from executor.pools import Pools
from executor.runtimes import Registry, Runtime
from executor.storage import Storage

log = logging.getLogger(__name__)


@dataclass
class Services:
    """One executor's shared state, created once by :func:`executor.app.create_app`."""

    config: Config
    adapter: Adapter
    registry: Registry
    storage: Storage
    pools: Pools = field(default=None)              # made from config and adapter when omitted
    artifacts: ArtifactCache = field(default=None)  # unpacked artifacts of pool hits

    def __post_init__(self):
        if self.pools is None:
            self.pools = Pools(self.adapter, self.config)
        if self.artifacts is None:
            self.artifacts = ArtifactCache(self.config.artifacts_dir / self.config.hostname)

    def runtime_name(self, runtime_id: str) -> str:
        return f"{self.config.hostname}-{runtime_id}"

    def remove(self, runtime: Runtime) -> None:
        """Remove ``runtime``: out of the registry first (no new execution is routed to it),
        then its processes/container and files. Safe to call more than once."""
        self.registry.discard(runtime)
        runtime.removed.set()
        if runtime.output is not None:
            runtime.output.finish()
        client, runtime.client = runtime.client, None
        if client is not None:
            client.close()
        instance, runtime.instance = runtime.instance, None
        if instance is not None:
            try:
                self.adapter.remove(instance)
            except Exception:
                log.exception("could not remove runtime %s", runtime.name)

    def remove_all(self) -> None:
        """Remove every runtime of this executor (shutdown)."""
        for runtime in self.registry.all():
            self.remove(runtime)
