"""Creating a runtime, and running its build (spec 3.1)."""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field

from executor.adapters.base import CommandTimeout, Launch
from executor.artifacts import ArtifactError
from executor.errors import ExecutorError
from executor.output import BuildOutput
from executor.runtimes import UP, Runtime
from executor.services import Services
from executor.runtime_http import client_for
from executor.specialize import SpecializationFailed, specialize

log = logging.getLogger(__name__)

START_FORM = 'cp /tmp/code.tar.gz /mnt/code/code.tar.gz && nohup helpers/start.sh "{}"'


@dataclass(frozen=True)
class CreateRequest:
    """The parameters of a create (or of a cold start), already validated."""

    runtime_id: str
    image: str
    entrypoint: str = ""
    source: str = ""
    destination: str = ""
    variables: dict = field(default_factory=dict)
    runtime_entrypoint: str = ""
    command: str = ""
    timeout: int = 600
    remove: bool = False
    cpus: float = 1.0
    memory: int = 512
    version: str = "v3"
    keep_warm: bool = False
    idle_timeout: int | None = None     # None: the executor's inactive threshold


@dataclass
class Created:
    """A runtime that finished creating, and what the create call answers."""

    runtime: Runtime
    output: str = ""
    start_time: float = 0.0
    duration: float = 0.0
    path: str | None = None
    size: int | None = None
    create_ms: float = 0.0
    pooled: bool = False                # a pool runtime was specialized (a pool hit)

    def body(self) -> dict:
        result = {"output": self.output, "startTime": self.start_time, "duration": self.duration}
        if self.path is not None:
            result.update(path=self.path, size=self.size)
        return result


def start_command(services: Services, request: CreateRequest) -> str | None:
    """What runs the runtime: the caller's ``runtimeEntrypoint``; else the default start form,
    except for a build, whose runtime idles (None) while the command runs inside it."""
    if request.runtime_entrypoint:
        return request.runtime_entrypoint
    if request.command:
        return None
    from executor import catalog

    spec = catalog.by_image(request.image)
    start = spec.start_command if spec else ""
    return START_FORM.format(start)


def create(services: Services, request: CreateRequest) -> Created:
    """Register, start and (with ``command``) build a runtime; clean everything up on failure.

    Raises 409 ``runtime_conflict`` when the id is taken, 400 ``build_failed`` when the
    build fails, and the adapter's errors when it cannot start the runtime.
    """
    config = services.config
    if request.version not in config.runtime_versions or request.version != "v3":
        raise ExecutorError("general_argument_invalid",
                            f"Invalid version: only v3 is supported (accepted: {', '.join(config.runtime_versions)})")
    # Path checks come first: a refused path must not register anything.
    source = services.storage.source(request.source) if request.source else None
    if request.destination:
        services.storage.resolve("destination", request.destination)

    started = time.time()
    runtime = Runtime(
        runtime_id=request.runtime_id,
        name=services.runtime_name(request.runtime_id),
        hostname=config.hostname,
        image=request.image,
        version=request.version,
        secret=secrets.token_hex(16),
        keep_warm=request.keep_warm,
        idle_timeout=config.inactive_threshold if request.idle_timeout is None else request.idle_timeout,
    )
    holder = services.registry.claim(runtime)
    if holder is not None:
        if holder.pending:
            raise ExecutorError("runtime_conflict",
                                "A runtime with the same ID is already being created. Attempt a execution soon.")
        raise ExecutorError("runtime_conflict")
    created = Created(runtime=runtime, start_time=started)
    try:
        before = time.monotonic()
        if source is not None and _from_pool(services, runtime, request, source):
            created.pooled = runtime.pooled = True
            created.create_ms = (time.monotonic() - before) * 1000
        else:
            _start(services, runtime, request, source, created)
        runtime.status = UP
        runtime.initialised = True
        runtime.touch()
    except BaseException as error:
        runtime.failure = error if isinstance(error, ExecutorError) else ExecutorError(
            "runtime_failed", "Runtime failed. It could not be created.")
        services.remove(runtime)
        raise
    finally:
        runtime.building = False
        if runtime.output is not None:
            runtime.output.finish()
        runtime.settled.set()
    if request.remove:
        services.remove(runtime)
    created.duration = time.time() - started
    return created


def _start(services: Services, runtime: Runtime, request: CreateRequest, source, created: Created) -> None:
    """Start the runtime from its image (and build it, with ``command``)."""
    config = services.config
    launch = Launch(
        name=runtime.name,
        runtime_id=runtime.runtime_id,
        image=request.image,
        command=start_command(services, request),
        env=_environment(services, runtime, request),
        cpus=request.cpus,
        memory_mb=request.memory,
        source=source,
        labels={"openruntimes-executor": config.hostname,
                "openruntimes-runtime-id": runtime.runtime_id},
    )
    if request.command:
        runtime.output = BuildOutput()
        runtime.building = True
    before = time.monotonic()
    runtime.instance = services.adapter.start(launch)
    created.create_ms = (time.monotonic() - before) * 1000
    if request.command:
        created.output = _build(services, runtime, request)
    if request.destination:
        created.path, created.size = _collect(services, runtime, request.destination)


def _from_pool(services: Services, runtime: Runtime, request: CreateRequest, source) -> bool:
    """Give ``runtime`` a specialized pool runtime; False on a pool miss or when the pooled
    runtime fails (it is removed, and the caller starts one the normal way)."""
    if (request.command or request.destination or request.runtime_entrypoint
            or not services.pools.serves(request.image, request.cpus, request.memory)):
        return False
    pooled = services.pools.take(request.image)
    if pooled is None:
        return False
    own_secret = runtime.secret
    runtime.instance, runtime.secret = pooled.instance, pooled.secret
    runtime.client = client_for(pooled.instance)
    try:
        mark = time.monotonic()
        services.artifacts.fill(source, pooled.instance.function_dir)
        filled = time.monotonic()
        variables = _environment(services, runtime, request)
        del variables["OPEN_RUNTIMES_SECRET"]  # the runtime has its own, given at start
        specialize(runtime.client, runtime.secret, variables, request.entrypoint)
        log.debug("pool hit %s: fill %.1f ms, specialize %.1f ms", runtime.runtime_id,
                  (filled - mark) * 1000, (time.monotonic() - filled) * 1000)
    except (ArtifactError, SpecializationFailed) as error:
        log.warning("pool runtime %s could not take runtime %s (%s): starting one instead",
                    pooled.instance.name, runtime.runtime_id, error)
        client, runtime.client = runtime.client, None
        client.close()
        runtime.instance, runtime.secret = None, own_secret
        try:
            services.adapter.remove(pooled.instance)
        except Exception:
            log.exception("could not remove pool runtime %s", pooled.instance.name)
        return False
    runtime.listening = True  # the pool only hands out runtimes that listen
    return True


def _environment(services: Services, runtime: Runtime, request: CreateRequest) -> dict[str, str]:
    env = dict(request.variables)
    env.update({
        "OPEN_RUNTIMES_SECRET": runtime.secret,
        "OPEN_RUNTIMES_ENTRYPOINT": request.entrypoint,
        "OPEN_RUNTIMES_HOSTNAME": services.config.hostname,
        "OPEN_RUNTIMES_CPUS": _number(request.cpus),
        "OPEN_RUNTIMES_MEMORY": str(request.memory),
        "CI": "true",
    })
    if not request.entrypoint:
        del env["OPEN_RUNTIMES_ENTRYPOINT"]  # the image's default applies
    return env


def _build(services: Services, runtime: Runtime, request: CreateRequest) -> str:
    output = runtime.output
    try:
        code = services.adapter.run(runtime.instance, request.command, request.timeout, output.write)
    except CommandTimeout:
        output.finish()
        raise ExecutorError("build_failed", _with_output(output, f"Build timed out after {request.timeout} seconds.")) from None
    output.finish()
    if code != 0:
        raise ExecutorError("build_failed", _with_output(output, f"Build command exited with code {code}."))
    return output.value().decode("utf-8", "replace")


def _with_output(output: BuildOutput, last_line: str) -> str:
    text = output.value().decode("utf-8", "replace") or "Build command failed."
    return f"{text.rstrip(chr(10))}\n{last_line}"


def _collect(services: Services, runtime: Runtime, destination: str) -> tuple[str, int]:
    code_dir = runtime.instance.code_dir
    artifact = code_dir / "code.tar.gz" if code_dir is not None else None
    if artifact is None or not artifact.is_file():
        raise ExecutorError("general_unknown", "Something went wrong when starting runtime.", 500)
    return services.storage.store(artifact, destination)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
