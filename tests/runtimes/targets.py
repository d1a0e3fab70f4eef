"""What the suite runs against: runtimes of the catalog x modes x entrypoint variants."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from executor import catalog
from executor.catalog import RuntimeSpec

REPO_ROOT = catalog.REPO_ROOT
FUNCTIONS_DIR = REPO_ROOT / "tests" / "resources" / "functions"
MODES = ("process", "docker")

# Every entrypoint variant runs the whole suite (spec 9.1).
VARIANTS = {
    "node": ("tests.js", "tests.mjs"),
    "python": ("tests.py", "tests_sync.py"),
    "php": ("tests.php",),
}

# Native unsupported-logs message per language (spec 4.2).
UNSUPPORTED_LOGS = {
    "node": "Unsupported logs detected. Use context.log() or context.error() for logging.",
    "python": "Unsupported logs detected. Use context.log() or context.error() for logging.",
    "php": "Unsupported logs detected. Use $context->log() or $context->error() for logging.",
}


@dataclass(frozen=True)
class Target:
    """One runtime in one mode, with the entrypoint its test function is built for."""

    spec: RuntimeSpec
    mode: str
    entrypoint: str

    @property
    def language(self) -> str:
        return self.spec.language

    @property
    def source_dir(self) -> Path:
        """The test function's source folder of this language."""
        return FUNCTIONS_DIR / self.spec.language

    @property
    def server_dir(self) -> Path:
        return self.spec.server_dir()

    @property
    def missing_entrypoint(self) -> str:
        """An entrypoint name with the right extension that no test function has."""
        return "doesNotExist" + Path(self.entrypoint).suffix

    def id(self, with_entrypoint: bool = True) -> str:
        parts = [self.spec.name, self.mode] + ([self.entrypoint] if with_entrypoint else [])
        return "-".join(parts)


def selected_runtimes() -> list[RuntimeSpec]:
    """The catalog's runtimes, or only the one named by env ``RUNTIME``."""
    runtimes = catalog.load()
    name = os.environ.get("RUNTIME", "").strip()
    if not name:
        return list(runtimes.values())
    if name not in runtimes:
        raise ValueError(f"RUNTIME={name!r} is not in runtimes/runtimes.tsv (one of: {', '.join(runtimes)})")
    return [runtimes[name]]


def all_targets() -> list[Target]:
    """Every (runtime, mode, entrypoint variant) of the selection."""
    return [
        Target(spec, mode, entrypoint)
        for spec in selected_runtimes()
        for mode in MODES
        for entrypoint in VARIANTS[spec.language]
    ]


def runtime_modes() -> list[Target]:
    """One target per (runtime, mode), with the language's first variant: for checks that
    do not depend on the entrypoint and start servers of their own."""
    return [
        Target(spec, mode, VARIANTS[spec.language][0])
        for spec in selected_runtimes()
        for mode in MODES
    ]
