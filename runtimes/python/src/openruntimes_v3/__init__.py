"""Open Runtimes v3 server for Python functions (see runtimes/python/README.md)."""
