"""Loading a function's handler module from functions/<name>/app.py, as Lambda would: its own
folder on the path while it imports, and a module name of its own (every function's is `app`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
_MODULES: dict[str, ModuleType] = {}


def function_module(function_dir: str) -> ModuleType:
    """The function's app module, imported once per test process."""
    if function_dir not in _MODULES:
        path = FUNCTIONS / function_dir / "app.py"
        spec = importlib.util.spec_from_file_location(f"past_life_gallery_fn_{function_dir}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        _MODULES[function_dir] = module
    return _MODULES[function_dir]
