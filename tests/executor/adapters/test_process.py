"""The process adapter against real bubblewrap sandboxes over the Debian roots."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from executor.adapters.base import CommandTimeout, Launch
from executor.adapters.process import ADDRESS_SPACE_HEADROOM_MB, ProcessAdapter
from executor.errors import ExecutorError
from tests.conftest import free_port

IMAGE = "openruntimes/python:v3-3.11"


@pytest.fixture
def adapter(tmp_path):
    low = free_port()
    adapter = ProcessAdapter(hostname="unit", work_dir=tmp_path / "work", port_range=(low, low + 50))
    yield adapter
    adapter.remove_orphans("unit")
    assert list((tmp_path / "work").iterdir()) == []


def launch(name="unit-a", command=None, memory=256, env=None):
    return Launch(name=name, runtime_id=name.split("-", 1)[1], image=IMAGE, command=command,
                  env=env or {"OPEN_RUNTIMES_SECRET": "x"}, memory_mb=memory,
                  labels={"openruntimes-executor": "unit"})


def run(adapter, instance, command, timeout=30.0):
    output = bytearray()
    code = adapter.run(instance, command, timeout, output.extend)
    return code, output.decode()


def test_sandbox_layout_environment_and_limits(adapter):
    os.environ["EXECUTOR_ONLY_SECRET"] = "must-not-leak"
    try:
        instance = adapter.start(launch(env={"OPEN_RUNTIMES_SECRET": "x", "USER_VAR": "1"}))
    finally:
        del os.environ["EXECUTOR_ONLY_SECRET"]
    try:
        code, output = run(adapter, instance, "pwd; env | sort; grep 'Max address space' /proc/self/limits")
        assert code == 0, output
        assert output.startswith("/usr/local/server\n")
        assert "USER_VAR=1" in output and f"OPEN_RUNTIMES_PORT={instance.port}" in output
        assert "OPEN_RUNTIMES_HOST=127.0.0.1" in output
        assert "EXECUTOR_ONLY_SECRET" not in output and "OPR_EXECUTOR" not in output
        limit = (256 + ADDRESS_SPACE_HEADROOM_MB) * 1024 * 1024
        assert f"Max address space         {limit}" in output
        code, output = run(adapter, instance, "touch /usr/local/server/x 2>&1; touch /mnt/code/ok /mnt/logs/ok "
                                              "/usr/local/build/ok /usr/local/server/src/function/ok /tmp/ok; ls /mnt/code")
        assert "Read-only file system" in output and output.strip().endswith("ok")
        assert (instance.code_dir / "ok").exists()
        code, _ = run(adapter, instance, f"ls {adapter.work_dir}")
        assert code != 0  # the host's runtime directories are not visible inside
    finally:
        adapter.remove(instance)
    assert not (adapter.work_dir / "unit-a").exists()


def test_command_timeout_kills_the_whole_group(adapter):
    instance = adapter.start(launch())
    try:
        started = time.monotonic()
        with pytest.raises(CommandTimeout):
            run(adapter, instance, "sleep 60 & sleep 60; echo never", timeout=1)
        assert time.monotonic() - started < 30
        assert instance.handle.commands == set()
    finally:
        adapter.remove(instance)


def test_server_exit_and_removal(adapter):
    instance = adapter.start(launch(command="echo starting; sleep 60"))
    assert adapter.exited(instance) is None
    server = instance.handle.server
    adapter.remove(instance)
    assert server.poll() is not None
    dead = adapter.start(launch(name="unit-b", command="echo bye; exit 5"))
    try:
        deadline = time.monotonic() + 10
        while adapter.exited(dead) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        exit = adapter.exited(dead)
        assert exit.code == 5 and "bye" in exit.output_tail
    finally:
        adapter.remove(dead)


def test_prune_lists_before_it_asks_for_the_names_in_use(adapter):
    """A runtime is registered before its directory exists, so asking for the names in use
    after the listing means a cold start racing maintenance is never taken for a leftover.
    Here the runtime appears during the lookup, unnamed: it must still be left alone."""
    started = []

    def in_use():
        started.append(adapter.start(launch(name="unit-late", command="sleep 60")))
        return set()

    try:
        assert adapter.prune("unit", in_use) == 0
        assert (adapter.work_dir / "unit-late" / "tmp").is_dir()
        assert adapter.exited(started[0]) is None
    finally:
        for instance in started:
            adapter.remove(instance)


def test_unknown_image_is_refused(adapter):
    with pytest.raises(ExecutorError) as error:
        adapter.start(Launch(name="unit-c", runtime_id="c", image="someone/else:1", command=None, env={}))
    assert error.value.status == 400


def test_prune_keeps_named_runtimes(adapter):
    kept = adapter.start(launch(name="unit-keep"))
    dropped = adapter.start(launch(name="unit-drop", command="sleep 60"))
    try:
        assert adapter.prune("unit", lambda: {"unit-keep"}) == 1
        assert (adapter.work_dir / "unit-keep").exists() and not (adapter.work_dir / "unit-drop").exists()
        deadline = time.monotonic() + 10
        while dropped.handle.server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert dropped.handle.server.poll() is not None
        assert adapter.prune("someone-else", set) == 0
    finally:
        adapter.remove(kept)
        adapter.remove(dropped)


def test_unsandboxed_fallback_runs_the_same_commands(tmp_path):
    """Without bubblewrap: plain processes, path variables, sandbox paths rewritten."""
    import http.client
    import tarfile

    from tests.conftest import wait_for_port

    low = free_port()
    adapter = ProcessAdapter(hostname="unit", work_dir=tmp_path / "work", port_range=(low, low + 50))
    adapter.bwrap = None
    source = tmp_path / "source.tar.gz"
    with tarfile.open(source, "w:gz") as archive:
        archive.add(Path(__file__).resolve().parents[1] / "functions" / "python", arcname=".")
    env = {"OPEN_RUNTIMES_ENTRYPOINT": "main.py", "OPEN_RUNTIMES_SECRET": "s"}
    build = adapter.start(Launch(name="unit-build", runtime_id="build", image=IMAGE, command=None,
                                 env=env, source=source))
    server = None
    try:
        output = bytearray()
        code = adapter.run(build, 'tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh "true"',
                           120, output.extend)
        assert code == 0, output.decode()
        artifact = tmp_path / "artifact.tar.gz"
        artifact.write_bytes((build.code_dir / "code.tar.gz").read_bytes())
        server = adapter.start(Launch(
            name="unit-serve", runtime_id="serve", image=IMAGE, env=env, source=artifact,
            command='cp /tmp/code.tar.gz /mnt/code/code.tar.gz && nohup helpers/start.sh "python3 src/server.py"'))
        wait_for_port(server.port, timeout=30, process=server.handle.server)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/", headers={"x-open-runtimes-secret": "s"})
        assert connection.getresponse().read() == b"Hello from python"
        connection.close()
    finally:
        adapter.remove(build)
        if server is not None:
            adapter.remove(server)
    assert list((tmp_path / "work").iterdir()) == []


def test_log_files_live_on_the_logs_folder_and_go_with_the_runtime(tmp_path):
    """With a logs root (a tmpfs by default), /mnt/logs of a runtime is a folder there: what the
    runtime writes is read at that host path, and removal, pruning and close leave nothing."""
    low = free_port()
    logs_root = tmp_path / "shm" / "opr-executor-logs"
    adapter = ProcessAdapter(hostname="unit", work_dir=tmp_path / "work", port_range=(low, low + 50),
                             logs_root=logs_root)
    instance = adapter.start(launch(name="unit-logs"))
    orphan = adapter.start(launch(name="unit-orphan"))
    try:
        assert run(adapter, instance, "echo written > /mnt/logs/probe_logs.log") == (0, "")
        assert os.path.realpath(instance.logs_dir) == str(logs_root / "unit" / "unit-logs")
        assert (instance.logs_dir / "probe_logs.log").read_text() == "written\n"
    finally:
        adapter.remove(instance)
    assert not (logs_root / "unit" / "unit-logs").exists()
    assert adapter.remove_orphans("unit") == 1
    assert list((logs_root / "unit").iterdir()) == [] and list((tmp_path / "work").iterdir()) == []
    adapter.close()
    assert not logs_root.exists()
