"""Run a command in a bubblewrap sandbox over a read-only Debian root.

Used by the executor's process adapter (container-like paths) and by the runtime test
harness (host paths, runtimes spec 6.5). The caller owns the process: it starts it with
``start_new_session=True`` and kills the whole group to stop it. We do not pass
``--new-session`` to bwrap, so the sandboxed processes stay in that group; the PID namespace
ends every process inside when its init exits.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

# Read-only host files a sandbox gets so package installs work behind this host's TLS
# interception and DNS (public data only: CA certificates and resolver config).
HOST_FILES = ("/etc/resolv.conf", "/etc/ssl/certs", "/etc/hosts")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@dataclass(frozen=True)
class Mount:
    """A host path made visible inside the sandbox at ``target``."""

    source: str
    target: str
    writable: bool = False


def bwrap_path() -> str | None:
    """The bubblewrap binary, or None when it is not installed."""
    return shutil.which("bwrap")


def default_cache_dir() -> Path:
    """Where scripts/debian.sh keeps its Debian trees (``$OPR_CACHE``)."""
    if os.environ.get("OPR_CACHE"):
        return Path(os.environ["OPR_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "open-runtimes"


def rootfs_for(suite: str, rootfs_dir: str | os.PathLike | None = None) -> Path | None:
    """The prepared Debian root of ``suite`` (scripts/debian.sh rootfs SUITE), if present."""
    base = Path(rootfs_dir) if rootfs_dir else default_cache_dir() / "rootfs"
    root = base / suite
    return root if (root / ".complete").exists() else None


def argv(
    root: str | os.PathLike,
    mounts: Iterable[Mount],
    command: Sequence[str],
    cwd: str = "/",
    bwrap: str = "bwrap",
) -> list[str]:
    """The bwrap command line running ``command`` over ``root`` with ``mounts``.

    The environment is whatever the caller gives the bwrap process (pass a clean one):
    bwrap hands it on unchanged. The host network is shared (runtimes listen on 127.0.0.1).
    """
    args = [
        bwrap,
        "--ro-bind", str(root), "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/run",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent",
    ]
    for host_file in HOST_FILES:
        # bwrap cannot create a missing mount point in a read-only root: skip those files.
        in_root = os.path.join(str(root), host_file.lstrip("/"))
        if os.path.exists(host_file) and str(root) != "/" and os.path.exists(in_root):
            args += ["--ro-bind", host_file, host_file]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), str(mount.target)]
    args += ["--chdir", cwd, "--"]
    args += list(command)
    return args


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The minimal environment of a sandboxed process: PATH, HOME, LANG + ``extra``."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        # Package managers inside builds trust the host's CA bundle (see HOST_FILES).
        "PIP_CERT": CA_BUNDLE,
        "NODE_EXTRA_CA_CERTS": CA_BUNDLE,
        "SSL_CERT_FILE": CA_BUNDLE,
    }
    env.update(extra or {})
    return env
