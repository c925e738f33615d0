"""SageMaker async endpoints, locally: the container's real model server on loopback.

For each InvokeEndpointAsync it reads the input object, POSTs it to the model server's
/invocations, writes the response to the endpoint config's S3 output (or failure) path, and
publishes the success or error notification to the config's SNS topics, as SageMaker does."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import requests

from gallery_local.iam_local import session_credentials

HANG = "hang"  # the endpoint never answers: the state machine's task times out
ERROR = "error"  # the model server answers 500


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
                raise RuntimeError(f"The face engine exited: {self.proc.stderr.read().decode()[-2000:]}")
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


def _s3_uri(uri: str) -> tuple[str, str]:
    u = urlparse(uri)
    return u.netloc, u.path.lstrip("/")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AsyncEndpoints:
    def __init__(
        self, aws_endpoint: str, engine_url: str, workers: int = 4, credentials: dict[str, str] | None = None
    ) -> None:
        self.engine_url = engine_url
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
        self._configs: dict[str, dict] = {}

    def inject(self, endpoint_name: str, *faults: str) -> None:
        """Queue faults for the next invocations of one endpoint (HANG or ERROR)."""
        with self._lock:
            self.faults.setdefault(endpoint_name, []).extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _config(self, endpoint_name: str) -> dict:
        if endpoint_name not in self._configs:
            cfg_name = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
            self._configs[endpoint_name] = self.sagemaker.describe_endpoint_config(EndpointConfigName=cfg_name)[
                "AsyncInferenceConfig"
            ]
        return self._configs[endpoint_name]

    def invoke(self, endpoint_name: str, input_location: str, inference_id: str) -> tuple[str, str]:
        cfg = self._config(endpoint_name)
        output = f"{cfg['OutputConfig']['S3OutputPath'].rstrip('/')}/{inference_id}.out"
        failure = f"{cfg['OutputConfig']['S3FailurePath'].rstrip('/')}/{inference_id}-error.out"
        with self._lock:
            queue = self.faults.get(endpoint_name) or []
            fault = queue.pop(0) if queue else None
            self.invocations.append({"endpoint": endpoint_name, "inferenceId": inference_id, "fault": fault})
        self.pool.submit(self._run, endpoint_name, cfg, input_location, inference_id, output, failure, fault)
        return output, failure

    def _run(
        self,
        endpoint: str,
        cfg: dict,
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
                resp = requests.post(
                    f"{self.engine_url}/invocations",
                    data=payload,
                    headers={"Content-Type": "application/json", "Accept": "image/png"},
                    timeout=60,
                )
                status, body, ctype = resp.status_code, resp.content, resp.headers.get("Content-Type", "")
                # The model server's own time: decoding, the model, encoding the PNG.
                self._record(
                    inference_id,
                    engine_ms=json.loads(resp.headers.get("X-Engine-Timings") or "{}"),
                    request_ms=(time.perf_counter() - posted) * 1000,
                )
        except requests.RequestException as e:
            status, body, ctype = (
                500,
                json.dumps({"error": "InternalError", "message": str(e)}).encode(),
                "application/json",
            )
        notifications = cfg["OutputConfig"].get("NotificationConfig") or {}
        message: dict[str, Any] = {
            "awsRegion": "us-east-1",
            "eventTime": _now(),
            "receivedTime": received,
            "requestParameters": {"endpointName": endpoint, "inputLocation": input_location},
            "inferenceId": inference_id,
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if status == 200:
            bucket, key = _s3_uri(output)
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
            message.update(
                invocationStatus="Completed", responseParameters={"contentType": ctype, "outputLocation": output}
            )
            topic = notifications.get("SuccessTopic")
        else:
            bucket, key = _s3_uri(failure)
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
            kind = "client" if 400 <= status < 500 else "server"
            message.update(
                invocationStatus="Failed",
                failureReason=f"ClientError: Received {kind} error ({status}) from model. "
                "See the SageMaker Endpoint logs.",
                responseParameters={"contentType": ctype, "failureLocation": failure},
            )
            topic = notifications.get("ErrorTopic")
        if topic:
            self.sns.publish(TopicArn=topic, Message=json.dumps(message))

    def _record(self, inference_id: str, **fields: Any) -> None:
        with self._lock:
            for entry in self.invocations:
                if entry["inferenceId"] == inference_id:
                    entry.update(fields)

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
