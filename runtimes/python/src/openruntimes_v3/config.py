"""Settings read once from the environment at start (runtimes spec 1.8)."""
import os


class ConfigError(Exception):
    """A setting has a value the server cannot use."""


class Config:
    """The server's settings, parsed once at start.

    A plain class rather than a dataclass: importing ``dataclasses`` costs more start-up time
    than the whole server (rule 1.1.4).
    """

    __slots__ = ("host", "port", "secret", "entrypoint", "function_dir", "logs_dir", "pool")

    host: str
    port: int
    secret: bytes  # empty: the secret check is disabled (spec 1.3)
    entrypoint: str
    function_dir: str
    logs_dir: str
    pool: bool  # started without a function, waiting for the specialization request

    def __init__(self, host, port, secret, entrypoint, function_dir, logs_dir, pool=False):
        self.host = host
        self.port = port
        self.secret = secret
        self.entrypoint = entrypoint
        self.function_dir = function_dir
        self.logs_dir = logs_dir
        self.pool = pool

    @classmethod
    def from_environ(cls, environ):
        """Parse the settings from ``environ``; raises ConfigError on a bad value."""
        port_text = environ.get("OPEN_RUNTIMES_PORT") or "3000"
        if not (
            len(port_text) <= 5 and port_text.isascii() and port_text.isdigit()
            and 1 <= int(port_text) <= 65535):
            raise ConfigError(
                f"OPEN_RUNTIMES_PORT must be an integer from 1 to 65535, got {port_text!r}."
            )
        function_dir = environ.get("OPEN_RUNTIMES_FUNCTION_DIR") or os.path.join(
            os.getcwd(), "src", "function"
        )
        return cls(
            host=environ.get("OPEN_RUNTIMES_HOST") or "0.0.0.0",
            port=int(port_text),
            secret=environ.get("OPEN_RUNTIMES_SECRET", "").encode("utf-8", "surrogateescape"),
            entrypoint=environ.get("OPEN_RUNTIMES_ENTRYPOINT", "main.py"),
            function_dir=os.path.abspath(function_dir),
            logs_dir=environ.get("OPEN_RUNTIMES_LOGS_DIR") or "/mnt/logs",
            pool=environ.get("OPEN_RUNTIMES_POOL") == "1",
        )
