"""Entry point of the Python runtime: ``python3 src/server.py`` (runtimes spec 6.4)."""
import os
import sys

# The server dir may be read-only and is shared by many instances (rule 1.1.9).
sys.dont_write_bytecode = True

if __name__ == "__main__":
    from openruntimes_v3.serve import main

    # Drop src/ from the module path now that the package is imported, so that a user module
    # named like this file (server.py) is found in the function dir instead.
    src_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != src_dir]
    main()
