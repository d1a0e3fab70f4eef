"""Pool mode: turning a runtime started without a function into that function's runtime.

The caller has unpacked the artifact into the function dir before the specialization request;
this does what ``before-start.sh`` does in normal mode: read ``.open-runtimes``, export the
variables and activate the venv ``runtime-env`` (see README, "Pool mode (extension)").
"""
import os
import sys

MARKER = ".open-runtimes"
VENV = "runtime-env"
SECRET_VARIABLE = "OPEN_RUNTIMES_SECRET"


class SpecializationError(Exception):
    """The request cannot specialize the runtime; ``str()`` is the 400 answer's body."""

    def __init__(self, reason):
        super().__init__(f"Specialization failed: {reason}")


def parse_body(body):
    """(variables, entrypoint or None) from the request body; raises SpecializationError."""
    import json

    if not body.strip():
        payload = {}  # both keys are optional, so an empty body asks for nothing
    else:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise SpecializationError("invalid JSON body.") from None
    if not isinstance(payload, dict):
        raise SpecializationError("invalid JSON body.")

    variables = payload.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in variables.items()
    ):
        raise SpecializationError("variables must map strings to strings.")
    for name, value in variables.items():
        if not _settable(name, value):
            raise SpecializationError(
                "a variable cannot be set in the environment (an empty name, '=' in a name, "
                "a NUL character or an unpaired surrogate).")

    entrypoint = payload.get("entrypoint")
    if entrypoint is not None and not isinstance(entrypoint, str):
        raise SpecializationError("entrypoint must be a string.")
    return variables, entrypoint or None


def _settable(name, value):
    """Whether the pair can go into the process environment (os.environ would raise)."""
    if not name or "=" in name or "\0" in name or "\0" in value:
        return False
    try:
        os.fsencode(name)
        os.fsencode(value)
    except UnicodeError:  # lone surrogates
        return False
    return True


def read_marker(function_dir):
    """The ``NAME=value`` lines of ``<function dir>/.open-runtimes`` ({} when it is missing).

    start.sh sources the file with a shell; the build writes plain unquoted values, and a
    value in matching quotes loses them, as a shell would do.
    """
    try:
        with open(os.path.join(function_dir, MARKER), encoding="utf-8",
                  errors="surrogateescape") as marker:
            lines = marker.read().splitlines()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise SpecializationError(f"cannot read {MARKER} ({error.strerror}).") from None
    found = {}
    for line in lines:
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, equals, value = line.partition("=")
        if not equals or not name.isidentifier():
            continue  # blank lines, comments
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name] = value
    return found


def apply(function_dir, variables, entrypoint):
    """Resolve the entrypoint, set the environment and activate the venv; returns the entrypoint.

    Precedence is that of a normal start: the request's variables, then those of the build
    (``.open-runtimes``, whose entrypoint wins over the request's). Raises SpecializationError
    before changing anything.
    """
    marker = read_marker(function_dir)
    entrypoint = marker.get("OPEN_RUNTIMES_ENTRYPOINT") or entrypoint
    if not entrypoint:
        raise SpecializationError("no entrypoint.")

    environment = {**variables, **marker, "OPEN_RUNTIMES_ENTRYPOINT": entrypoint}
    environment.pop(SECRET_VARIABLE, None)  # the secret is the pool start's, and stays hidden
    os.environ.update(environment)
    _activate_venv(os.path.join(function_dir, VENV))
    # The function dir was empty when the import system may have listed it; a new finder
    # lists it afresh. (importlib.invalidate_caches() would import importlib.metadata on 3.13.)
    sys.path_importer_cache.pop(function_dir, None)
    return entrypoint


def _activate_venv(venv):
    """What running ``python3`` from the venv's bin/ would have given (site.venv's steps)."""
    # The venv's activate script holds build-dir paths, so activate by hand, as start.sh does.
    os.environ["VIRTUAL_ENV"] = venv
    os.environ["PATH"] = os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")

    import site

    version = "python%d.%d" % sys.version_info[:2]
    site_packages = os.path.join(venv, "lib", version, "site-packages")
    if os.path.isdir(site_packages):
        # A venv does not see the system's site dirs (include-system-site-packages = false).
        system_dirs = set(site.getsitepackages())
        system_dirs.add(site.getusersitepackages())
        sys.path[:] = [entry for entry in sys.path if entry not in system_dirs]
        sys.prefix = sys.exec_prefix = venv
        site.addsitedir(site_packages)  # appends it and runs its .pth files
        interpreter = os.path.join(venv, "bin", "python3")
        if os.path.exists(interpreter):
            sys.executable = interpreter
