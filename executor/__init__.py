"""The Open Runtimes executor: builds, cold-starts and executes runtimes over HTTP."""
from importlib import metadata

try:
    __version__ = metadata.version("open-runtimes-py")
except metadata.PackageNotFoundError:  # running from a plain checkout
    __version__ = "0.1.0"
