"""Checklist 9.3, Helpers: build.sh and start.sh, in both modes."""
from .client import call

BUILD_LINES = ["Preparing for build ...", "Building ...", "Packing build ...", "Build finished."]


def line_positions(output: str, lines: list[str]) -> list[int]:
    found = [line.rstrip() for line in output.splitlines()]
    return [found.index(line) if line in found else -1 for line in lines]


def test_build_progress(build):
    assert build.returncode == 0, build.describe()
    positions = line_positions(build.stdout, BUILD_LINES)
    assert -1 not in positions and positions == sorted(positions), build.describe()


def test_artifact_content(target, build):
    assert build.artifact.is_file(), build.describe()
    members = build.members()
    marker = build.read_member(".open-runtimes").decode("utf-8")
    assert marker.splitlines() == [f"OPEN_RUNTIMES_ENTRYPOINT={target.entrypoint}"]
    assert target.entrypoint in members
    if target.language == "python":
        assert any(name.startswith("runtime-env/") for name in members)
    if target.language == "php":
        assert "vendor" in members or any(name.startswith("vendor/") for name in members)


def test_top_level_dotfile_is_not_packed(build):
    assert ".harness-dotfile" not in build.members()


def test_failing_build(harness, runtime_mode):
    build = harness.build(runtime_mode, command="echo about to fail; exit 3")
    assert build.returncode != 0, build.describe()
    assert "Build finished." not in build.stdout


def test_start_progress(server):
    positions = line_positions(server.stdout(), ["Preparing for start ...", "Starting ..."])
    assert -1 not in positions and positions == sorted(positions), server.describe()


def test_build_time_entrypoint_wins(target, spawn):
    runtime = spawn(target, env={"OPEN_RUNTIMES_ENTRYPOINT": target.missing_entrypoint})
    reply = call(runtime.port, "plaintextResponse")
    assert reply.status == 200, reply.describe()
    assert reply.text == "Hello World 👋"


def test_two_runtimes_share_a_server_dir(harness, runtime_mode, spawn):
    server_dir = harness.shared_server_dir(runtime_mode)
    first = spawn(runtime_mode, wait=False, server_dir=server_dir)
    second = spawn(runtime_mode, wait=False, server_dir=server_dir)
    for runtime in (first, second):
        runtime.wait_ready()
    for runtime in (first, second):
        reply = call(runtime.port, "requestUrl")
        assert reply.status == 200, reply.describe()
        assert reply.json()["port"] == runtime.port
        assert call(runtime.port, "plaintextResponse").text == "Hello World 👋"
    for runtime in (first, second):
        assert runtime.server_dir_changes() == []
