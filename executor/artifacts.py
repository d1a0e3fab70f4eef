"""Build artifacts unpacked once on the host, then copied into the function dirs of pool runtimes.

An entry is keyed by the artifact's resolved path, size and modification time, so a rebuilt
artifact (same path, new content) gets a new entry. Entries are copied, never hard-linked: a
function may write into its function dir, and a shared inode would leak that write into every
other runtime of the same build.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tarfile
import threading
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_ENTRIES = 32            # entries kept beyond this are evicted, least recently used first
EVICT_AFTER_SECONDS = 300    # ... but only once unused that long (a copy may be reading them)


class ArtifactError(Exception):
    """The artifact could not be unpacked or copied."""


class ArtifactCache:
    """Unpacked artifacts under ``root``, one directory per artifact version."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._unpacking: dict[str, threading.Lock] = {}

    def unpacked(self, source: Path) -> Path:
        """The directory holding ``source`` unpacked; unpacks it on first use only."""
        stat = source.stat()
        key = hashlib.sha256(f"{os.path.realpath(source)}\0{stat.st_size}\0{stat.st_mtime_ns}"
                             .encode("utf-8", "surrogateescape")).hexdigest()[:32]
        entry = self.root / key
        with self._lock:
            lock = self._unpacking.setdefault(key, threading.Lock())
        with lock:  # concurrent cold starts of one build unpack it once
            if not entry.is_dir():
                self._unpack(source, entry)
                self._evict(keep=entry)
        os.utime(entry)  # its last use, for eviction
        return entry

    def fill(self, source: Path, function_dir: Path) -> None:
        """Copy the unpacked ``source`` into the (empty) ``function_dir``."""
        entry = self.unpacked(source)
        # cp keeps modes and symlinks (venvs link to the interpreter) and reflinks where it can.
        done = subprocess.run(["cp", "-a", "--reflink=auto", f"{entry}/.", f"{function_dir}/"],
                              stdin=subprocess.DEVNULL, capture_output=True)
        if done.returncode != 0:
            raise ArtifactError(done.stderr.decode("utf-8", "replace").strip()[:500])

    def clear(self) -> None:
        """Delete every entry (shutdown)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _unpack(self, source: Path, entry: Path) -> None:
        partial = self.root / f".{entry.name}.{uuid.uuid4().hex[:8]}.partial"
        partial.mkdir(parents=True)
        try:
            with tarfile.open(source, "r:gz") as archive:
                # "tar": no absolute paths, nothing outside the entry, no setuid bits; symlinks
                # to absolute targets stay allowed (a venv's bin/python is one).
                archive.extractall(partial, filter="tar")
            os.replace(partial, entry)
        except (OSError, tarfile.TarError) as error:
            raise ArtifactError(f"could not unpack {source.name}: {error}") from None
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _evict(self, keep: Path) -> None:
        entries = [path for path in self.root.iterdir() if path.is_dir() and not path.name.startswith(".")]
        if len(entries) <= KEEP_ENTRIES:
            return
        entries.sort(key=lambda path: path.stat().st_mtime)
        now = time.time()
        for path in entries[:len(entries) - KEEP_ENTRIES]:
            if path != keep and now - path.stat().st_mtime > EVICT_AFTER_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
