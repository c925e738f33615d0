"""The sample events in events/ and the real handlers that consume them.

Every file in events/ must be valid JSON with the shape its consumer expects: the S3
"Object Created" event must pass the EventBridge rule in template.yaml, API events must
match the API routes and authorizers, SNS events must carry SageMaker async
notifications, and the state-machine payloads must be exactly what pipeline.asl.json
builds (checked by evaluating the ASL Parameters on a chain of states). The handlers
then run in-process on those events against moto (`mock_aws`), with the environment and
the tables that template.yaml declares.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gallery import display, keys, runtime, slack, visits
from gallery.errors import AlreadyClaimed
from tests.conftest import load_template
from tests.unit._functions import fresh_runtime, invoke, load_event
from tests.unit.conftest import create_table

ROOT = Path(__file__).resolve().parents[2]

EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"
TEMPLATE = load_template()
ASL_TEXT = (ROOT / "statemachine" / "pipeline.asl.json").read_text()

REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET = "past-life-gallery-dev-photobucket"
VISIT = "0123456789abcdef0123456789abcdef"
DISPLAY = "3"
UPLOAD_KEY = f"uploads/{DISPLAY}/{VISIT}.jpg"
SWAP_ENDPOINT = "SwapEndpoint-7hQ2mZk1YxWc"
RESTORE_ENDPOINT = "RestoreEndpoint-Pb4nR9sTdE3v"

# event file -> (function directory, template logical id); None: the state machine's input.
EVENT_FILES: dict[str, tuple[str | None, str]] = {
    "s3_object_created": (None, "PipelineStateMachine"),
    "create_visit": ("create_visit", "CreateVisitFunction"),
    "get_visit": ("get_visit", "GetVisitFunction"),
    "delete_visit": ("delete_visit", "DeleteVisitFunction"),
    "list_displays": ("list_displays", "ListDisplaysFunction"),
    "admin_list_visits": ("admin", "AdminFunction"),
    "admin_refresh_display": ("admin", "AdminFunction"),
    "catalog_admin_list": ("catalog_admin", "CatalogAdminFunction"),
    "catalog_admin_decide": ("catalog_admin", "CatalogAdminFunction"),
    "claim_visit": ("claim_visit", "ClaimVisitFunction"),
    "crop_face": ("crop_face", "CropFaceFunction"),
    "choose_portrait": ("choose_portrait", "ChoosePortraitFunction"),
    "invoke_endpoint": ("invoke_endpoint", "InvokeEndpointFunction"),
    "invoke_endpoint_restore": ("invoke_endpoint", "InvokeEndpointFunction"),
    "inference_callback_success": ("inference_callback", "InferenceCallbackFunction"),
    "inference_callback_error": ("inference_callback", "InferenceCallbackFunction"),
    "record_outcome_rejected": ("record_outcome", "RecordOutcomeFunction"),
    "record_outcome_failed": ("record_outcome", "RecordOutcomeFunction"),
    "publish_display_done": ("publish_display", "PublishDisplayFunction"),
    "publish_display_rejected": ("publish_display", "PublishDisplayFunction"),
    "notify_slack": ("notify_slack", "NotifySlackFunction"),
    "notify_slack_failed": ("notify_slack", "NotifySlackFunction"),
    "execution_ended": ("execution_ended", "ExecutionEndedFunction"),
    "alarm_to_slack": ("alarm_to_slack", "AlarmToSlackFunction"),
    "sweep_stuck_visits": ("sweep_stuck_visits", "SweepStuckVisitsFunction"),
    "catalog_generation_started": (None, "CatalogStateMachine"),
    "catalog_check_models": ("catalog_check_models", "CatalogCheckModelsFunction"),
    "catalog_generate": ("catalog_generate", "CatalogGenerateFunction"),
    "catalog_auto_review": ("catalog_auto_review", "CatalogAutoReviewFunction"),
}
API_EVENTS = ("create_visit", "get_visit", "delete_visit", "list_displays")


# ---------------------------------------------------------------- the template's environment and tables


def physical_name(logical_id: str) -> str:
    return BUCKET if logical_id == "PhotoBucket" else f"past-life-gallery-dev-{logical_id}-1A2B3C4D5E6F"


GET_ATT = {
    ("SwapEndpoint", "EndpointName"): SWAP_ENDPOINT,
    ("RestoreEndpoint", "EndpointName"): RESTORE_ENDPOINT,
    ("GraphQLApi", "GraphQLUrl"): "https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/graphql",
}
PARAMETER_VALUES = {
    "SlackWebhookSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:past-life-gallery/slack-AbCdEf",
}


def resolve(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    if "Ref" in value:
        name = value["Ref"]
        params = TEMPLATE["Parameters"]
        if name in params:
            return str(PARAMETER_VALUES.get(name, params[name].get("Default")))
        return physical_name(name)
    if "Fn::Sub" in value:  # "${Param}" references to parameters only
        return re.sub(r"\$\{(\w+)\}", lambda m: resolve({"Ref": m[1]}), value["Fn::Sub"])
    return GET_ATT[tuple(value["Fn::GetAtt"])]


ENVIRONMENT = {k: resolve(v) for k, v in TEMPLATE["Globals"]["Function"]["Environment"]["Variables"].items()}
TABLES = [logical for logical, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]


@dataclass
class Stack:
    """moto's S3 and DynamoDB with the template's bucket and tables (not the local stack)."""

    s3: Any
    ddb: Any

    def table(self, env_name: str) -> Any:
        return self.ddb.Table(ENVIRONMENT[env_name])

    def keys(self) -> set[str]:
        return {o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}

    def put_visit(self, visit_id: str = VISIT, status: str = "WAITING_FOR_PHOTO", **extra: Any) -> None:
        item = {
            "visitId": visit_id,
            "displayId": DISPLAY,
            "theme": "painting",
            "status": status,
            "consent": True,
            "consentAt": "2026-11-24T14:26:41.120Z",
            "createdAt": "2026-11-24T14:26:41.120Z",
            "expiresAt": int(time.time()) + 7 * 86400,
            **extra,
        }
        self.table("VISITS_TABLE").put_item(Item=item)


_SESSION: list[boto3.session.Session] = []


def session() -> boto3.session.Session:
    """One boto3 session for the tests' own clients: each mock_aws() resets boto3's default
    session, and loading the service models again for every test is slow."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session(region_name=REGION))
    return _SESSION[0]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    # Another suite runs a moto server and sets AWS_ENDPOINT_URL process-wide: not here.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {
        **ENVIRONMENT,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3, ddb = session().client("s3"), session().resource("dynamodb")
        s3.create_bucket(Bucket=BUCKET)
        for logical in TABLES:
            create_table(ddb, logical, physical_name(logical))
        yield Stack(s3, ddb)


@pytest.fixture(scope="module", autouse=True)
def _fresh_runtime_clients():
    """gallery.runtime caches clients per endpoint setting. Clients made here (after moto is
    imported, endpoint unset) work under every mock_aws() of this module, and building
    them once keeps the tests fast; none made elsewhere, with other credentials, is reused."""
    fresh_runtime()
    yield
    fresh_runtime()


def test_a_fresh_runtime_forgets_every_session_client_and_table(aws):
    # What gallery.runtime keeps between calls, all of which fresh_runtime forgets: a new cache
    # there fails here until fresh_runtime clears it too.
    kept = {
        name
        for name, value in vars(runtime).items()
        if not name.startswith("__") and (hasattr(value, "cache_clear") or isinstance(value, dict | threading.local))
    }
    assert kept == {"_session", "_client", "_tables"}
    s3, visit_table = runtime.client("s3"), runtime.table("VISITS_TABLE")
    assert runtime.client("s3") is s3 and runtime.table("VISITS_TABLE") is visit_table
    fresh_runtime()
    assert runtime.client("s3") is not s3 and runtime.table("VISITS_TABLE") is not visit_table


def body_of(response: dict) -> dict:
    return json.loads(response["body"])


# ---------------------------------------------------------------- every file, its shape


def test_every_event_file_is_listed_and_every_function_has_one():
    files = {p.stem for p in EVENTS.glob("*.json")}
    assert files == set(EVENT_FILES)
    function_dirs = {p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists()}
    assert {d for d, _ in EVENT_FILES.values() if d} == function_dirs
    for function_dir, logical_id in EVENT_FILES.values():
        resource = TEMPLATE["Resources"][logical_id]
        if function_dir:
            assert resource["Properties"]["CodeUri"] == f"functions/{function_dir}/"


@pytest.mark.parametrize("name", sorted(EVENT_FILES))
def test_event_is_a_json_object(name: str):
    event = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(event, dict) and event


def test_readme_lists_every_event_file():
    readme = (EVENTS / "README.md").read_text()
    for name, (_, logical_id) in EVENT_FILES.items():
        assert re.search(rf"`{name}\.json`\s*\|\s*`{logical_id}`", readme), name
    assert "sam local invoke" in readme


def _walk(node: Any, key: str | None = None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


VISIT_OBJECT = r"(uploads/\d+/|faces/|results/|inference/swaps/)\w+\.\w+"


def test_events_use_one_visit_and_one_bucket():
    for name in EVENT_FILES:
        event = load_event(name)
        values = list(_walk(event))
        if name.startswith("inference_callback"):
            values += list(_walk(json.loads(event["Records"][0]["Sns"]["Message"])))
        for key, value in values:
            if key == "visitId":
                assert value == VISIT, name
            if key in ("bucket", "name") and isinstance(value, str) and "bucket" in value:
                assert value == BUCKET, name
            if isinstance(value, str) and value.startswith("s3://"):
                assert value.startswith(f"s3://{BUCKET}/"), (name, value)
            if isinstance(value, str) and re.fullmatch(VISIT_OBJECT, value):
                assert VISIT in value, (name, value)


def test_s3_event_is_the_eventbridge_shape_and_passes_the_template_rule(aws: Stack):
    event = load_event("s3_object_created")
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    detail = event["detail"]
    assert set(detail) >= {"version", "bucket", "object", "request-id", "requester", "source-ip-address", "reason"}
    assert set(detail["object"]) >= {"key", "size", "etag", "sequencer"}
    assert detail["bucket"]["name"] == BUCKET and detail["reason"] == "PutObject"
    assert keys.parse_upload_key(detail["object"]["key"]) == (DISPLAY, VISIT)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])

    # The rule as template.yaml declares it, in moto's EventBridge, delivering to a queue.
    pattern = copy.deepcopy(TEMPLATE["Resources"]["PipelineStateMachine"]["Properties"]["Events"]["Upload"])
    pattern = pattern["Properties"]["Pattern"]
    pattern["detail"]["bucket"]["name"] = [resolve(pattern["detail"]["bucket"]["name"][0])]
    events, sqs = session().client("events"), session().client("sqs")
    queue = sqs.create_queue(QueueName="pipeline-starts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="upload", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="upload", Targets=[{"Id": "pipeline", "Arn": queue_arn}])

    def delivered(detail: dict) -> list[dict]:
        events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Resources": event["resources"],
                    "Detail": json.dumps(detail),
                }
            ]
        )
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for m in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    got = delivered(detail)
    assert len(got) == 1 and got[0]["detail"] == detail
    face = copy.deepcopy(detail)
    face["object"]["key"] = f"faces/{VISIT}.png"
    assert delivered(face) == []
    other_bucket = copy.deepcopy(detail)
    other_bucket["bucket"]["name"] = "someone-elses-bucket"
    assert delivered(other_bucket) == []


def _api_routes() -> dict[str, dict]:
    routes = {}
    for name in API_EVENTS:
        event = load_event(name)
        logical_id = EVENT_FILES[name][1]
        # A function may serve several routes (get_visit: tablet, owner, view): the sample's own.
        (api,) = [
            e
            for e in TEMPLATE["Resources"][logical_id]["Properties"]["Events"].values()
            if e["Type"] == "Api"
            and e["Properties"]["Path"] == event["resource"]
            and e["Properties"]["Method"] == event["httpMethod"]
        ]
        routes[name] = api["Properties"]
    return routes


@pytest.mark.parametrize("name", API_EVENTS)
def test_api_event_matches_its_route_and_authorizer(name: str):
    event = load_event(name)
    route = _api_routes()[name]
    assert event["resource"] == route["Path"] == event["requestContext"]["resourcePath"]
    assert event["httpMethod"] == route["Method"] == event["requestContext"]["httpMethod"]
    path = route["Path"]
    for param, value in (event["pathParameters"] or {}).items():
        path = path.replace("{" + param + "}", value)
    assert event["path"] == path and "{" not in path
    assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{path}"
    assert event["requestContext"]["stage"] == TEMPLATE["Parameters"]["Stage"]["Default"]
    assert event["isBase64Encoded"] is False
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    authorizer = route.get("Auth", {}).get("Authorizer", "TabletAuthorizer")
    if authorizer == "NONE":
        assert "authorizer" not in event["requestContext"]
        # Only the visitor's owner secret travels in Authorization on an unauthorised route.
        assert event["headers"].get("Authorization", "Owner ").startswith("Owner ")
    else:
        claims = event["requestContext"]["authorizer"]["claims"]
        assert claims["custom:displayId"] == DISPLAY and claims["token_use"] == "id"
        # The claims are those of the ID token sent in the Authorization header.
        payload = event["headers"]["Authorization"].split(".")[1]
        token = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert token["custom:displayId"] == claims["custom:displayId"] and token["sub"] == claims["sub"]
        assert re.fullmatch(rf"https://cognito-idp\.{REGION}\.amazonaws\.com/{REGION}_\w+", claims["iss"])
        assert claims["aud"] == token["aud"] and claims["token_use"] == token["token_use"]
    if name == "create_visit":
        assert json.loads(event["body"]) == {"theme": "painting", "consent": True, "language": "en"}
        assert event["headers"]["Content-Type"] == "application/json"
    else:
        assert event["body"] is None


@pytest.mark.parametrize(
    "name,status,topic",
    [
        ("inference_callback_success", "Completed", "InferenceSuccessTopic"),
        ("inference_callback_error", "Failed", "InferenceErrorTopic"),
    ],
)
def test_sns_events_carry_a_sagemaker_async_notification(name: str, status: str, topic: str):
    (record,) = load_event(name)["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    sns = record["Sns"]
    assert sns["Type"] == "Notification" and f":past-life-gallery-dev-{topic}-" in sns["TopicArn"]
    assert record["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")
    message = json.loads(sns["Message"])
    assert re.fullmatch(r"[0-9a-f]{32}-[0-9a-f]{16}", message["inferenceId"])  # as inference.invoke makes them
    assert message["invocationStatus"] == status
    assert message["eventSource"] == "aws:sagemaker" and message["eventName"] == "InferenceResult"
    assert message["requestParameters"]["endpointName"] == SWAP_ENDPOINT
    assert message["requestParameters"]["inputLocation"] == (
        f"s3://{BUCKET}/{keys.inference_input_key('swap', message['inferenceId'])}"
    )
    endpoint_config = TEMPLATE["Resources"]["SwapEndpointConfig"]["Properties"]["AsyncInferenceConfig"]["OutputConfig"]
    if status == "Completed":
        prefix = endpoint_config["S3OutputPath"]["Fn::Sub"].replace("${PhotoBucket}", BUCKET)
        assert message["responseParameters"]["outputLocation"].startswith(prefix)
    else:
        prefix = endpoint_config["S3FailurePath"]["Fn::Sub"].replace("${PhotoBucket}", BUCKET)
        assert message["responseParameters"]["failureLocation"].startswith(prefix)
        assert message["failureReason"]


def test_claim_visit_payload_key_is_a_tablet_upload():
    event = load_event("claim_visit")
    assert keys.parse_upload_key(event["key"]) == (DISPLAY, VISIT)
    assert event["bucket"] == BUCKET
    assert re.fullmatch(
        rf"arn:aws:states:{REGION}:{ACCOUNT}:execution:PipelineStateMachine-\w+:[\w-]+", event["executionArn"]
    )


# ---------------------------------------------------------------- the payloads pipeline.asl.json builds

SUBSTITUTIONS = {
    "SwapEndpointName": SWAP_ENDPOINT,
    "RestoreEndpointName": RESTORE_ENDPOINT,
    "VisitsTableName": ENVIRONMENT["VISITS_TABLE"],
    "InferenceTimeoutSeconds": "60",
}


def asl_states() -> dict[str, dict]:
    def sub(m: re.Match) -> str:
        name = m[1]
        if name.endswith("FunctionArn"):
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:past-life-gallery-dev-{name[:-3]}-1A2B3C4D5E6F"
        return SUBSTITUTIONS[name]

    definition = json.loads(re.sub(r"\$\{(\w+)\}", sub, ASL_TEXT))
    states: dict[str, dict] = {}

    def collect(container: dict) -> None:
        for name, state in container["States"].items():
            states[name] = state
            for branch in state.get("Branches", []):
                collect(branch)

    collect(definition)
    return states


def json_path(expr: str, data: Any, ctx: dict) -> Any:
    root, rest = (ctx, expr[2:]) if expr.startswith("$$") else (data, expr[1:])
    for part in filter(None, rest.split(".")):
        root = root[part]
    return root


def evaluate(expr: str, data: Any, ctx: dict) -> Any:
    m = re.fullmatch(r"States\.Format\('([^']*)',\s*(.+)\)", expr)
    if m:
        out = m[1]
        for arg in m[2].split(","):
            out = out.replace("{}", str(json_path(arg.strip(), data, ctx)), 1)
        return out
    m = re.fullmatch(r"States\.JsonMerge\((.+),\s*(\$[\w.]*),\s*false\)", expr)
    if m:  # a shallow merge: the second object's fields win
        return {**evaluate(m[1], data, ctx), **evaluate(m[2], data, ctx)}
    m = re.fullmatch(r"States\.StringToJson\('(.*)'\)", expr)
    if m:
        return json.loads(m[1])
    assert expr.startswith("$"), expr
    return json_path(expr, data, ctx)


def build(template: Any, data: Any, ctx: dict) -> Any:
    """The ASL Parameters / ResultSelector semantics this state machine uses."""
    if isinstance(template, dict):
        return {
            k[:-2] if k.endswith(".$") else k: evaluate(v, data, ctx) if k.endswith(".$") else build(v, data, ctx)
            for k, v in template.items()
        }
    if isinstance(template, list):
        return [build(v, data, ctx) for v in template]
    return template


def payload(state: dict, data: Any, ctx: dict) -> dict:
    assert state["Resource"].startswith("arn:aws:states:::lambda:invoke")
    return build(state["Parameters"]["Payload"], data, ctx)


def test_state_payloads_of_a_successful_visit_are_what_the_asl_builds(aws: Stack):
    states = asl_states()
    data = load_event("s3_object_created")
    claim = load_event("claim_visit")
    ctx = {"Execution": {"Id": claim["executionArn"]}}

    assert payload(states["ClaimVisit"], data, ctx) == claim
    aws.put_visit()
    claimed = invoke("claim_visit", claim)
    data["visit"] = build(states["ClaimVisit"]["ResultSelector"], {"Payload": claimed}, ctx)

    assert payload(states["CropFace"], data, ctx) == load_event("crop_face")
    choose = load_event("choose_portrait")
    data["face"] = build(states["CropFace"]["ResultSelector"], {"Payload": choose["face"]}, ctx)
    assert payload(states["ChoosePortrait"], data, ctx) == choose

    done = load_event("publish_display_done")
    portrait = {k: v for k, v in done["portrait"].items() if k != "ms"}
    aws.table("CATALOG_TABLE").put_item(
        Item={**portrait, "theme": "painting", "status": "APPROVED", "gender": "female", "ageBand": "adult"}
    )
    chosen = invoke("choose_portrait", choose)
    assert {k: v for k, v in chosen.items() if k != "ms"} == portrait and isinstance(chosen["ms"], int)
    chosen["ms"] = done["portrait"]["ms"]  # a measured time; the sample fixes it
    data[states["ChoosePortrait"]["ResultPath"][2:]] = build(
        states["ChoosePortrait"]["ResultSelector"], {"Payload": chosen}, ctx
    )
    # PortraitChosen merges the chosen portrait (over its defaults) into the state.
    assert states["ChoosePortrait"]["Next"] == "PortraitChosen"
    assert states["PortraitChosen"]["OutputPath"] == "$.state"
    data = build(states["PortraitChosen"]["Parameters"], data, ctx)["state"]

    swap = load_event("invoke_endpoint")
    assert payload(states["SwapFace"], data, {**ctx, "Task": {"Token": swap["taskToken"]}}) == swap
    # inference.callback's SendTaskSuccess output becomes the task's result.
    data["swap"] = {"key": swap["resultKey"], "ms": done["timings"]["swapMs"], "inferenceId": "9b1f0c4e" * 4}
    restore = load_event("invoke_endpoint_restore")
    assert payload(states["RestoreFace"], data, {**ctx, "Task": {"Token": restore["taskToken"]}}) == restore
    data["restore"] = {"key": restore["resultKey"], "ms": done["timings"]["restoreMs"], "inferenceId": "c4e8" * 8}

    assert payload(states["PublishDisplay"], data, ctx) == done
    assert payload(states["NotifySlack"], data, ctx) == load_event("notify_slack")


@pytest.mark.parametrize(
    "status,record,notify,notify_state",
    [
        ("REJECTED", "record_outcome_rejected", "publish_display_rejected", "PublishRejected"),
        ("FAILED", "record_outcome_failed", "notify_slack_failed", "AlertSlack"),
    ],
)
def test_state_payloads_of_an_unsuccessful_visit_are_what_the_asl_builds(
    aws: Stack, status: str, record: str, notify: str, notify_state: str
):
    states = asl_states()
    mark = states["MarkRejected" if status == "REJECTED" else "MarkFailed"]
    event = load_event(record)
    ctx = {"Execution": {"Id": event["executionArn"]}}
    data = {**load_event("s3_object_created"), "visit": load_event("crop_face")["visit"], "error": event["error"]}
    assert payload(mark, data, ctx) == event

    aws.put_visit(status="PROCESSING")
    outcome = invoke("record_outcome", event)
    data["outcome"] = {"ExecutedVersion": "$LATEST", "Payload": outcome, "StatusCode": 200}
    (choice,) = states["TellRejected" if status == "REJECTED" else "TellFailed"]["Choices"]
    assert json_path(choice["Variable"], data, ctx) is choice["BooleanEquals"] is True
    notify_input = json_path(states[choice["Next"]]["InputPath"], data, ctx)
    expected = load_event(notify)
    assert payload(states[notify_state], notify_input, ctx) == expected
    # Publish and Slack branches get the same payload.
    other = "PublishFailed" if notify_state == "AlertSlack" else None
    if other:
        assert payload(states[other], notify_input, ctx) == expected


def test_notification_payloads_make_a_tile_and_a_slack_message(aws: Stack):
    tile = display.tile(aws.s3, BUCKET, load_event("publish_display_done"))
    # Stored with the display's state, never returned (the Display type has no visitId).
    assert tile["status"] == "DONE" and tile["displayId"] == DISPLAY and tile["visitId"] == VISIT
    assert "imageUrl" not in tile and tile["title"] == "Lisa, Florence, 1503"  # no view link yet
    rejected = display.tile(aws.s3, BUCKET, load_event("publish_display_rejected"))
    assert rejected["reason"] == "Your face is too small in the picture. Please come closer."
    assert "imageUrl" not in rejected
    text = slack.message(load_event("notify_slack"))["text"]
    assert "Display 3" in text and "*DONE*" in text and "portrait: Lisa, Florence, 1503" in text
    assert "swapMs 6840" in text
    failed = slack.message(load_event("notify_slack_failed"))["text"]
    assert "*FAILED*" in failed and "error: InferenceFailed: ClientError" in failed


# ---------------------------------------------------------------- the API handlers


def test_create_visit_returns_a_presigned_post_for_its_own_upload_key(aws: Stack):
    before = int(time.time())
    response = invoke("create_visit", load_event("create_visit"))
    assert response["statusCode"] == 201, response
    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["*"]
    body = body_of(response)
    visit_id = body["visitId"]
    assert re.fullmatch(r"[0-9a-f]{32}", visit_id)
    assert body["status"] == "WAITING_FOR_PHOTO" and body["displayId"] == DISPLAY and body["theme"] == "painting"

    upload = body["upload"]
    assert upload["key"] == f"uploads/3/{visit_id}.jpg" == upload["fields"]["key"]
    assert BUCKET in upload["url"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"key": upload["key"]} in conditions and {"bucket": BUCKET} in conditions
    assert ["content-length-range", 1, 15 * 1024 * 1024] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert upload["maxBytes"] == 15 * 1024 * 1024

    item = aws.table("VISITS_TABLE").get_item(Key={"visitId": visit_id})["Item"]
    assert item["consent"] is True and item["consentAt"] == item["createdAt"]
    retention = int(ENVIRONMENT["RESULT_RETENTION_DAYS"]) * 86400
    assert before + retention <= item["expiresAt"] <= int(time.time()) + retention
    assert body["expiresAt"] == item["expiresAt"]


def test_presigned_upload_and_image_urls_use_sigv4(aws: Stack):
    upload = body_of(invoke("create_visit", load_event("create_visit")))["upload"]
    assert upload["fields"].get("x-amz-algorithm") == "AWS4-HMAC-SHA256"
    aws.put_visit(status="DONE", resultKey=f"results/{VISIT}.png")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in body_of(invoke("get_visit", load_event("get_visit")))["imageUrl"]


@pytest.mark.parametrize(
    "body,error",
    [
        ({"theme": "painting", "consent": False}, "ConsentMissing"),
        ({"theme": "painting"}, "ConsentMissing"),
        ({"theme": "cubism", "consent": True}, "BadRequest"),
        (["painting", True], "BadRequest"),
    ],
)
def test_create_visit_refuses_without_consent_or_with_an_unknown_theme(aws: Stack, body: Any, error: str):
    event = load_event("create_visit")
    event["body"] = json.dumps(body)
    response = invoke("create_visit", event)
    assert response["statusCode"] == 400, response
    assert body_of(response)["error"] == error
    assert aws.table("VISITS_TABLE").scan()["Count"] == 0


def test_create_visit_refuses_a_user_without_a_display(aws: Stack):
    event = load_event("create_visit")
    del event["requestContext"]["authorizer"]["claims"]["custom:displayId"]
    response = invoke("create_visit", event)
    assert response["statusCode"] == 400 and body_of(response)["error"] == "BadRequest"


def _with_visit(event: dict, visit_id: str) -> dict:
    event = copy.deepcopy(event)
    event["path"] = event["path"].replace(VISIT, visit_id)
    event["requestContext"]["path"] = event["requestContext"]["path"].replace(VISIT, visit_id)
    event["pathParameters"] = {"visitId": visit_id}
    return event


def test_get_visit_is_404_for_an_unknown_visit_and_200_after_create(aws: Stack):
    response = invoke("get_visit", load_event("get_visit"))
    assert response["statusCode"] == 404 and body_of(response)["error"] == "VisitNotFound"

    visit_id = body_of(invoke("create_visit", load_event("create_visit")))["visitId"]
    response = invoke("get_visit", _with_visit(load_event("get_visit"), visit_id))
    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["visitId"] == visit_id and body["status"] == "WAITING_FOR_PHOTO"
    assert "imageUrl" not in body and "consent" not in body


def test_get_visit_of_a_finished_visit_signs_the_result_and_hides_the_cause(aws: Stack):
    aws.put_visit(status="DONE", resultKey=f"results/{VISIT}.png", title="Lisa, Florence, 1503")
    body = body_of(invoke("get_visit", load_event("get_visit")))
    assert body["status"] == "DONE" and f"/results/{VISIT}.png" in body["imageUrl"] and "Signature=" in body["imageUrl"]
    aws.put_visit(status="FAILED", error="InferenceFailed", cause="Traceback ... /opt/python/gallery ...")
    body = body_of(invoke("get_visit", load_event("get_visit")))
    assert body["status"] == "FAILED" and body["error"] == "InferenceFailed" and "cause" not in body


def test_delete_visit_removes_the_objects_and_the_item(aws: Stack):
    created = body_of(invoke("create_visit", load_event("create_visit")))
    visit_id = created["visitId"]
    own = keys.visit_object_keys(DISPLAY, visit_id)
    other = keys.upload_key(DISPLAY, "f" * 32)
    for key in [*own, other]:
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    aws.table("DISPLAYS_TABLE").put_item(Item={"displayId": DISPLAY, "visitId": visit_id, "status": "DONE"})

    stranger = invoke("delete_visit", _with_visit(load_event("delete_visit"), visit_id))
    assert stranger["statusCode"] == 403 and aws.keys() == {*own, other}
    owner = load_event("delete_visit")
    owner["headers"]["Authorization"] = f"Owner {created['ownerSecret']}"
    response = invoke("delete_visit", _with_visit(owner, visit_id))
    assert response["statusCode"] == 200, response
    assert body_of(response) == {"deleted": True, "objects": 4, "displayCleared": True}
    assert aws.keys() == {other}
    assert "Item" not in aws.table("VISITS_TABLE").get_item(Key={"visitId": visit_id})
    assert "Item" not in aws.table("DISPLAYS_TABLE").get_item(Key={"displayId": DISPLAY})

    # Gone: the same answer for anyone, so it tells nobody whether the visit existed.
    again = invoke("delete_visit", _with_visit(load_event("delete_visit"), visit_id))
    assert again["statusCode"] == 200 and body_of(again)["deleted"] is True


def test_delete_visit_leaves_a_display_showing_someone_else(aws: Stack):
    event = load_event("delete_visit")
    aws.put_visit(ownerHash=visits.secret_hash(event["headers"]["Authorization"].split(" ", 1)[1]))
    aws.table("DISPLAYS_TABLE").put_item(Item={"displayId": DISPLAY, "visitId": "e" * 32, "status": "DONE"})
    body = body_of(invoke("delete_visit", event))
    assert body["displayCleared"] is False
    assert aws.table("DISPLAYS_TABLE").get_item(Key={"displayId": DISPLAY})["Item"]["visitId"] == "e" * 32


def test_list_displays_orders_displays_and_signs_done_images(aws: Stack):
    displays = aws.table("DISPLAYS_TABLE")
    displays.put_item(Item={"displayId": "10", "status": "DEFAULT"})
    token = "T" * 32
    until = int(time.time()) + 600
    displays.put_item(
        Item={"displayId": DISPLAY, "visitId": VISIT, "status": "DONE", "viewToken": token, "viewExpiresAt": until}
    )
    displays.put_item(Item={"displayId": "1", "status": "REJECTED", "visitId": "a" * 32})
    response = invoke("list_displays", load_event("list_displays"))
    assert response["statusCode"] == 200
    got = body_of(response)["displays"]
    assert [d["displayId"] for d in got] == ["1", "3", "10"]
    assert f"/wall/{token}.png" in got[1]["imageUrl"] and got[1]["viewToken"] == token
    assert "imageUrl" not in got[0] and "imageUrl" not in got[2]
    # The public list never names a visit.
    assert VISIT not in json.dumps(got) and "a" * 32 not in json.dumps(got)


# ---------------------------------------------------------------- the pipeline handlers


def test_claim_visit_claims_once(aws: Stack):
    aws.put_visit()
    event = load_event("claim_visit")
    assert invoke("claim_visit", event) == {
        "visitId": VISIT,
        "displayId": DISPLAY,
        "theme": "painting",
        "bucket": BUCKET,
        "key": UPLOAD_KEY,
    }
    item = aws.table("VISITS_TABLE").get_item(Key={"visitId": VISIT})["Item"]
    assert item["status"] == "PROCESSING" and item["executionArn"] == event["executionArn"]
    with pytest.raises(AlreadyClaimed):
        invoke("claim_visit", event)


def test_claim_visit_of_an_unknown_visit_is_not_accepted(aws: Stack):
    from gallery.errors import VisitNotFound

    with pytest.raises(VisitNotFound):
        invoke("claim_visit", load_event("claim_visit"))


def test_record_outcome_rejected_deletes_the_upload_and_the_face(aws: Stack):
    aws.put_visit(status="PROCESSING")
    for key in (UPLOAD_KEY, keys.face_key(VISIT)):
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"jpeg")
    result = invoke("record_outcome", load_event("record_outcome_rejected"))
    assert result["recorded"] is True and result["status"] == "REJECTED"
    assert result["reason"] == "FaceTooSmall"
    assert result["message"] == "Your face is too small in the picture. Please come closer."
    assert aws.keys() == set()
    item = aws.table("VISITS_TABLE").get_item(Key={"visitId": VISIT})["Item"]
    assert item["status"] == "REJECTED" and item["reason"] == "FaceTooSmall" and "cause" not in item


def test_record_outcome_failed_keeps_the_upload_and_records_the_cause(aws: Stack):
    aws.put_visit(status="PROCESSING")
    aws.s3.put_object(Bucket=BUCKET, Key=UPLOAD_KEY, Body=b"jpeg")
    event = load_event("record_outcome_failed")
    result = invoke("record_outcome", event)
    assert result["recorded"] is True and result["status"] == "FAILED" and result["reason"] == "InferenceFailed"
    assert aws.keys() == {UPLOAD_KEY}
    item = aws.table("VISITS_TABLE").get_item(Key={"visitId": VISIT})["Item"]
    assert item["status"] == "FAILED" and item["error"] == "InferenceFailed"
    assert item["cause"] == event["error"]["Cause"]


def test_record_outcome_never_overwrites_a_result(aws: Stack):
    aws.put_visit(status="DONE", resultKey=f"results/{VISIT}.png")
    result = invoke("record_outcome", load_event("record_outcome_failed"))
    assert result["recorded"] is False
    assert aws.table("VISITS_TABLE").get_item(Key={"visitId": VISIT})["Item"]["status"] == "DONE"


def test_invoke_endpoint_stores_the_token_and_starts_the_inference(aws: Stack):
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    event = load_event("invoke_endpoint")
    for name, key in event["inputs"].items():
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=name.encode())
    inference_id = invoke("invoke_endpoint", event)["inferenceId"]
    token = aws.table("TOKENS_TABLE").get_item(Key={"inferenceId": inference_id})["Item"]
    assert token["taskToken"] == event["taskToken"] and token["resultKey"] == event["resultKey"]
    assert token["inputKey"] == f"inference/in/swap/{inference_id}.json"
    request = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=token["inputKey"])["Body"].read())
    assert request["task"] == "swap" and request["theme"] == "painting"
    assert base64.b64decode(request["face"]) == b"face" and base64.b64decode(request["portrait"]) == b"portrait"
    calls = sagemakerruntime_backends[ACCOUNT][REGION].async_results
    assert f"s3://{BUCKET}/{token['inputKey']}" in calls[SWAP_ENDPOINT]


def _waiting_token(aws: Stack, message: dict) -> dict:
    aws.put_visit(status="PROCESSING")  # the callback writes only for a visit being processed
    input_key = f"inference/in/swap/{message['inferenceId']}.json"
    aws.s3.put_object(Bucket=BUCKET, Key=input_key, Body=b"{}")
    token = {
        "inferenceId": message["inferenceId"],
        "taskToken": load_event("invoke_endpoint")["taskToken"],
        "visitId": VISIT,
        "task": "swap",
        "resultKey": f"inference/swaps/{VISIT}.png",
        "inputKey": input_key,
        "startedAtMs": int(time.time() * 1000) - 6840,
        "expiresAt": int(time.time()) + 86400,
    }
    aws.table("TOKENS_TABLE").put_item(Item=token)
    return token


def test_inference_callback_success_copies_the_output_to_the_result_key(aws: Stack):
    event = load_event("inference_callback_success")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    token = _waiting_token(aws, message)
    output_key = message["responseParameters"]["outputLocation"].split(f"s3://{BUCKET}/", 1)[1]
    aws.s3.put_object(Bucket=BUCKET, Key=output_key, Body=b"\x89PNG result")

    assert invoke("inference_callback", event) == {
        "results": [{"inferenceId": message["inferenceId"], "outcome": "success"}]
    }
    assert aws.keys() == {token["resultKey"]}
    result = aws.s3.get_object(Bucket=BUCKET, Key=token["resultKey"])
    assert result["Body"].read() == b"\x89PNG result" and result["ContentType"] == "image/png"
    assert "Item" not in aws.table("TOKENS_TABLE").get_item(Key={"inferenceId": message["inferenceId"]})
    # SNS delivers at least once: the duplicate finds no waiting task.
    assert invoke("inference_callback", event)["results"][0]["outcome"] == "ignored"


def test_inference_callback_error_keeps_the_engines_refusal(aws: Stack):
    event = load_event("inference_callback_error")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    _waiting_token(aws, message)
    failure_key = message["responseParameters"]["failureLocation"].split(f"s3://{BUCKET}/", 1)[1]
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=failure_key,
        Body=json.dumps({"error": "FaceNotFrontal", "message": "Please look straight at the camera."}),
    )
    assert invoke("inference_callback", event) == {
        "results": [{"inferenceId": message["inferenceId"], "outcome": "failure", "error": "FaceNotFrontal"}]
    }


# ---------------------------------------------------------------- the catalog review API


def _catalog_items(aws: Stack) -> list[dict]:
    decide = json.loads(load_event("catalog_admin_decide")["body"])
    items = [
        {"theme": "painting", "portraitId": pid, "status": "PENDING_REVIEW", "gender": "female", "ageBand": "adult"}
        for pid in decide["portraitIds"]
    ]
    items[0].update(key=f"catalog/painting/{items[0]['portraitId']}.png", audioKo="catalog/painting/x.ko.mp3")
    for item in items:
        aws.table("CATALOG_TABLE").put_item(Item=item)
    return items


def test_catalog_admin_list_signs_images_and_audio_and_counts(aws: Stack):
    first, second = _catalog_items(aws)
    response = invoke("catalog_admin", load_event("catalog_admin_list"))
    assert response["statusCode"] == 200, response
    body = body_of(response)
    assert [i["portraitId"] for i in body["items"]] == [first["portraitId"], second["portraitId"]]
    assert f"/{first['key']}?" in body["items"][0]["imageUrl"] and "X-Amz-Signature" in body["items"][0]["imageUrl"]
    assert "/catalog/painting/x.ko.mp3?" in body["items"][0]["audioKoUrl"] and "audioEnUrl" not in body["items"][0]
    assert "imageUrl" not in body["items"][1]
    assert body["counts"]["painting"]["status"]["PENDING_REVIEW"] == 2 and body["counts"]["travel"]["total"] == 0


def test_catalog_admin_decide_records_the_operator_and_the_reason(aws: Stack):
    _catalog_items(aws)
    event = load_event("catalog_admin_decide")
    response = invoke("catalog_admin", event)
    assert response["statusCode"] == 200, response
    decided = body_of(response)["decided"]
    assert {d["status"] for d in decided} == {"REJECTED"} and len(decided) == 2
    for pid in json.loads(event["body"])["portraitIds"]:
        item = aws.table("CATALOG_TABLE").get_item(Key={"theme": "painting", "portraitId": pid})["Item"]
        assert item["reviewReason"] == "Hands drawn badly" and item["reviewedBy"] == "operator"
    assert body_of(response)["counts"]["painting"]["status"]["REJECTED"] == 2


def test_catalog_admin_refuses_a_token_outside_the_operators_group(aws: Stack):
    _catalog_items(aws)
    for name in ("catalog_admin_list", "catalog_admin_decide"):
        event = load_event(name)
        event["requestContext"]["authorizer"]["claims"].pop("cognito:groups")
        response = invoke("catalog_admin", event)
        assert response["statusCode"] == 403 and body_of(response)["error"] == "Forbidden"
    statuses = {i["status"] for i in aws.table("CATALOG_TABLE").scan()["Items"]}
    assert statuses == {"PENDING_REVIEW"}
