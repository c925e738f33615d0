"""SageMaker async endpoints, locally: the container's real model server on loopback.

For each InvokeEndpointAsync it reads the input object, POSTs it to the model server's
/invocations, writes the response to the endpoint config's S3 output (or failure) path, and
publishes the success or error notification to the config's SNS topics, as SageMaker does.

An endpoint can be cold, as one scaled to zero on AWS: it has no instance, requests wait in
its backlog, and it gets an instance `cold_seconds` after it is asked to scale out (by a
request arriving, as the HasBacklogWithoutCapacity alarm and step policy do on AWS, or by a
scalable target's minimum raised to 1 or more, as `gallery event warmup` does). Its
CurrentInstanceCount goes from 0 to 1 in moto's DescribeEndpoint, as Application Auto Scaling
reports it through UpdateEndpointWeightsAndCapacities on AWS."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import requests

from gallery.contracts import AsyncInferenceNotification
from gallery_local.iam_local import session_credentials

HANG = "hang"  # the endpoint never answers: the state machine's task times out
ERROR = "error"  # the model server answers 500
KILL = "kill"  # the model server process dies with this request in it


class EngineProcess:
    """containers/face/serve as a local process, as SageMaker runs the container."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> EngineProcess:
        serve = self.root / "containers" / "face" / "serve"
        self.proc = subprocess.Popen(
            [sys.executable, str(serve), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                said = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"The face engine exited: {said[-2000:]}")
            try:
                if requests.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("The face engine did not answer /ping in time.")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def kill(self) -> None:
        """SIGKILL, as an instance that dies: no clean shutdown, the request in flight is lost."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _s3_uri(uri: str) -> tuple[str, str]:
    u = urlparse(uri)
    return u.netloc, u.path.lstrip("/")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AsyncEndpoints:
    def __init__(
        self,
        aws_endpoint: str,
        engine_url: str,
        workers: int = 4,
        credentials: dict[str, str] | None = None,
        cold_seconds: float = 0,
        engine: EngineProcess | None = None,
    ) -> None:
        self.engine_url = engine_url
        self.cold_seconds, self.engine = cold_seconds, engine
        self._instances: dict[str, int] = {}
        self._backlog: dict[str, list[tuple]] = {}
        self._warming: dict[str, threading.Timer] = {}
        self._stopped = threading.Event()
        self.autoscaling = boto3.session.Session().client("application-autoscaling", endpoint_url=aws_endpoint)
        # The model's execution role reads the input, writes the output and notifies; the
        # service itself (this emulator) reads the endpoint's configuration.
        role = boto3.session.Session(**session_credentials(credentials))
        self.s3 = role.client("s3", endpoint_url=aws_endpoint)
        self.sns = role.client("sns", endpoint_url=aws_endpoint)
        self.sagemaker = boto3.session.Session().client("sagemaker", endpoint_url=aws_endpoint)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="endpoint")
        self.faults: dict[str, list[str]] = {}
        self.invocations: list[dict] = []
        self._lock = threading.Lock()
        self._configs: dict[str, Mapping[str, Any]] = {}

    def inject(self, endpoint_name: str, *faults: str) -> None:
        """Queue faults for the next invocations of one endpoint (HANG or ERROR)."""
        with self._lock:
            self.faults.setdefault(endpoint_name, []).extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _config(self, endpoint_name: str) -> Mapping[str, Any]:
        if endpoint_name not in self._configs:
            cfg_name = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
            self._configs[endpoint_name] = self.sagemaker.describe_endpoint_config(EndpointConfigName=cfg_name)[
                "AsyncInferenceConfig"
            ]
        return self._configs[endpoint_name]

    # ------------------------------------------------------------------ capacity
    def register(self, endpoint_name: str) -> None:
        """Start tracking an endpoint: cold (0 instances) when cold_seconds > 0, else warm."""
        with self._lock:
            self._instances[endpoint_name] = 0 if self.cold_seconds > 0 else 1
            self._backlog.setdefault(endpoint_name, [])
        self._report(endpoint_name)

    def instances(self, endpoint_name: str) -> int:
        with self._lock:
            return self._instances.get(endpoint_name, 1)

    def backlog(self, endpoint_name: str) -> int:
        with self._lock:
            return len(self._backlog.get(endpoint_name, []))

    def _report(self, endpoint_name: str) -> None:
        # What Application Auto Scaling does on AWS; moto then answers DescribeEndpoint with it.
        self.sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=endpoint_name,
            DesiredWeightsAndCapacities=[
                {"VariantName": "AllTraffic", "DesiredInstanceCount": self.instances(endpoint_name)}
            ],
        )

    def scale_out(self, endpoint_name: str) -> None:
        """Ask a cold endpoint for an instance; it is in service cold_seconds later."""
        with self._lock:
            if self._instances.get(endpoint_name, 1) > 0 or endpoint_name in self._warming:
                return
            timer = threading.Timer(self.cold_seconds, self._in_service, (endpoint_name,))
            timer.daemon = True
            self._warming[endpoint_name] = timer
        timer.start()

    def scale_in(self, endpoint_name: str) -> None:
        """Back to zero instances, as after a quiet spell (scale-in to the minimum of 0)."""
        with self._lock:
            self._instances[endpoint_name] = 0
        self._report(endpoint_name)

    def _in_service(self, endpoint_name: str) -> None:
        with self._lock:
            self._warming.pop(endpoint_name, None)
            if self._stopped.is_set():
                return
            self._instances[endpoint_name] = 1
            waiting, self._backlog[endpoint_name] = self._backlog.get(endpoint_name, []), []
        self._report(endpoint_name)
        for job in waiting:
            self.pool.submit(self._run, *job)

    def watch_scalable_targets(self, interval: float = 0.5) -> None:
        """Scale out an endpoint whose scalable target's minimum was raised (`gallery event warmup`
        calls RegisterScalableTarget; on AWS, Application Auto Scaling acts on it)."""

        def loop() -> None:
            while not self._stopped.wait(interval):
                try:
                    targets = self.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")
                except Exception:  # noqa: BLE001 - moto stopping under us at shutdown
                    continue
                for t in targets["ScalableTargets"]:
                    name = t["ResourceId"].split("/")[1]
                    if t["MinCapacity"] > 0 and name in self._instances:
                        self.scale_out(name)

        threading.Thread(target=loop, name="scalable-targets", daemon=True).start()

    def kill_engine(self, replace: bool = True) -> None:
        """Kill the model server (SIGKILL), as an instance that dies mid-inference. Like SageMaker
        replacing an unhealthy instance, a new one starts at once (replace=False: the caller
        starts it with `replace_engine`); the endpoints have no capacity (new requests wait in
        the backlog) until it answers /ping."""
        if self.engine is None:
            raise RuntimeError("The local stack was given an engine_url; it cannot kill that engine.")
        with self._lock:
            for name in self._instances:
                self._instances[name] = 0
        self.engine.kill()
        if replace:
            self.replace_engine()

    def replace_engine(self) -> None:
        engine = self.engine
        if engine is None:
            raise RuntimeError("The local stack was given an engine_url; it cannot replace that engine.")

        def replace() -> None:
            engine.start()
            for name in list(self._instances):
                self._in_service(name)

        threading.Thread(target=replace, name="engine-replacement", daemon=True).start()

    # ------------------------------------------------------------------ requests
    def invoke(self, endpoint_name: str, input_location: str, inference_id: str) -> tuple[str, str]:
        cfg = self._config(endpoint_name)
        output = f"{cfg['OutputConfig']['S3OutputPath'].rstrip('/')}/{inference_id}.out"
        failure = f"{cfg['OutputConfig']['S3FailurePath'].rstrip('/')}/{inference_id}-error.out"
        with self._lock:
            queue = self.faults.get(endpoint_name) or []
            fault = queue.pop(0) if queue else None
            self.invocations.append({"endpoint": endpoint_name, "inferenceId": inference_id, "fault": fault})
            job = (endpoint_name, cfg, input_location, inference_id, output, failure, fault)
            cold = self._instances.get(endpoint_name, 1) == 0
            if cold:
                # Queued until an instance is in service, as SageMaker async does at zero.
                self._backlog.setdefault(endpoint_name, []).append(job)
        if cold:
            self.scale_out(endpoint_name)
        else:
            self.pool.submit(self._run, *job)
        return output, failure

    def _run(
        self,
        endpoint: str,
        cfg: Mapping[str, Any],
        input_location: str,
        inference_id: str,
        output: str,
        failure: str,
        fault: str | None,
    ) -> None:
        if fault == HANG:
            return
        received = _now()
        try:
            if fault == ERROR:
                status, body, ctype = (
                    500,
                    json.dumps({"error": "InternalError", "message": "model crashed"}).encode(),
                    "application/json",
                )
            else:
                bucket, key = _s3_uri(input_location)
                payload = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                posted = time.perf_counter()
                if fault == KILL:
                    # The process dies with the request in it. Killed before it is sent rather
                    # than on a timer, which a fast engine can beat by answering first.
                    self.kill_engine(replace=False)
                try:
                    resp = requests.post(
                        f"{self.engine_url}/invocations",
                        data=payload,
                        headers={"Content-Type": "application/json", "Accept": "image/png"},
                        timeout=60,
                    )
                finally:
                    if fault == KILL:
                        self.replace_engine()
                status, body, ctype = resp.status_code, resp.content, resp.headers.get("Content-Type", "")
                # The model server's own time: decoding, the model, encoding the PNG.
                self._record(
                    inference_id,
                    engine_ms=json.loads(resp.headers.get("X-Engine-Timings") or "{}"),
                    request_ms=(time.perf_counter() - posted) * 1000,
                )
        except requests.RequestException as e:
            # The container went away with the request (killed, crashed, out of memory). AWS
            # documents only that a failed request is reported on the error topic with a
            # failureReason; the words below are ours.
            self._record(inference_id, lost=type(e).__name__)
            status, body, ctype = (
                500,
                json.dumps(
                    {"error": "InternalError", "message": "The model container stopped during the request."}
                ).encode(),
                "application/json",
            )
        notifications = cfg["OutputConfig"].get("NotificationConfig") or {}
        # What SageMaker publishes (contracts.AsyncInferenceNotification, which the callback reads).
        message: AsyncInferenceNotification = {
            "awsRegion": "us-east-1",
            "eventTime": _now(),
            "receivedTime": received,
            "invocationStatus": "Completed",
            "requestParameters": {"endpointName": endpoint, "inputLocation": input_location},
            "responseParameters": {"contentType": ctype},
            "inferenceId": inference_id,
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if status == 200:
            bucket, key = _s3_uri(output)
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
            message["responseParameters"]["outputLocation"] = output
            topic = notifications.get("SuccessTopic")
        else:
            bucket, key = _s3_uri(failure)
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
            kind = "client" if 400 <= status < 500 else "server"
            message["invocationStatus"] = "Failed"
            message["failureReason"] = (
                f"ClientError: Received {kind} error ({status}) from model. See the SageMaker Endpoint logs."
            )
            message["responseParameters"]["failureLocation"] = failure
            topic = notifications.get("ErrorTopic")
        if topic:
            self.sns.publish(TopicArn=topic, Message=json.dumps(message))

    def _record(self, inference_id: str, **fields: Any) -> None:
        with self._lock:
            for entry in self.invocations:
                if entry["inferenceId"] == inference_id:
                    entry.update(fields)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            for timer in self._warming.values():
                timer.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)
