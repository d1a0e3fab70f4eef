"""Adapters start runtimes: ``process`` (bubblewrap sandboxes) or ``docker`` (containers)."""
from __future__ import annotations

from executor.adapters.base import Adapter
from executor.config import Config


def create_adapter(config: Config) -> Adapter:
    """The adapter ``config`` asks for, built from explicit settings."""
    if config.adapter == "docker":
        from executor.adapters.docker import DockerAdapter  # imports the docker SDK

        return DockerAdapter(
            hostname=config.hostname,
            work_dir=config.work_dir,
            networks=config.networks,
            port_range=config.port_range,
            images=config.images,
            registry_username=config.docker_hub_username,
            registry_password=config.docker_hub_password,
            logs_root=config.logs_dir,
        )
    from executor.adapters.process import ProcessAdapter

    return ProcessAdapter(
        hostname=config.hostname,
        work_dir=config.work_dir,
        runtimes_dir=config.runtimes_dir,
        rootfs_dir=config.rootfs_dir,
        port_range=config.port_range,
        logs_root=config.logs_dir,
    )
