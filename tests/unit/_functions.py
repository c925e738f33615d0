"""Running a function in a unit test: its handler module loaded from functions/<name>/app.py as
Lambda would (its own folder on the path while it imports, and a module name of its own: every
function's is `app`), a Lambda context, the sample events in events/, and gallery.runtime's
clients forgotten as a new Lambda sandbox starts without them."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from gallery import runtime

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
EVENTS = Path(__file__).resolve().parents[2] / "events"
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


@dataclass
class LambdaContext:
    """What Powertools reads of Lambda's context object."""

    function_name: str = "past-life-gallery-dev-Function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:past-life-gallery-dev-Function"
    aws_request_id: str = "3e1a6c0b-8f2d-4b7e-9a5c-1d2e3f4a5b6c"


def load_event(name: str) -> dict:
    """A sample event, events/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def invoke(function_dir: str, event: dict) -> Any:
    """The function's handler called as Lambda calls it: on its own copy of the event, with a context."""
    return function_module(function_dir).handler(copy.deepcopy(event), LambdaContext())


def api_call(function_dir: str, event: dict) -> tuple[int, dict]:
    """An API function's (status code, JSON body) for an API Gateway event."""
    response = invoke(function_dir, event)
    return response["statusCode"], json.loads(response["body"] or "{}")


def fresh_runtime() -> None:
    """Forget every session, client and table gallery.runtime made (it keeps them per endpoint,
    region and access key, as a warm Lambda does): the next handler makes its own, under
    whatever mock_aws() is current."""
    runtime._client.cache_clear()
    runtime._session.cache_clear()
    runtime._tables.clear()
