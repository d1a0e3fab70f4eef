"""The host cache of unpacked artifacts behind pool hits."""
from __future__ import annotations

import io
import os
import tarfile
import time

import pytest

from executor import artifacts
from executor.artifacts import ArtifactCache, ArtifactError


def make_artifact(path, files: dict[str, bytes], links: dict[str, str] | None = None):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return path


def wait_spare(entry, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not any(p.name.startswith(artifacts.SPARE) for p in entry.iterdir()):
        assert time.monotonic() < deadline, "no spare copy was made"
        time.sleep(0.02)


def test_unpacked_once_and_copies_are_private(tmp_path):
    source = make_artifact(tmp_path / "code.tar.gz", {"main.py": b"v1", ".open-runtimes": b"X=1\n"},
                           links={"runtime-env/bin/python": "/usr/bin/python3"})
    cache = ArtifactCache(tmp_path / "cache")
    first, second = tmp_path / "f1", tmp_path / "f2"
    first.mkdir(), second.mkdir()
    cache.fill(source, first)
    entry = cache.entry(source)
    wait_spare(entry)
    unpacked_at = (entry / "tree").stat().st_mtime_ns
    (first / "main.py").write_bytes(b"changed by the function")  # must not leak anywhere
    cache.fill(source, second)
    assert (entry / "tree").stat().st_mtime_ns == unpacked_at  # not unpacked again
    assert (second / "main.py").read_bytes() == b"v1"
    assert (entry / "tree" / "main.py").read_bytes() == b"v1"
    assert (second / ".open-runtimes").read_bytes() == b"X=1\n"
    assert os.readlink(second / "runtime-env/bin/python") == "/usr/bin/python3"
    assert (second / "main.py").stat().st_ino != (entry / "tree" / "main.py").stat().st_ino
    cache.clear()
    assert not (tmp_path / "cache").exists()


def test_a_rebuilt_artifact_gets_a_new_entry(tmp_path):
    source = make_artifact(tmp_path / "code.tar.gz", {"main.py": b"v1"})
    cache = ArtifactCache(tmp_path / "cache")
    old = cache.entry(source)
    make_artifact(source, {"main.py": b"version 2"})
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))
    target = tmp_path / "f"
    target.mkdir()
    cache.fill(source, target)
    assert cache.entry(source) != old
    assert (target / "main.py").read_bytes() == b"version 2"


def test_members_escaping_the_entry_are_refused(tmp_path):
    source = make_artifact(tmp_path / "evil.tar.gz", {"../escaped": b"x"})
    target = tmp_path / "f"
    target.mkdir()
    with pytest.raises(ArtifactError, match="could not unpack"):
        ArtifactCache(tmp_path / "cache").fill(source, target)
    assert not (tmp_path / "escaped").exists()
