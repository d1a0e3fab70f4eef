"""The runtimes offered, read from ``runtimes/runtimes.tsv`` (runtimes spec 7.1).

The table exists once; the Makefile, the test harness and the executor all read it.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNTIMES_DIR = REPO_ROOT / "runtimes"
TABLE = RUNTIMES_DIR / "runtimes.tsv"


@dataclass(frozen=True)
class RuntimeSpec:
    """One row of the table: a language version and how to build and start it."""

    name: str            # node-18.0
    language: str        # node
    version: str         # 18.0
    image: str           # openruntimes/node:v3-18.0
    base_image: str      # debian:bookworm-slim
    suite: str           # bookworm: the Debian release that ships this version
    entrypoint: str      # index.js
    build_command: str
    start_command: str

    def server_dir(self, runtimes_dir: Path = RUNTIMES_DIR) -> Path:
        """The runtime folder (server + helpers) of this language in the project."""
        return Path(runtimes_dir) / self.language


@lru_cache(maxsize=None)
def load(path: str | os.PathLike = TABLE) -> dict[str, RuntimeSpec]:
    """Parse the table into ``{name: RuntimeSpec}``, in file order."""
    with open(path, newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return {row["name"]: RuntimeSpec(**row) for row in reader}


def by_image(image: str, path: str | os.PathLike = TABLE) -> RuntimeSpec | None:
    """The runtime whose image tag is ``image`` (``openruntimes/<lang>:v3-<version>``), if any."""
    for spec in load(path).values():
        if spec.image == image:
            return spec
    return None
