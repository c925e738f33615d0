"""The few places where moto 5.2.5 cannot run this application, and what replaces them.

Each hook patches one moto internal. tests/e2e/test_moto_hooks.py holds a canary per
hook, so a moto upgrade that moves one of them fails loudly instead of silently doing nothing.
Nothing outside the local stack imports this module."""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import types
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.events.models import EventTemplateParser, Rule
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.rekognition.responses import RekognitionResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_dynamodb
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    ResourceCondition,
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse
from moto.utilities.arns import parse_arn

log = logging.getLogger("gallery_local.lambda")
# (function name, perf_counter at start, at end) of recent invocations, for the benchmarks.
CALLS: deque[tuple[str, float, float]] = deque(maxlen=10_000)

# --- Lambda: run the real handler in-process --------------------------------------------------
# moto runs every invocation (Invoke, Step Functions lambda:invoke, SNS -> Lambda) through
# LambdaFunction._invoke_lambda, which needs Docker. Here it imports the handler from the
# function's CodeUri and calls it.

_code_dirs: dict[str, Path] = {}
_handlers: dict[tuple[str, str], Callable] = {}
_import_lock = threading.Lock()


def register_function(name: str, code_dir: Path) -> None:
    _code_dirs[name] = Path(code_dir).resolve()


def load_handler(function_name: str, handler: str) -> Callable:
    """Import a function's handler once (the local stack calls this at start, so the first visit
    does not pay every function's import time)."""
    code_dir = _code_dirs.get(function_name)
    if code_dir is None:
        raise RuntimeError(f"Function {function_name} has no local code directory; is it in template.yaml?")
    module_name, attr = handler.rsplit(".", 1)
    key = (str(code_dir), handler)
    with _import_lock:
        if key not in _handlers:
            # Every function's module is called `app`; load each under its own name.
            spec = importlib.util.spec_from_file_location(
                f"lambda_{function_name}_{module_name}".replace("-", "_"),
                code_dir / (module_name.replace(".", "/") + ".py"),
            )
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _handlers[key] = getattr(module, attr)
    return _handlers[key]


def _context(fn: LambdaFunction) -> Any:
    deadline = time.time() + float(fn.timeout)
    return types.SimpleNamespace(
        function_name=fn.function_name,
        function_version=str(fn.version),
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size),
        aws_request_id=str(uuid.uuid4()),
        log_group_name=fn.logs_group_name,
        log_stream_name="local",
        get_remaining_time_in_millis=lambda: max(0, int((deadline - time.time()) * 1000)),
    )


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, (str, bytes)):
        event = json.loads(event or "{}")
    started = time.perf_counter()
    try:
        result = load_handler(self.function_name, self.handler)(event if event is not None else {}, _context(self))
        CALLS.append((self.function_name, started, time.perf_counter()))
        return json.dumps(result), False, ""
    except Exception as e:  # the Lambda runtime reports any exception the same way
        log.info("%s raised %s: %s", self.function_name, type(e).__name__, e)
        error = {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "stackTrace": traceback.format_tb(e.__traceback__),
        }
        return json.dumps(error), True, traceback.format_exc()


# --- EventBridge: Step Functions targets --------------------------------------------------------
# moto raises NotImplementedError for a state-machine target (and S3 swallows it). AWS names
# such executions itself, so this uses a fresh uuid; the workflow's claim makes replays safe.

_original_send_to_targets = Rule.send_to_targets


def _send_to_targets(self: Rule, original_event: dict, transform_input: bool = True) -> None:
    if not self.event_pattern.matches_event(original_event):
        return
    from moto.stepfunctions.responses import get_backend

    sfn_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
    for target in sfn_targets:
        if "Input" in target:
            payload = json.loads(target["Input"])
        elif transform_input and target.get("InputTransformer"):
            transformer = target["InputTransformer"]
            payload = EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
        else:
            payload = original_event
        arn = parse_arn(target["Arn"])
        get_backend(arn.account, arn.region).start_execution(
            target["Arn"], name=str(uuid.uuid4()), execution_input=json.dumps(payload, default=str)
        )
    others = [t for t in self.targets if t not in sfn_targets]
    if others:
        saved = self.targets
        self.targets = others
        try:
            _original_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = saved


# --- Step Functions: SendTaskFailure keeps its cause --------------------------------------------
# moto's response handler drops `cause`; the visit's readable reason travels in it.


def _send_task_failure(self: StepFunctionResponse) -> Any:
    from moto.core.responses import EmptyResult

    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


# --- Step Functions: callbacks while another execution is starting ------------------------------
# SendTask* walks every RUNNING execution and reads exec_worker.env; an execution that is being
# started at that moment is RUNNING with no worker yet, and the callback fails with
# AttributeError. Such an execution cannot hold the token, so skip it.

_original_get_executions = StepFunctionsParserBackend._get_executions


def _get_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list:
    return [e for e in _original_get_executions(self, execution_status) if getattr(e, "exec_worker", None) is not None]


# --- Step Functions: a new task token for each retry of a .waitForTaskToken task ----------------
# AWS hands every attempt its own token. moto makes the token once per state and reuses it on
# Retry, so after a timeout the retried attempt waits on a token that is already spent and the
# callback is refused. Make a fresh token before every retried attempt.

_original_evaluate_with_timeout = StateTaskServiceCallback._evaluate_with_timeout


def _evaluate_with_timeout(self: StateTaskServiceCallback, env: Any) -> None:
    state = env.states.context_object.context_object_data.get("State") or {}
    if (
        state.get("RetryCount", 0) > 0
        and self._is_integration_pattern()
        and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
    ):
        env.callback_pool_manager.add(env.states.context_object.update_task_token())
    _original_evaluate_with_timeout(self, env)


# --- Step Functions: service clients are made once ---------------------------------------------
# The interpreter builds a new boto3 client for every Lambda and DynamoDB task (about 10 ms of
# CPU each, under the GIL every other request needs). Clients are thread-safe; reuse them.

_original_boto_client_for = boto_client.boto_client_for
_sfn_clients: dict[tuple, Any] = {}
_sfn_clients_lock = threading.Lock()


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    key = (region, service, boto_client.moto_server_port(), repr(state_credentials))
    with _sfn_clients_lock:
        if key not in _sfn_clients:
            _sfn_clients[key] = _original_boto_client_for(region, service, state_credentials)
        return _sfn_clients[key]


# --- Step Functions: parse each definition once ------------------------------------------------
# moto parses the whole definition with a pure-Python ANTLR parser at every execution start
# (~100 ms of CPU for pipeline.asl.json). The parse tree is only read afterwards, so keep it and
# build fresh evaluation components from it for each execution.

_original_parse = AmazonStateLanguageParser.parse
_parse_trees: dict[str, Any] = {}
_parse_lock = threading.Lock()


def _parse(definition: str) -> tuple[Any, Any]:
    with _parse_lock:
        tree = _parse_trees.get(definition)
    if tree is None:
        program, tree = _original_parse(definition)
        with _parse_lock:
            _parse_trees[definition] = tree
        return program, tree
    return Preprocessor().visit(tree), tree


# --- moto server: which backend a request is for, worked out once per host ---------------------
# For every request moto lists its package directory from disk and tries a few hundred URL
# patterns; that is the same answer for the same host, and it cost more CPU per visit than
# the handlers themselves.

_original_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_backend_for_host: dict[str | None, Any] = {}


def _get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    if host not in _backend_for_host:
        _backend_for_host[host] = _original_get_backend_for_host(self, host)
    return _backend_for_host[host]


# --- Rekognition DetectFaces: answered by the local face engine ---------------------------------

_face_detector: Callable[[bytes], list[dict]] | None = None
_s3_reader: Callable[[str, str], bytes] | None = None
REKOGNITION_MAX_BYTES = 5 * 1024 * 1024
REKOGNITION_MAX_S3_BYTES = 15 * 1024 * 1024


def set_face_detector(detector: Callable[[bytes], list[dict]], s3_reader: Callable[[str, str], bytes]) -> None:
    """detector(image bytes) -> Rekognition FaceDetails; raises ValueError for an image it
    cannot decode. s3_reader(bucket, key) -> bytes for S3Object images."""
    global _face_detector, _s3_reader
    _face_detector, _s3_reader = detector, s3_reader


def _detect_faces(self: RekognitionResponse) -> str:
    params = json.loads(self.body)
    image = params.get("Image") or {}
    if "Bytes" in image:
        data = base64.b64decode(image["Bytes"])
        limit = REKOGNITION_MAX_BYTES
    elif "S3Object" in image:
        data = _s3_reader(image["S3Object"]["Bucket"], image["S3Object"]["Name"])
        limit = REKOGNITION_MAX_S3_BYTES
    else:
        raise JsonRESTError("InvalidParameterException", "Image must have Bytes or S3Object.")
    if len(data) > limit:
        raise JsonRESTError("ImageTooLargeException", f"Image size {len(data)} exceeds {limit} bytes.")
    if _face_detector is None:
        raise JsonRESTError("ServiceUnavailableException", "The local face engine is not running.")
    started = time.perf_counter()
    try:
        faces = _face_detector(data)
        CALLS.append(("rekognition:DetectFaces", started, time.perf_counter()))
    except ValueError as e:
        raise JsonRESTError("InvalidImageFormatException", f"Request has invalid image format: {e}") from e
    return json.dumps({"FaceDetails": faces})


# --- SageMaker runtime InvokeEndpointAsync: the local endpoint emulator -------------------------

_async_invoker: Callable[[str, str, str], tuple[str, str]] | None = None


def set_async_invoker(invoker: Callable[[str, str, str], tuple[str, str]]) -> None:
    """invoker(endpoint_name, input_location, inference_id) -> (output_location, failure_location)."""
    global _async_invoker
    _async_invoker = invoker


def _invoke_endpoint_async(self: SageMakerRuntimeResponse) -> Any:
    endpoint_name = self.path.split("/")[2]
    input_location = self.headers.get("X-Amzn-SageMaker-InputLocation")
    inference_id = self.headers.get("X-Amzn-SageMaker-Inference-Id") or str(uuid.uuid4())
    if _async_invoker is None:
        raise JsonRESTError("ServiceUnavailable", "No local async endpoint is running.")
    output_location, failure_location = _async_invoker(endpoint_name, input_location, inference_id)
    headers = {
        "X-Amzn-SageMaker-OutputLocation": output_location,
        "X-Amzn-SageMaker-FailureLocation": failure_location,
    }
    return 200, headers, json.dumps({"InferenceId": inference_id})


_installed = False

# What moto had before install(), for the canary tests.
ORIGINALS = {
    "LambdaFunction._invoke_lambda": LambdaFunction._invoke_lambda,
    "Rule.send_to_targets": Rule.send_to_targets,
    "StepFunctionResponse.send_task_failure": StepFunctionResponse.send_task_failure,
    "StepFunctionsParserBackend._get_executions": StepFunctionsParserBackend._get_executions,
    "StateTaskServiceCallback._evaluate_with_timeout": StateTaskServiceCallback._evaluate_with_timeout,
    "lambda_eval_utils.boto_client_for": lambda_eval_utils.boto_client_for,
    "state_task_service_dynamodb.boto_client_for": state_task_service_dynamodb.boto_client_for,
    "AmazonStateLanguageParser.parse": AmazonStateLanguageParser.parse,
    "DomainDispatcherApplication.get_backend_for_host": DomainDispatcherApplication.get_backend_for_host,
    "RekognitionResponse.detect_faces": getattr(RekognitionResponse, "detect_faces", None),
    "SageMakerRuntimeResponse.invoke_endpoint_async": SageMakerRuntimeResponse.invoke_endpoint_async,
}


def install() -> None:
    """Patch moto. Idempotent; the patches live for the rest of the process."""
    global _installed
    if _installed:
        return
    LambdaFunction._invoke_lambda = _invoke_lambda
    Rule.send_to_targets = _send_to_targets
    StepFunctionResponse.send_task_failure = _send_task_failure
    StepFunctionsParserBackend._get_executions = _get_executions
    StateTaskServiceCallback._evaluate_with_timeout = _evaluate_with_timeout
    lambda_eval_utils.boto_client_for = _cached_boto_client_for
    state_task_service_dynamodb.boto_client_for = _cached_boto_client_for
    AmazonStateLanguageParser.parse = staticmethod(_parse)
    DomainDispatcherApplication.get_backend_for_host = _get_backend_for_host
    RekognitionResponse.detect_faces = _detect_faces
    SageMakerRuntimeResponse.invoke_endpoint_async = _invoke_endpoint_async
    _installed = True


def add_to_path(directory: Path) -> None:
    """Layers are on a Lambda's sys.path; here they go on the process's."""
    path = str(Path(directory).resolve())
    if path not in sys.path:
        sys.path.insert(0, path)
