"""Local storage of sources and build artifacts, confined to the storage roots (spec 4.6).

Every path is resolved (symlinks followed, ``..`` collapsed) before the confinement check,
so neither ``../`` nor a symlink pointing outside lets a caller read or write elsewhere.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from executor.errors import ExecutorError, invalid


class Storage:
    """Reads sources from and writes artifacts to directories under ``roots``."""

    def __init__(self, root: Path, roots: tuple[Path, ...]):
        self.root = Path(root)
        self.roots = tuple(Path(os.path.realpath(r)) for r in roots)

    def resolve(self, param: str, path: str) -> Path:
        """``path`` (absolute, or relative to the storage root) resolved inside the roots."""
        if "\x00" in path:
            raise invalid(f"Invalid {param}: must be a path inside the storage roots")
        candidate = Path(path) if os.path.isabs(path) else self.root / path
        resolved = Path(os.path.realpath(candidate))
        if not any(resolved == root or root in resolved.parents for root in self.roots):
            raise invalid(f"Invalid {param}: must be a path inside the storage roots")
        return resolved

    def source(self, path: str) -> Path:
        """The existing source archive at ``path``; 500 naming it when it does not exist."""
        resolved = self.resolve("source", path)
        if not resolved.is_file():
            raise ExecutorError("general_unknown", f"Source file not found: {path}", 500)
        return resolved

    def store(self, artifact: Path, destination: str) -> tuple[str, int]:
        """Copy ``artifact`` to ``<destination>/<unique id>.tar.gz``; return its path and size."""
        directory = self.resolve("destination", destination)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{uuid.uuid4().hex}.tar.gz"
        partial = directory / f".{target.name}.partial"
        try:
            shutil.copyfile(artifact, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return str(target), target.stat().st_size
