"""The docker adapter against the real Docker engine.

Most tests use the plain Debian base image (bash and coreutils, no language); the last ones run
a real runtime image end to end (build through exec, start from the artifact, HTTP call).
"""
from __future__ import annotations

import hashlib
import http.client
import io
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import pytest

from executor.adapters.base import CommandTimeout, Launch
from executor.adapters.docker import LABEL_EXECUTOR, LABEL_RUNTIME_ID, DockerAdapter
from executor.errors import ExecutorError
from tests.conftest import wait_for_port

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[3]
BASE_IMAGE = "debian:bookworm-slim"


@pytest.fixture(scope="module")
def engine(docker_engine):
    client = docker.from_env()
    subprocess.run([str(ROOT / "scripts/debian.sh"), "image", "bookworm"], check=True)
    yield client
    client.close()


def _mine(engine, hostname):
    return engine.containers.list(all=True, filters={"label": f"{LABEL_EXECUTOR}={hostname}"})


@pytest.fixture
def adapter(engine, tmp_path):
    """An adapter on the host network with its own executor hostname; nothing is left after."""
    hostname = f"opr-adaptertest-{secrets.token_hex(4)}"
    adapter = DockerAdapter(hostname=hostname, work_dir=tmp_path / "work", networks=("host",),
                            port_range=(31000, 31999))
    yield adapter
    adapter.remove_orphans(hostname)
    adapter.close()
    assert _mine(engine, hostname) == []
    assert list((tmp_path / "work").glob("*")) == []


def launch(adapter, runtime_id, command=None, image=BASE_IMAGE, **fields) -> Launch:
    return Launch(name=f"{adapter.hostname}-{runtime_id}", runtime_id=runtime_id, image=image,
                  command=command, env=fields.pop("env", {"OPEN_RUNTIMES_SECRET": "s3cret"}),
                  **fields)


def run(adapter, instance, command, timeout=30.0, shell="bash"):
    chunks: list[bytes] = []
    code = adapter.run(instance, command, timeout, chunks.append, shell=shell)
    return code, b"".join(chunks).decode()


def wait_exited(adapter, instance, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        exit = adapter.exited(instance)
        if exit is not None:
            return exit
        time.sleep(0.05)
    raise AssertionError(f"{instance.name} still runs after {seconds} s")


# -- run ---------------------------------------------------------------------------------------

def test_run_interleaves_stdout_and_stderr_in_order_and_returns_the_exit_code(adapter):
    instance = adapter.start(launch(adapter, "order"))
    script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 7"
    code, output = run(adapter, instance, script)
    assert code == 7
    assert output == "".join(f"out{i}\nerr{i}\n" for i in range(1, 6))
    assert run(adapter, instance, "true") == (0, "")


def test_run_streams_output_while_the_command_runs(adapter):
    # The command only finishes once the sink has seen its first line: without streaming it
    # would block until its timeout.
    instance = adapter.start(launch(adapter, "stream"))
    seen: list[bytes] = []

    def sink(chunk: bytes) -> None:
        seen.append(chunk)
        if b"first" in chunk:
            assert run(adapter, instance, "touch /tmp/go")[0] == 0

    script = "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second"
    assert adapter.run(instance, script, 30, sink) == 0
    assert b"".join(seen) == b"first\nsecond\n"


def test_run_uses_the_requested_shell_in_the_server_dir(adapter):
    instance = adapter.start(launch(adapter, "shell"))
    assert run(adapter, instance, 'echo "$0 $(pwd)"', shell="sh") == (0, "sh /usr/local/server\n")
    assert run(adapter, instance, 'echo "$0 ${BASH_VERSION:+bash}"') == (0, "bash bash\n")


def test_run_timeout_kills_the_whole_command_and_raises(adapter):
    instance = adapter.start(launch(adapter, "timeout"))
    seen: list[bytes] = []
    with pytest.raises(CommandTimeout):
        adapter.run(instance, "echo started; sleep 97 & sleep 98; echo never", 1, seen.append)
    assert b"".join(seen) == b"started\n"
    processes = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done"
    code, listing = run(adapter, instance, processes)
    assert code == 0
    assert "sleep 97" not in listing and "sleep 98" not in listing
    assert "sleep infinity" in listing  # the runtime itself survives
    assert run(adapter, instance, "echo still usable") == (0, "still usable\n")


# -- start: layout, environment, labels, limits ------------------------------------------------

def test_source_is_copied_and_the_artifact_is_collected_from_code_dir(adapter, tmp_path):
    source = tmp_path / "code.tar.gz"
    with tarfile.open(source, "w:gz") as archive:
        data = b"print('hello')\n"
        member = tarfile.TarInfo("main.py")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    instance = adapter.start(launch(adapter, "layout", source=source))
    code, output = run(adapter, instance, "sha256sum /tmp/code.tar.gz | cut -d' ' -f1")
    assert (code, output.strip()) == (0, hashlib.sha256(source.read_bytes()).hexdigest())
    build = ("tar -zxf /tmp/code.tar.gz -C /mnt/code && cd /mnt/code && "
             "tar -czf /tmp/out.tar.gz main.py && mv /tmp/out.tar.gz /mnt/code/code.tar.gz && "
             "mkdir -p /mnt/code/deep/er && chmod 700 /mnt/code/deep && echo log > /mnt/logs/x_logs.log")
    assert run(adapter, instance, build) == (0, "")
    with tarfile.open(instance.code_dir / "code.tar.gz") as artifact:
        assert artifact.getnames() == ["main.py"]
    assert (instance.logs_dir / "x_logs.log").read_text() == "log\n"
    directory = instance.code_dir.parent
    adapter.remove(instance)
    assert not directory.exists()


def test_environment_is_exactly_the_launch_env(adapter, monkeypatch):
    monkeypatch.setenv("OPR_EXECUTOR_SECRET", "executor-canary-secret")
    env = {"OPEN_RUNTIMES_SECRET": "runtime-secret", "USER_VAR": "2.5", "CI": "true"}
    instance = adapter.start(launch(adapter, "env", command="sleep infinity", env=env))
    code, output = run(adapter, instance, "env")
    assert code == 0
    seen = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    assert "executor-canary-secret" not in output
    for name, value in env.items():
        assert seen[name] == value
    assert seen["OPEN_RUNTIMES_PORT"] == str(instance.port)
    assert seen["OPEN_RUNTIMES_HOST"] == "127.0.0.1"
    # Only what Docker and the shell add themselves besides the launch's variables; no CA
    # variables for a runtime that serves (they are for build-only runtimes).
    added = set(seen) - set(env) - {"OPEN_RUNTIMES_PORT", "OPEN_RUNTIMES_HOST"}
    assert added <= {"PATH", "HOSTNAME", "HOME", "PWD", "SHLVL", "_"}


def test_build_only_runtime_trusts_the_host_ca_bundle(adapter):
    instance = adapter.start(launch(adapter, "ca"))
    code, output = run(adapter, instance, 'echo "$PIP_CERT $NODE_EXTRA_CA_CERTS"; cmp -s "$PIP_CERT" '
                                          '/etc/ssl/certs/ca-certificates.crt && echo same')
    assert code == 0
    assert output == ("/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nsame\n")
    with open("/etc/ssl/certs/ca-certificates.crt", "rb") as host_bundle:
        digest = hashlib.sha256(host_bundle.read()).hexdigest()
    code, output = run(adapter, instance, "sha256sum /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1")
    assert output.strip() == digest


def test_container_name_labels_limits_and_no_privileges(adapter, engine):
    spec = launch(adapter, "limits", cpus=1.5, memory_mb=256, labels={"team": "a"})
    instance = adapter.start(spec)
    container = engine.containers.get(spec.name)
    assert container.name == f"{adapter.hostname}-limits"
    assert container.labels == {"team": "a", LABEL_EXECUTOR: adapter.hostname,
                                LABEL_RUNTIME_ID: "limits"}
    host_config = container.attrs["HostConfig"]
    assert host_config["NanoCpus"] == 1_500_000_000
    assert host_config["Memory"] == 256 * 1024 * 1024
    assert host_config["Privileged"] is False
    assert host_config["NetworkMode"] == "host"
    assert not any("docker.sock" in bind for bind in host_config["Binds"])
    assert container.attrs["Config"]["WorkingDir"] == "/usr/local/server"
    assert instance.host == "127.0.0.1" and 31000 <= instance.port <= 31999


def test_runtimes_on_the_host_network_get_distinct_ports(adapter):
    first = adapter.start(launch(adapter, "p1"))
    second = adapter.start(launch(adapter, "p2"))
    assert first.port != second.port
    port = first.port
    adapter.remove(first)
    third = adapter.start(launch(adapter, "p3"))  # a freed port may be reused later, never twice
    assert third.port != second.port
    assert port != second.port


def test_start_with_an_unknown_image_is_a_clear_error_and_leaves_nothing(adapter, tmp_path):
    with pytest.raises(ExecutorError) as raised:
        adapter.start(launch(adapter, "noimage", image="openruntimes/none:v3-0.0"))
    assert raised.value.type == "general_argument_invalid"
    assert raised.value.message.startswith("Invalid image: openruntimes/none:v3-0.0 ")
    assert list((tmp_path / "work").glob("*")) == []
    with pytest.raises(FileNotFoundError):
        adapter.start(launch(adapter, "nosource", source=tmp_path / "missing.tar.gz"))
    assert list((tmp_path / "work").glob("*")) == []


# -- exited, remove, orphans -------------------------------------------------------------------

def test_exited_reports_the_exit_code_and_the_last_output(adapter):
    instance = adapter.start(launch(adapter, "dies", command="echo starting; echo boom >&2; exit 3"))
    exit = wait_exited(adapter, instance)
    assert exit.code == 3
    assert "starting" in exit.output_tail and "boom" in exit.output_tail

    idle = adapter.start(launch(adapter, "idle"))
    assert adapter.exited(idle) is None


def test_remove_is_idempotent_and_deletes_container_and_files(adapter, engine):
    instance = adapter.start(launch(adapter, "gone", command="sleep infinity"))
    assert run(adapter, instance, "mkdir -p /mnt/code/a/b && touch /mnt/code/a/b/f && chmod -R 500 /mnt/code/a")[0] == 0
    adapter.remove(instance)
    adapter.remove(instance)
    with pytest.raises(docker.errors.NotFound):
        engine.containers.get(instance.name)
    assert not instance.code_dir.parent.exists()
    assert adapter.exited(instance).code is None


def test_root_owned_files_are_removed_through_a_container(adapter, tmp_path):
    # As root the executor deletes them itself; this is the path a non-root executor takes.
    directory = tmp_path / "rootfiles"
    directory.mkdir()
    (directory / "sub").mkdir()
    (directory / "sub" / "file").write_text("x")
    (directory / ".hidden").write_text("x")
    adapter._remove_as_root(directory, BASE_IMAGE)
    assert list(directory.iterdir()) == []


NON_ROOT_SCRIPT = """
import os, sys
from pathlib import Path
from executor.adapters.base import Launch
from executor.adapters.docker import DockerAdapter
work, hostname = Path(sys.argv[1]), sys.argv[2]
adapter = DockerAdapter(hostname=hostname, work_dir=work, port_range=(34000, 34999))
instance = adapter.start(Launch(name=hostname + "-nr", runtime_id="nr", image=sys.argv[3],
                                command=None, env={}))
script = "mkdir -p /mnt/code/a/b && touch /mnt/code/a/b/f && chmod 755 /mnt/code/a && echo x > /mnt/logs/l"
assert adapter.run(instance, script, 30, lambda chunk: None) == 0
assert not os.access(instance.code_dir / "a", os.W_OK)  # this user cannot delete it by itself
adapter.remove(instance)
assert list(work.iterdir()) == [], list(work.iterdir())
print("removed")
"""


def test_a_non_root_executor_removes_files_the_container_wrote_as_root(engine, tmp_path):
    if os.getuid() != 0:
        pytest.skip("already non-root: the other removal tests cover it")
    docker_gid = os.stat("/var/run/docker.sock").st_gid
    work = Path(tempfile.mkdtemp(prefix="opr-nonroot-"))
    hostname = f"opr-adaptertest-{secrets.token_hex(4)}"
    try:
        os.chmod(work, 0o755)
        os.chown(work, 65534, 65534)
        result = subprocess.run(
            ["setpriv", "--reuid", "65534", "--regid", "65534", "--groups", str(docker_gid),
             str(ROOT / ".venv/bin/python"), "-c", NON_ROOT_SCRIPT, str(work), hostname, BASE_IMAGE],
            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "removed\n"
    finally:
        shutil.rmtree(work, ignore_errors=True)
        assert _mine(engine, hostname) == []


def test_remove_orphans_removes_only_this_executors_runtimes(adapter, engine, tmp_path):
    crashed = DockerAdapter(hostname=adapter.hostname, work_dir=adapter.work_dir, networks=("host",),
                            port_range=(32000, 32999))
    other = DockerAdapter(hostname=adapter.hostname + "-x", work_dir=adapter.work_dir,
                          networks=("host",), port_range=(32000, 32999))
    try:
        crashed.start(launch(crashed, "o1", command="sleep infinity"))
        crashed.start(launch(crashed, "o2"))
        survivor = other.start(launch(other, "keep"))
        assert adapter.remove_orphans(adapter.hostname) == 2
        assert _mine(engine, adapter.hostname) == []
        assert [p.name for p in adapter.work_dir.iterdir()] == [survivor.name]
        assert adapter.exited(survivor) is None
        assert adapter.remove_orphans(adapter.hostname) == 0
    finally:
        other.remove_orphans(other.hostname)
        crashed.close()
        other.close()


def test_a_stale_container_of_the_same_name_is_replaced(adapter, engine):
    spec = launch(adapter, "stale", command="sleep infinity")
    old = adapter.start(spec)
    new = DockerAdapter(hostname=adapter.hostname, work_dir=adapter.work_dir, networks=("host",),
                        port_range=(33000, 33999))
    try:
        instance = new.start(spec)
        assert instance.handle.id != old.handle.id
        assert [c.id for c in _mine(engine, adapter.hostname)] == [instance.handle.id]
    finally:
        new.remove_orphans(adapter.hostname)
        new.close()


def test_log_files_on_a_tmpfs_logs_root(engine, tmp_path):
    """With a logs root, /mnt/logs is a folder there (same path for executor and Docker), made
    per runtime and deleted with it, pruned when orphaned, and the root is dropped at close."""
    hostname = f"opr-adaptertest-{secrets.token_hex(4)}"
    logs_root = tmp_path / "shm"
    adapter = DockerAdapter(hostname=hostname, work_dir=tmp_path / "work", networks=("host",),
                            port_range=(31000, 31999), logs_root=logs_root)
    try:
        instance = adapter.start(launch(adapter, "logs"))
        assert instance.logs_dir == logs_root / hostname / instance.name
        assert run(adapter, instance, "echo hi > /mnt/logs/call_logs.log") == (0, "")
        assert (instance.logs_dir / "call_logs.log").read_text() == "hi\n"
        adapter.remove(instance)
        assert not instance.logs_dir.exists()
        stray = logs_root / hostname / f"{hostname}-gone"
        stray.mkdir()
        adapter.prune(hostname, set)
        assert not stray.exists()
    finally:
        adapter.remove_orphans(hostname)
        adapter.close()
    assert _mine(engine, hostname) == [] and not (logs_root / hostname).exists()


def test_prune_removes_what_belongs_to_no_runtime(adapter, engine):
    kept = adapter.start(launch(adapter, "kept"))
    dropped = adapter.start(launch(adapter, "dropped"))
    stray = adapter.work_dir / f"{adapter.hostname}-stray"
    stray.mkdir()
    (stray / ".executor").write_text(f"{adapter.hostname}\n{BASE_IMAGE}\n")
    foreign = adapter.work_dir / "someone-else"
    foreign.mkdir()
    assert adapter.prune(adapter.hostname, lambda: {kept.name}) == 3  # container + 2 directories
    assert [c.name for c in _mine(engine, adapter.hostname)] == [kept.name]
    assert sorted(p.name for p in adapter.work_dir.iterdir()) == sorted([kept.name, "someone-else"])
    assert adapter.exited(kept) is None and adapter.exited(dropped).code is None
    foreign.rmdir()


@pytest.mark.parametrize("source", ["cgroup", "stats"])
def test_cpu_seconds_grow_with_work(adapter, monkeypatch, source):
    if source == "stats":  # an executor that cannot see the cgroup files asks the engine
        monkeypatch.setattr("executor.adapters.docker._cgroup_cpu_file", lambda container_id: None)
    instance = adapter.start(launch(adapter, "cpu"))
    before = adapter.cpu_seconds(instance)
    assert before is not None
    assert run(adapter, instance, "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")[0] == 0
    assert adapter.cpu_seconds(instance) > before
    adapter.remove(instance)
    assert adapter.cpu_seconds(instance) is None


# -- named networks (created and joined; no traffic: bridge addresses are off limits here) ------

def test_named_networks_are_created_and_joined(engine, tmp_path):
    network = f"opr-test-net-{secrets.token_hex(4)}"
    hostname = f"opr-adaptertest-{secrets.token_hex(4)}"
    adapter = DockerAdapter(hostname=hostname, work_dir=tmp_path / "work", networks=(network,))
    try:
        adapter.prepare()
        assert engine.networks.list(names=[network])
        adapter.prepare()  # idempotent
        instance = adapter.start(launch(adapter, "net", command="sleep infinity"))
        assert (instance.host, instance.port) == (f"{hostname}-net", 3000)
        attrs = engine.containers.get(instance.name).attrs
        assert list(attrs["NetworkSettings"]["Networks"]) == [network]
        assert attrs["Config"]["Hostname"] == f"{hostname}-net"
        code, output = run(adapter, instance, "echo ${OPEN_RUNTIMES_PORT:-unset}")
        assert (code, output) == (0, "unset\n")
        adapter.remove(instance)
        long_id = "l" * 64  # the name is longer than a hostname may be
        instance = adapter.start(launch(adapter, long_id, command="sleep infinity"))
        assert instance.host == f"{hostname}-{long_id}"
        assert adapter.exited(instance) is None
    finally:
        adapter.remove_orphans(hostname)
        adapter.close()
        for created in engine.networks.list(names=[network]):
            created.remove()


# An invalid reference fails inside the daemon; a registry on a closed loopback port refuses.
@pytest.mark.parametrize("image", ["Invalid//Reference:v0", "127.0.0.1:9/none:v0"])
def test_prepare_pull_failure_is_logged_not_fatal(engine, tmp_path, caplog, image):
    adapter = DockerAdapter(hostname=f"opr-adaptertest-{secrets.token_hex(4)}", work_dir=tmp_path,
                            images=(image,), registry_username="user",
                            registry_password="registry-canary-password")
    try:
        with caplog.at_level("INFO", logger="executor.adapters.docker"):
            adapter.prepare()
            deadline = time.monotonic() + 60
            while "could not pull" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.1)
        assert f"could not pull image {image}" in caplog.text
        assert "registry-canary-password" not in caplog.text
    finally:
        adapter.close()


# -- a real runtime image: build through exec, start from the artifact, call it over HTTP ----

NODE_IMAGE = "openruntimes/node:v3-18.0"
NODE_FUNCTION = b"""module.exports = async (context) => {
  context.log('log from ' + context.req.method);
  return context.res.send('hello ' + process.env.GREETING + ' ' + context.req.path);
};
"""


@pytest.fixture(scope="module")
def node_image(engine):
    """The node-18.0 runtime image, built from runtimes/node when missing (as `make images`)."""
    try:
        engine.images.get(NODE_IMAGE)
    except docker.errors.ImageNotFound:
        subprocess.run([str(ROOT / "scripts/build-image.sh"), "node-18.0"], check=True)
    return NODE_IMAGE


def _source(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_node_runtime_builds_starts_and_serves(adapter, node_image, tmp_path):
    source = _source(tmp_path / "source.tar.gz", {"index.js": NODE_FUNCTION})
    builder = adapter.start(launch(adapter, "build", image=node_image, source=source,
                                   env={"OPEN_RUNTIMES_ENTRYPOINT": "index.js", "CI": "true"}))
    code, output = run(adapter, builder,
                       'tar -zxf /tmp/code.tar.gz -C /mnt/code && helpers/build.sh "npm --version"')
    assert code == 0, output
    assert "Build finished." in output
    artifact = tmp_path / "artifact.tar.gz"
    artifact.write_bytes((builder.code_dir / "code.tar.gz").read_bytes())
    adapter.remove(builder)

    start = 'cp /tmp/code.tar.gz /mnt/code/code.tar.gz && nohup helpers/start.sh "node src/server.js"'
    instance = adapter.start(launch(adapter, "serve", image=node_image, command=start, source=artifact,
                                    env={"OPEN_RUNTIMES_SECRET": "s3cret", "GREETING": "world"}))
    wait_for_port(instance.port, timeout=30)
    assert adapter.exited(instance) is None
    status, body, headers = _get(instance.port, "/path", {"x-open-runtimes-secret": "s3cret",
                                                           "x-open-runtimes-log-id": "call1"})
    assert (status, body) == (200, b"hello world /path")
    assert (instance.logs_dir / "call1_logs.log").read_text() == "log from GET"
    assert _get(instance.port, "/", {"x-open-runtimes-secret": "wrong"})[0] == 500

    port = instance.port
    adapter.remove(instance)
    with pytest.raises(OSError):
        wait_for_port(port, timeout=0.5)


def test_node_runtime_without_artifact_exits_with_its_reason(adapter, node_image):
    start = 'nohup helpers/start.sh "node src/server.js"'
    instance = adapter.start(launch(adapter, "broken", image=node_image, command=start))
    exit = wait_exited(adapter, instance)
    assert exit.code not in (0, None)
    assert "Preparing for start ..." in exit.output_tail
    assert "/mnt/code/code.tar.gz" in exit.output_tail


def test_created_from_the_executor_configuration(engine, tmp_path):
    from executor.adapters import create_adapter
    from executor.config import Config

    config = Config.from_env({
        "OPR_EXECUTOR_ADAPTER": "docker", "OPR_EXECUTOR_NETWORK": "host",
        "OPR_EXECUTOR_HOSTNAME": f"opr-adaptertest-{secrets.token_hex(4)}",
        "OPR_EXECUTOR_WORK_DIR": str(tmp_path / "work"), "OPR_EXECUTOR_PORT_RANGE": "35000-35099",
        "OPR_EXECUTOR_CONNECTION_STORAGE": f"local://{tmp_path / 'storage'}",
    })
    adapter = create_adapter(config)
    try:
        assert isinstance(adapter, DockerAdapter) and adapter.name == "docker"
        instance = adapter.start(launch(adapter, "cfg"))
        assert 35000 <= instance.port <= 35099
        assert instance.code_dir == tmp_path / "work" / instance.name / "code"
        adapter.remove(instance)
    finally:
        adapter.remove_orphans(config.hostname)
        adapter.close()


def test_host_network_cannot_be_mixed_with_named_networks(tmp_path):
    with pytest.raises(ValueError, match="OPR_EXECUTOR_NETWORK"):
        DockerAdapter(hostname="h", work_dir=tmp_path, networks=("host", "other"),
                      client=docker.DockerClient(base_url="unix:///nonexistent.sock", version="1.41"))
