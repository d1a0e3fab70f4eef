"""Loading the user function and running calls of it, racing their timeouts (spec 2.3, 2.4)."""
import os
import sys
import threading
from contextvars import Context

from .calls import FAILED, RETURNED, TIMED_OUT
from .capture import current_call

CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect
MAX_WORKERS = 256  # spec 2.4 asks for at least 64
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class LoadError(Exception):
    """The function could not be loaded; ``str()`` is the text for the errors."""


def describe(exc):
    """An exception's trace as Python prints it, without the server's own frames."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip("\n")


class FunctionLoader:
    """Imports the entrypoint at the first call and keeps its ``main`` (failures are retried)."""

    def __init__(self, function_dir, entrypoint):
        self.function_dir = function_dir
        self.entrypoint = entrypoint
        self._main = None
        self._lock = threading.Lock()

    def main(self):
        """The function's ``main``; raises LoadError."""
        if self._main is None:
            with self._lock:
                if self._main is None:
                    self._main = self._load()
        return self._main

    def _load(self):
        entrypoint = self.entrypoint
        if not entrypoint or os.path.isabs(entrypoint) or ".." in entrypoint.split("/"):
            raise LoadError(
                "Could not load code file.\n"
                f"Entrypoint {entrypoint!r} must be a relative path inside the function directory."
            )
        path = os.path.join(self.function_dir, entrypoint)
        name = os.path.splitext(os.path.basename(path))[0]
        if not name.isidentifier() or name in sys.modules:
            name = "openruntimes_v3_function"

        from importlib.machinery import SourceFileLoader
        from importlib.util import module_from_spec, spec_from_loader

        spec = spec_from_loader(name, SourceFileLoader(name, path))
        module = module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(name, None)
            raise LoadError("Could not load code file.\n" + describe(exc)) from None
        main = getattr(module, "main", None)
        if not callable(main):
            sys.modules.pop(name, None)
            raise LoadError("User function is not valid.")
        return main


class WorkerPool:
    """Threads for sync calls, started on demand and reused; abandoned calls keep theirs."""

    def __init__(self, max_workers=MAX_WORKERS):
        import queue

        self._jobs = queue.SimpleQueue()
        self._max = max_workers
        self._threads = 0
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job):
        with self._lock:
            if self._idle:
                self._idle -= 1
                spawn = False
            else:
                spawn = self._threads < self._max
                self._threads += spawn
        self._jobs.put(job)
        if spawn:
            threading.Thread(target=self._work, name="openruntimes-worker", daemon=True).start()

    def _work(self):
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # a job reports its own failures; keep the thread
                pass
            with self._lock:
                self._idle += 1


class EventLoop:
    """One asyncio loop on its own thread, started when the first async call needs it."""

    def __init__(self):
        self._loop = None
        self._lock = threading.Lock()

    def get(self):
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    import asyncio

                    loop = asyncio.new_event_loop()
                    threading.Thread(target=loop.run_forever, name="openruntimes-asyncio",
                                     daemon=True).start()
                    self._loop = loop
        return self._loop


class Invoker:
    """Runs calls: ``def main`` on a worker thread, ``async def main`` as a task on the loop."""

    def __init__(self, loader):
        self.loader = loader  # None in a pool runtime until it is specialized
        self._pool = None
        self._loop = EventLoop()
        self._lock = threading.Lock()

    def warm_up(self):
        """Pool mode: do now what the first call would, but for the function itself."""
        import json  # noqa: F401  (request and response bodies)
        import importlib.machinery  # noqa: F401  (FunctionLoader)
        import importlib.util  # noqa: F401

        with self._lock:
            self._pool = WorkerPool()
        self._pool.submit(lambda: None)  # starts the first worker
        self._loop.get()

    def load(self, loader):
        """Pool mode: set the function's loader and import the function in the background.

        A load error is not reported here: the first call retries and reports it.
        """
        self.loader = loader

        def preload():
            try:
                loader.main()
            except LoadError:
                pass

        self._pool.submit(preload)

    def run(self, call, context, timeout):
        """Run one call and wait for its outcome for at most ``timeout`` seconds (None: no limit)."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = WorkerPool()
        # A fresh context per call: current_call is set in it, and code it runs inherits it.
        self._pool.submit(lambda: Context().run(self._start, call, context))
        if timeout is not None and timeout > threading.TIMEOUT_MAX:
            timeout = None  # too long for the clock: as good as none (spec 1.4)
        state = call.wait(timeout)
        if state is TIMED_OUT and call.task is not None:
            call.task.get_loop().call_soon_threadsafe(call.task.cancel)
        return state

    def _start(self, call, context):
        current_call.set(call)
        try:
            main = self.loader.main()
        except LoadError as exc:
            call.settle(FAILED, str(exc))
            return
        if call.closed:
            return
        if getattr(getattr(main, "__code__", None), "co_flags", 0) & CO_COROUTINE:
            self._schedule(call, main, context)
            return
        try:
            result = main(context)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too (spec 5.3)
            call.settle(FAILED, describe(exc))
            return
        if hasattr(type(result), "__await__"):
            self._schedule(call, lambda _: result, context)
        else:
            call.settle(RETURNED, result)

    def _schedule(self, call, function, context):
        loop = self._loop.get()
        # call_soon_threadsafe runs the callback in a copy of this call's context, and the
        # task created there copies it again: current_call stays set inside the task.
        loop.call_soon_threadsafe(self._create_task, loop, call, function, context)

    def _create_task(self, loop, call, function, context):
        if not call.closed:
            call.task = loop.create_task(self._run_async(call, function, context))

    async def _run_async(self, call, function, context):
        try:
            result = function(context)
            while hasattr(type(result), "__await__"):
                result = await result
        except BaseException as exc:  # CancelledError included: the call timed out
            call.settle(FAILED, describe(exc))
            return
        call.settle(RETURNED, result)
