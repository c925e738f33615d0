"""The few places where moto 5.2.5 cannot run this application, and what replaces them.

Each hook patches one moto internal. tests/e2e/test_moto_hooks.py holds a canary per
hook, so a moto upgrade that moves one of them fails loudly instead of silently doing nothing.
Nothing outside the local stack imports this module."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import logging
import os
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

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventTemplateParser, Rule
from moto.events.utils import EventMessageType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.rekognition.responses import RekognitionResponse
from moto.s3.responses import S3Response
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb,
    state_task_service_events,
    state_task_service_sfn,
    state_task_service_sns,
    state_task_service_sqs,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    ResourceCondition,
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse
from moto.utilities.arns import parse_arn

from gallery_local import lambda_env, moto_iam_hooks

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
            if spec is None or spec.loader is None:
                raise ImportError(f"{function_name}: no module {module_name} in {code_dir}")
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


# The environment a function's sandbox has (its variables, its role's credentials); the local
# stack registers it, and the handler sees only that while it runs (lambda_env).
_sandbox_environment: Callable[[LambdaFunction], dict[str, str]] | None = None


def set_sandbox_environment(environment: Callable[[LambdaFunction], dict[str, str]]) -> None:
    global _sandbox_environment
    _sandbox_environment = environment


def _sandbox(fn: LambdaFunction) -> Any:
    if _sandbox_environment is None or not isinstance(os.environ, lambda_env.ThreadEnviron):
        return contextlib.nullcontext()
    return os.environ.function(_sandbox_environment(fn))


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, (str, bytes)):
        event = json.loads(event or "{}")
    if self.handler is None:
        raise ValueError(f"{self.function_name} has no handler: only zip functions run locally")
    started = time.perf_counter()
    try:
        with _sandbox(self):
            handler = load_handler(self.function_name, self.handler)
            result = handler(event if event is not None else {}, _context(self))
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
# role ARN, action, resource -> whether the role's policies allow it (the local stack's IAM).
_role_allows: Callable[[str | None, str, str], bool] | None = None


def set_role_authorizer(allows: Callable[[str | None, str, str], bool]) -> None:
    global _role_allows
    _role_allows = allows


def _send_to_targets(self: Rule, original_event: EventMessageType, transform_input: bool = True) -> None:
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
        if _role_allows is not None and not _role_allows(target.get("RoleArn"), "states:StartExecution", target["Arn"]):
            # AWS cannot invoke the target and does not retry a permission error: the event
            # goes to the target's dead-letter queue, or is dropped without one.
            message = f"Not authorized to perform: states:StartExecution on resource: {target['Arn']}"
            if not _to_target_dlq(self, target, original_event, "NO_PERMISSIONS", message):
                log.warning("rule %s: %s; event dropped", self.name, message)
            continue
        arn = parse_arn(target["Arn"])
        get_backend(arn.account, arn.region).start_execution(
            target["Arn"], name=str(uuid.uuid4()), execution_input=json.dumps(payload, default=str)
        )
    # Lambda targets: moto raises NotImplementedError for them. EventBridge invokes a function
    # asynchronously, so a failed invocation is retried as Lambda retries (_invoke_async).
    lambda_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
    for target in lambda_targets:
        from moto.awslambda.utils import get_backend as lambda_backend

        arn = parse_arn(target["Arn"])
        _invoke_async(
            lambda_backend(arn.account, arn.region).get_function(target["Arn"]),
            _target_input(target, original_event, transform_input),
        )
    others = [t for t in self.targets if t not in sfn_targets and t not in lambda_targets]
    if others:
        saved = self.targets
        self.targets = others
        try:
            _original_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = saved


# --- EventBridge: a target's dead-letter queue ----------------------------------------------------
# moto stores a target's DeadLetterConfig and never uses it. EventBridge sends the original event
# to it with these message attributes when it cannot deliver (as the service itself, allowed by
# the queue's policy, which moto does not evaluate).


def _to_target_dlq(rule: Rule, target: dict, event: EventMessageType, code: str, message: str) -> bool:
    queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return False
    attributes = {
        "RULE_ARN": rule.arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": code,
        "ERROR_MESSAGE": message,
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": "0",
    }
    _send_to_queue(
        queue_arn,
        json.dumps(event, default=str),
        {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    return True


def _send_to_queue(queue_arn: str, body: str, attributes: dict | None = None) -> None:
    from moto.sqs.models import sqs_backends

    arn = parse_arn(queue_arn)
    sqs_backends[arn.account][arn.region].send_message(arn.resource_id, body, message_attributes=attributes or {})


def _target_input(target: dict, event: EventMessageType, transform_input: bool) -> Any:
    """What a target receives: its constant Input, its InputTransformer's output, or the event."""
    if "Input" in target:
        return json.loads(target["Input"])
    if transform_input and target.get("InputTransformer"):
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return event


# --- Lambda: asynchronous invocations are retried -----------------------------------------------
# AWS invokes a function asynchronously for an SNS notification or an EventBridge event, and
# retries a failed invocation twice (about one and two minutes later). moto runs an SNS
# subscriber inside the publisher's request and forgets its error, so a handler that must
# survive a failed first attempt (the inference callback after a throttled SendTaskSuccess)
# was never tried again. Here each such event runs in its own thread with two retries, after
# shorter delays than AWS's.

ASYNC_RETRY_DELAYS = (1.0, 2.0)
# (function name, event id, errored) of every asynchronous attempt, for the tests.
ASYNC_ATTEMPTS: deque[tuple[str, str, bool]] = deque(maxlen=10_000)


def _invoke_async(fn: LambdaFunction, event: Any, start: threading.Barrier | None = None) -> threading.Thread:
    event_id = str(uuid.uuid4())
    config = fn.event_invoke_config[0].config if fn.event_invoke_config else {}
    retries = int(config.get("MaximumRetryAttempts", 2))

    def attempts() -> None:
        if start is not None:
            start.wait(timeout=10)
        for delay in (0.0, *ASYNC_RETRY_DELAYS[:retries]):
            time.sleep(delay)
            payload, errored, _ = fn._invoke_lambda(event)
            ASYNC_ATTEMPTS.append((fn.function_name, event_id, errored))
            if not errored:
                return
        _on_failure(fn, config, event_id, event, payload, retries + 1)

    thread = threading.Thread(target=attempts, name=f"async-{fn.function_name}", daemon=True)
    thread.start()
    return thread


# moto stores a function's EventInvokeConfig and never acts on it. Lambda sends an event that
# failed its last attempt to the on-failure destination, in this record, with the function's
# role (which must allow sqs:SendMessage on the queue); without one the event is dropped.


def _on_failure(fn: LambdaFunction, config: dict, event_id: str, event: Any, response: str, attempts: int) -> None:
    destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if not destination:
        log.warning("%s failed an asynchronous event %d times; dropped (no destination)", fn.function_name, attempts)
        return
    if _role_allows is not None and not _role_allows(fn.role, "sqs:SendMessage", destination):
        log.warning("%s: its role may not send to %s; event dropped", fn.function_name, destination)
        return
    record = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": event_id,
            "functionArn": f"{fn.function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": json.loads(response),
    }
    _send_to_queue(destination, json.dumps(record, default=str))


_original_send_sns_message = LambdaBackend.send_sns_message


def _send_sns_message(
    self: LambdaBackend, function_name: str, message: str, subject: str | None = None, qualifier: str | None = None
) -> None:
    event = {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "Message": message,
                    "Subject": subject,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                },
            }
        ]
    }
    fn = self._lambdas.get_function_by_name_or_arn_with_qualifier(function_name, qualifier)
    global _sns_duplicates
    with _throttle_lock:
        twice = _sns_duplicates > 0
        if twice:
            _sns_duplicates -= 1
    if not twice:
        _invoke_async(fn, event)
        return
    # SNS delivers at least once: the same message, twice, at the same moment.
    start = threading.Barrier(2)
    for _ in range(2):
        _invoke_async(fn, event, start)


# --- Step Functions: "Execution Status Change" events --------------------------------------------
# AWS puts an event on the default bus whenever an execution changes status; the pipeline's
# backstop rule (FAILED, TIMED_OUT, ABORTED) depends on it. moto emits none. This emits the
# final ones, in the documented shape, when an execution ends.

STATUS_CHANGE = "Step Functions Execution Status Change"
_original_reflect_execution_status = BaseExecutionWorkerCommunication._reflect_execution_status


def _epoch_ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def _reflect_execution_status(self: BaseExecutionWorkerCommunication) -> None:
    _original_reflect_execution_status(self)
    execution = self.execution
    status = getattr(execution.exec_status, "value", execution.exec_status)
    if status not in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"):
        return
    from moto.events.models import events_backends

    output = execution.output if status == "SUCCEEDED" else None
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_ms(execution.start_date),
        "stopDate": _epoch_ms(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(output) if output is not None else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True},
        "error": execution.error,
        "cause": execution.cause,
    }
    try:
        events_backends[execution.account_id][execution.region_name].put_events(
            [
                {
                    "Source": "aws.states",
                    "DetailType": STATUS_CHANGE,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": [execution.exec_arn],
                }
            ]
        )
    except Exception:  # the execution's own end must not depend on its event
        log.exception("could not emit the status change of %s", execution.exec_arn)


# --- Step Functions: StopExecution aborts a waiting task ------------------------------------------
# AWS ends a stopped execution at once, as ABORTED. moto marks the program stopped but leaves a
# .waitForTaskToken task waiting until its timeout, whose error then overwrites the stop: the
# execution ends FAILED (States.Timeout) long after. Here a stop wakes the waiting tasks and an
# error that follows a stop leaves it stopped.

_original_set_stop = Environment.set_stop
_original_set_error = Environment.set_error


def _set_stop(self: Environment, stop_date: Any, cause: str | None, error: str | None) -> None:
    _original_set_stop(self, stop_date, cause, error)
    pool = getattr(getattr(self, "callback_pool_manager", None), "_pool", None) or {}
    for endpoint in list(pool.values()):
        endpoint.interrupt_all()


def _set_error(self: Environment, error: Any) -> None:
    if isinstance(self.program_state(), ProgramStopped):
        return
    _original_set_error(self, error)


# --- Step Functions: a fault switch for SendTaskSuccess -------------------------------------------
# Step Functions throttles SendTaskSuccess like any API; moto never does. The tests turn this on
# to show that a callback that meets throttling still resumes its task exactly once.

_throttle_lock = threading.Lock()
_send_task_success_throttles = 0
_sns_duplicates = 0
THROTTLED: deque[str] = deque(maxlen=1_000)  # the task tokens answered with ThrottlingException
_original_send_task_success = StepFunctionResponse.send_task_success


def throttle_send_task_success(times: int) -> None:
    """Answer the next `times` SendTaskSuccess calls with ThrottlingException."""
    global _send_task_success_throttles
    with _throttle_lock:
        _send_task_success_throttles = times


def duplicate_sns_deliveries(times: int) -> None:
    """Deliver each of the next `times` SNS messages to its Lambda subscriber twice, at once."""
    global _sns_duplicates
    with _throttle_lock:
        _sns_duplicates = times


# --- DynamoDB: a fault switch for UpdateItem ------------------------------------------------------
# Lets a test make one principal's updates of one table fail (AccessDeniedException, which no SDK
# retries, as a role missing a statement would), to show what the pipeline does when the state
# that records a visit's outcome cannot write.

# (table name, access key id) -> (failures left, error code)
_update_faults: dict[tuple[str, str], tuple[int, str]] = {}
_original_update_item = DynamoHandler.update_item
_FAULT_MESSAGES = {
    "AccessDeniedException": "Injected fault: this principal may not update the table.",
    "ProvisionedThroughputExceededException": "Injected fault: the request rate is too high (throttled).",
}


def fail_dynamodb_updates(table: str, access_key_id: str, times: int, code: str = "AccessDeniedException") -> None:
    """The next `times` UpdateItem calls on `table` signed with `access_key_id` fail with
    `code` (AccessDeniedException, or ProvisionedThroughputExceededException: a throttle)."""
    with _throttle_lock:
        _update_faults[(table, access_key_id)] = (times, code)


def _access_key_of(response: Any) -> str:
    auth = response.headers.get("Authorization") or ""
    marker = "Credential="
    return auth.split(marker, 1)[1].split("/", 1)[0] if marker in auth else ""


def _update_item(self: DynamoHandler) -> Any:
    body = self.body if isinstance(self.body, dict) else json.loads(self.body or "{}")
    key = (body.get("TableName") or "", _access_key_of(self))
    with _throttle_lock:
        left, code = _update_faults.get(key, (0, ""))
        if left > 0:
            _update_faults[key] = (left - 1, code)
    if left > 0:
        raise JsonRESTError(code, _FAULT_MESSAGES[code])
    return _original_update_item(self)


# --- S3: a slow copy ---------------------------------------------------------------------------
# S3 at times answers slowly (a 503 SlowDown retried by the SDK, or a large copy). A fault switch
# delays the next CopyObject calls, to test the inference callback's copy of a result.
_slow_copies: list[float] = []


def slow_s3_copies(seconds: float, times: int = 1) -> None:
    with _throttle_lock:
        _slow_copies[:] = [seconds] * times


def _copy_object(self: S3Response) -> Any:
    with _throttle_lock:
        delay = _slow_copies.pop(0) if _slow_copies else 0.0
    if delay:
        COPY_DELAYS.append(delay)
        time.sleep(delay)
    return ORIGINALS["S3Response.copy_object"](self)


COPY_DELAYS: list[float] = []  # what slow_s3_copies really delayed, for the tests


def clear_faults() -> None:
    throttle_send_task_success(0)
    duplicate_sns_deliveries(0)
    with _throttle_lock:
        _update_faults.clear()
        _slow_copies.clear()


def _send_task_success(self: StepFunctionResponse) -> Any:
    global _send_task_success_throttles
    with _throttle_lock:
        throttled = _send_task_success_throttles > 0
        if throttled:
            _send_task_success_throttles -= 1
    if throttled:
        THROTTLED.append(self._get_param("taskToken"))
        raise JsonRESTError("ThrottlingException", "Rate exceeded")
    with _answer_once(self._get_param("taskToken")):
        return _original_send_task_success(self)


# --- Step Functions: a task token answers once ----------------------------------------------------
# AWS refuses a second SendTaskSuccess or SendTaskFailure for a task that already has its answer
# (TaskTimedOut: the task does not exist any more). moto accepts it again and again, which
# would hide a callback that answers twice.

_answered: set[str | None] = set()
_answered_lock = threading.Lock()


@contextlib.contextmanager
def _answer_once(token: str | None) -> Any:
    with _answered_lock:  # taken before answering, so that of two answers at once one is refused
        if token in _answered:
            raise JsonRESTError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
        _answered.add(token)
    try:
        yield
    except BaseException:
        with _answered_lock:  # not accepted (unknown token, ...): nothing was answered
            _answered.discard(token)
        raise


# --- Step Functions: SendTaskFailure keeps its cause --------------------------------------------
# moto's response handler drops `cause`; the visit's readable reason travels in it.


def _send_task_failure(self: StepFunctionResponse) -> Any:
    from moto.core.responses import EmptyResult

    backend = self.stepfunction_backend
    if not isinstance(backend, StepFunctionsParserBackend):  # the local stack executes its state machines
        raise RuntimeError("SendTaskFailure needs moto's executing (parser) Step Functions backend")
    with _answer_once(self._get_param("taskToken")):
        backend.send_task_failure(
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
# Every task integration that calls a service (each imported boto_client_for by name): all of
# them call with the execution's role, not only the ones the pipeline uses today.
_TASK_CLIENT_MODULES = (
    lambda_eval_utils,
    state_task_service_dynamodb,
    state_task_service_sns,
    state_task_service_sqs,
    state_task_service_events,
    state_task_service_sfn,
)
_sfn_clients: dict[tuple, Any] = {}
_sfn_clients_lock = threading.Lock()


# A task calls services with the state machine's role (or the state's Credentials.RoleArn);
# moto signs them with a fixed dummy key. The local stack registers role ARN -> credentials.
_role_credentials: Callable[[str], dict[str, str]] | None = None


def set_role_credentials(credentials: Callable[[str], dict[str, str]]) -> None:
    global _role_credentials
    _role_credentials = credentials


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    role_arn = getattr(state_credentials, "role_arn", None)
    key = (region, service, boto_client.moto_server_port(), role_arn)
    with _sfn_clients_lock:
        if key not in _sfn_clients:
            client = _original_boto_client_for(region, service, state_credentials)
            if _role_credentials is not None and role_arn:
                import boto3

                creds = _role_credentials(role_arn)
                # The stubs type boto3.client per literal service name; this one is the task's.
                make: Callable[..., Any] = boto3.client
                client = make(
                    service,
                    region_name=region,
                    endpoint_url=client.meta.endpoint_url,
                    config=client.meta.config,
                    aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=creds.get("AWS_SESSION_TOKEN"),
                )
            _sfn_clients[key] = client
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


def set_face_detector(
    detector: Callable[[bytes], list[dict]] | None, s3_reader: Callable[[str, str], bytes] | None
) -> None:
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
        if _s3_reader is None:
            raise JsonRESTError("InvalidParameterException", "The local Rekognition reads no S3 objects (no stack).")
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

# Every patch: (owner, attribute, replacement). One list, so that what install() replaces and
# what ORIGINALS keeps for the canary tests never drift apart.
_PATCHES: list[tuple[Any, str, Any]] = [
    (LambdaFunction, "_invoke_lambda", _invoke_lambda),
    (Rule, "send_to_targets", _send_to_targets),
    (StepFunctionResponse, "send_task_failure", _send_task_failure),
    (StepFunctionResponse, "send_task_success", _send_task_success),
    (LambdaBackend, "send_sns_message", _send_sns_message),
    (DynamoHandler, "update_item", _update_item),
    (S3Response, "copy_object", _copy_object),
    (Environment, "set_stop", _set_stop),
    (Environment, "set_error", _set_error),
    (BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status),
    (StepFunctionsParserBackend, "_get_executions", _get_executions),
    (StateTaskServiceCallback, "_evaluate_with_timeout", _evaluate_with_timeout),
    *((module, "boto_client_for", _cached_boto_client_for) for module in _TASK_CLIENT_MODULES),
    (AmazonStateLanguageParser, "parse", staticmethod(_parse)),
    (DomainDispatcherApplication, "get_backend_for_host", _get_backend_for_host),
    (RekognitionResponse, "detect_faces", _detect_faces),  # moto has none (a canary says when it does)
    (SageMakerRuntimeResponse, "invoke_endpoint_async", _invoke_endpoint_async),
    *moto_iam_hooks.PATCHES,
]


def _patch_name(owner: Any, attribute: str) -> str:
    """ "Class.attribute", or "module.attribute" by the module's last name."""
    return f"{owner.__name__.rsplit('.', 1)[-1]}.{attribute}"


# What moto had before install(), for the canary tests (None: moto had nothing by that name).
ORIGINALS: dict[str, Any] = {
    _patch_name(owner, attribute): getattr(owner, attribute, None) for owner, attribute, _ in _PATCHES
}


def install() -> None:
    """Patch moto. Idempotent; the patches live for the rest of the process."""
    global _installed
    if _installed:
        return
    for owner, attribute, replacement in _PATCHES:
        setattr(owner, attribute, replacement)
    _installed = True


def add_to_path(directory: Path) -> None:
    """Layers are on a Lambda's sys.path; here they go on the process's."""
    path = str(Path(directory).resolve())
    if path not in sys.path:
        sys.path.insert(0, path)
