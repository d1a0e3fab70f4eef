"""Build artifacts unpacked once on the host, then put into the function dirs of pool runtimes.

An entry is keyed by the artifact's resolved path, size and modification time, so a rebuilt
artifact (same path, new content) gets a new entry::

    <root>/<key>/tree/          the artifact, unpacked once
    <root>/<key>/spare-<id>/    a private copy of the tree, made in the background

A pool hit moves the top-level items of a spare into the function dir (renames on one file
system: no copy, no process started on the hot path), then a new spare is made in the
background. Without a spare (first hit of a build, or another file system) the tree is copied.
Copies, never hard links: a function may write into its function dir, and a shared inode would
leak that write into the cache and into every other runtime of the same build.
"""
from __future__ import annotations

import errno
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
SPARE = "spare-"
# The spare copy starts a moment after a hit: starting a process forks the executor, which
# would otherwise delay the hit's specialization and first call on a busy event loop.
SPARE_DELAY_SECONDS = 0.25


class ArtifactError(Exception):
    """The artifact could not be unpacked or copied."""


class ArtifactCache:
    """Unpacked artifacts under ``root``, one directory per artifact version."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._entry_locks: dict[str, threading.Lock] = {}
        self._closed = False

    def entry(self, source: Path) -> Path:
        """The entry of ``source``; unpacks it on first use only."""
        stat = source.stat()
        key = hashlib.sha256(f"{os.path.realpath(source)}\0{stat.st_size}\0{stat.st_mtime_ns}"
                             .encode("utf-8", "surrogateescape")).hexdigest()[:32]
        entry = self.root / key
        with self._lock:
            lock = self._entry_locks.setdefault(key, threading.Lock())
        with lock:  # concurrent cold starts of one build unpack it once
            if not (entry / "tree").is_dir():
                self._unpack(source, entry)
                self._evict(keep=entry)
        os.utime(entry)  # its last use, for eviction
        return entry

    def fill(self, source: Path, function_dir: Path) -> None:
        """Put the unpacked ``source`` into the (empty) ``function_dir``."""
        entry = self.entry(source)
        spare = self._claim_spare(entry)
        try:
            if spare is None or not _move_items(spare, function_dir):
                _copy(entry / "tree", function_dir)
        finally:
            if spare is not None:
                shutil.rmtree(spare, ignore_errors=True)
        threading.Thread(target=self._make_spare, args=(entry,), name="artifact spare", daemon=True).start()

    def clear(self) -> None:
        """Delete every entry (shutdown)."""
        self._closed = True
        shutil.rmtree(self.root, ignore_errors=True)

    def _claim_spare(self, entry: Path) -> Path | None:
        """Take a spare copy of ``entry`` for the caller alone (renamed away atomically)."""
        try:
            spares = [path for path in entry.iterdir() if path.name.startswith(SPARE)]
        except OSError:
            return None
        for spare in spares:
            claimed = entry / f"claimed-{uuid.uuid4().hex[:8]}"
            try:
                os.rename(spare, claimed)
            except OSError:
                continue  # taken by a concurrent hit
            return claimed
        return None

    def _make_spare(self, entry: Path) -> None:
        time.sleep(SPARE_DELAY_SECONDS)
        partial = entry / f"partial-{uuid.uuid4().hex[:8]}"
        try:
            if self._closed:
                return
            if any(path.name.startswith(SPARE) for path in entry.iterdir()):
                return
            partial.mkdir()
            _copy(entry / "tree", partial)
            if not self._closed:
                os.rename(partial, entry / f"{SPARE}{uuid.uuid4().hex[:8]}")
        except (OSError, ArtifactError) as error:
            log.info("no spare copy of %s: %s", entry.name, error)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _unpack(self, source: Path, entry: Path) -> None:
        partial = self.root / f".{entry.name}.{uuid.uuid4().hex[:8]}.partial"
        (partial / "tree").mkdir(parents=True)
        try:
            with tarfile.open(source, "r:gz") as archive:
                # "tar": no absolute paths, nothing outside the entry, no setuid bits; symlinks
                # to absolute targets stay allowed (a venv's bin/python is one).
                archive.extractall(partial / "tree", filter="tar")
            shutil.rmtree(entry, ignore_errors=True)
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


def _copy(tree: Path, target: Path) -> None:
    # cp keeps modes and symlinks (venvs link to the interpreter) and reflinks where it can.
    done = subprocess.run(["cp", "-a", "--reflink=auto", f"{tree}/.", f"{target}/"],
                          stdin=subprocess.DEVNULL, capture_output=True)
    if done.returncode != 0:
        raise ArtifactError(done.stderr.decode("utf-8", "replace").strip()[:500])


def _move_items(spare: Path, target: Path) -> bool:
    """Rename the top-level items of ``spare`` into ``target``; False when they are on different
    file systems (nothing moved then)."""
    for item in os.listdir(spare):
        try:
            os.rename(spare / item, target / item)
        except OSError as error:
            if error.errno == errno.EXDEV and not os.listdir(target):
                return False
            raise ArtifactError(f"could not move {item}: {error}") from None
    return True
