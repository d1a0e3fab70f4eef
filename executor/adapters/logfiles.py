"""Runtime log-file folders (``/mnt/logs``) on a tmpfs, for both adapters.

Log files are written by the runtime and read and deleted by the executor at every execution:
on a tmpfs that costs about 0.1 ms a call instead of 1-3 ms of file creations, renames and
unlinks on a disk (see executor/README.md, ``OPR_EXECUTOR_LOGS_DIR``). A runtime directory's
``logs`` entry is then a symlink to ``<logs root>/<runtime name>``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def make(base: Path, logs_root: Path | None) -> Path:
    """Create ``base/logs`` (a folder, or a link to a fresh folder under ``logs_root``); return
    the real folder."""
    link = base / "logs"
    if logs_root is None:
        link.mkdir(parents=True, exist_ok=True)
        return link
    target = logs_root / base.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    link.symlink_to(target, target_is_directory=True)
    return target


def remove(base: Path) -> None:
    """Delete the tmpfs folder ``base/logs`` links to, if it does (``base`` itself is the
    caller's)."""
    link = base / "logs"
    if link.is_symlink():
        shutil.rmtree(os.path.realpath(link), ignore_errors=True)


def orphans(logs_root: Path | None) -> list[Path]:
    """The folders under ``logs_root``, to be checked by :func:`prune` after ``in_use()``."""
    if logs_root is None or not logs_root.exists():
        return []
    return list(logs_root.iterdir())


def prune(folders: list[Path], work_dir: Path, keep: set[str]) -> None:
    """Delete the folders of ``folders`` whose runtime is not kept and has no directory."""
    for folder in folders:
        if folder.name not in keep and not (work_dir / folder.name).exists():
            shutil.rmtree(folder, ignore_errors=True)


def close(logs_root: Path | None) -> None:
    """At shutdown: remove this executor's (empty) logs root, and its parent when empty."""
    if logs_root is not None:
        for folder in (logs_root, logs_root.parent):
            try:
                folder.rmdir()
            except OSError:
                break  # missing, or still used by another executor
