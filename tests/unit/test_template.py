"""Offline checks of template.yaml and the state machine it deploys.

Nothing here can deploy, so the template must be right by construction:
`sam validate --lint`, cfn-lint (on the template and on SAM's transform of
it), statelint on the ASL with realistic substitutions, and structural
assertions about what the design depends on.

`make setup` creates both virtual environments: `.venv` (cfn-lint, statelint)
and `.sam-venv` (SAM CLI, which pins an older boto3 than the project).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gallery.sweeper import STATUS_INDEX
from gallery.visits import DISPLAY_INDEX, VIEW_INDEX
from tests.conftest import TEMPLATE, load_template

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
SAM_VENV_BIN = ROOT / ".sam-venv" / "bin"
REGION = "eu-west-1"
ACCOUNT = "123456789012"

FUNCTIONS = {
    "CreateVisitFunction": "create_visit",
    "ClaimVisitFunction": "claim_visit",
    "CropFaceFunction": "crop_face",
    "ChoosePortraitFunction": "choose_portrait",
    "InvokeEndpointFunction": "invoke_endpoint",
    "InferenceCallbackFunction": "inference_callback",
    "RecordOutcomeFunction": "record_outcome",
    "PublishDisplayFunction": "publish_display",
    "NotifySlackFunction": "notify_slack",
    "GetVisitFunction": "get_visit",
    "DeleteVisitFunction": "delete_visit",
    "ListDisplaysFunction": "list_displays",
    "AdminFunction": "admin",
    "CatalogAdminFunction": "catalog_admin",
    "ExecutionEndedFunction": "execution_ended",
    "AlarmToSlackFunction": "alarm_to_slack",
    "CatalogCheckModelsFunction": "catalog_check_models",
    "CatalogGenerateFunction": "catalog_generate",
    "CatalogAutoReviewFunction": "catalog_auto_review",
    "SweepStuckVisitsFunction": "sweep_stuck_visits",
}

SHARED_ENV = {
    "VISITS_TABLE": {"Ref": "VisitsTable"},
    "CATALOG_TABLE": {"Ref": "CatalogTable"},
    "TOKENS_TABLE": {"Ref": "TokensTable"},
    "DISPLAYS_TABLE": {"Ref": "DisplaysTable"},
    "PHOTO_BUCKET": {"Ref": "PhotoBucket"},
    "CATALOG_IMAGE_MODEL": {"Ref": "CatalogImageModelId"},
    "CATALOG_TEXT_MODEL": {"Fn::Sub": "${CatalogTextInferenceProfile}.${CatalogTextModelId}"},
    "SWAP_ENDPOINT": {"Fn::GetAtt": ["SwapEndpoint", "EndpointName"]},
    "RESTORE_ENDPOINT": {"Fn::GetAtt": ["RestoreEndpoint", "EndpointName"]},
    "GRAPHQL_URL": {"Fn::GetAtt": ["GraphQLApi", "GraphQLUrl"]},
    "SLACK_WEBHOOK_SECRET_ARN": {"Ref": "SlackWebhookSecretArn"},
    "RESULT_RETENTION_DAYS": {"Ref": "ResultRetentionDays"},
    "STAGE": {"Ref": "Stage"},
    "POWERTOOLS_SERVICE_NAME": "gallery",
    "POWERTOOLS_METRICS_NAMESPACE": "PastLifeGallery",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "LOG_LEVEL": "INFO",
}

# Each state machine's DefinitionSubstitutions: the contract between template and definition.
CATALOG_SUBSTITUTION_KEYS = {
    "CatalogCheckModelsFunctionArn",
    "CatalogGenerateFunctionArn",
    "CatalogAutoReviewFunctionArn",
    "CatalogTableName",
}
SUBSTITUTION_KEYS = {
    "ClaimVisitFunctionArn",
    "CropFaceFunctionArn",
    "ChoosePortraitFunctionArn",
    "InvokeEndpointFunctionArn",
    "RecordOutcomeFunctionArn",
    "PublishDisplayFunctionArn",
    "NotifySlackFunctionArn",
    "VisitsTableName",
    "SwapEndpointName",
    "RestoreEndpointName",
    "InferenceTimeoutSeconds",
}

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------- helpers


def offline_env(tmp_path: Path) -> dict[str, str]:
    """Environment for SAM CLI and cfn-lint: a region, no telemetry, a throwaway HOME,
    and no credentials, so that nothing can reach AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        SAM_CLI_TELEMETRY="0",
        SAM_CLI_POLL_DELAY="0",
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
    )
    return env


def tool(venv_bin: Path, name: str) -> Path:
    path = venv_bin / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` (it creates .venv and .sam-venv).")
    return path


def run(cmd: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def resources(template: dict) -> dict:
    return template["Resources"]


STATE_MACHINES = {
    "PipelineStateMachine": ("statemachine/pipeline.asl.json", SUBSTITUTION_KEYS),
    "CatalogStateMachine": ("statemachine/catalog.asl.json", CATALOG_SUBSTITUTION_KEYS),
}


@pytest.fixture(scope="module", params=list(STATE_MACHINES))
def state_machine(request: pytest.FixtureRequest, resources: dict) -> dict:
    return resources[request.param]["Properties"]


def test_every_state_machine_is_checked(resources: dict) -> None:
    assert set(of_type(resources, "AWS::Serverless::StateMachine")) == set(STATE_MACHINES)


@pytest.fixture(scope="module")
def asl_text(state_machine: dict) -> str:
    path = ROOT / state_machine["DefinitionUri"]
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} does not exist yet (it is written separately)")
    return path.read_text()


def of_type(resources: dict, type_: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == type_}


# ---------------------------------------------------------------- linters


def test_sam_validate_lint(tmp_path: Path) -> None:
    sam = tool(SAM_VENV_BIN, "sam")
    proc = run([str(sam), "validate", "--lint", "--template-file", str(TEMPLATE)], offline_env(tmp_path))
    assert proc.returncode == 0, f"sam validate --lint failed:\n{proc.stdout}\n{proc.stderr}"


def test_cfn_lint_template(tmp_path: Path) -> None:
    cfn_lint = tool(VENV_BIN, "cfn-lint")
    proc = run([str(cfn_lint), "--", str(TEMPLATE)], offline_env(tmp_path))
    assert proc.returncode == 0, f"cfn-lint reported problems:\n{proc.stdout}\n{proc.stderr}"


TRANSFORM_SCRIPT = textwrap.dedent(
    """
    import sys
    from samcli.yamlhelper import yaml_parse
    from samcli.lib.translate.sam_template_validator import SamTemplateValidator

    class NoManagedPoliciesByName:
        def load(self):
            raise SystemExit("the template names a managed policy by name; use an ARN or a policy template")

    sam_template = yaml_parse(open(sys.argv[1]).read())
    out = SamTemplateValidator(sam_template, NoManagedPoliciesByName(), region=sys.argv[3])
    open(sys.argv[2], "w").write(out.get_translated_template_if_valid())
    """
)


@pytest.fixture(scope="module")
def transformed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template after SAM's transform, as CloudFormation would receive it."""
    tmp = tmp_path_factory.mktemp("sam")
    python = tool(SAM_VENV_BIN, "python")
    out = tmp / "transformed.yaml"
    proc = run(
        [str(python), "-c", TRANSFORM_SCRIPT, str(TEMPLATE), str(out), REGION],
        offline_env(tmp),
    )
    assert proc.returncode == 0, f"SAM transform failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_cfn_lint_transformed_template(transformed: Path, tmp_path: Path) -> None:
    """cfn-lint checks SAM resources against SAM's schema but does not expand them; this
    lints the generated roles, permissions, rules and stages too (bad Refs inside policy
    templates, dependency cycles). W3002 is ignored: local artifact paths such as
    appsync/schema.graphql are what `sam package`/`sam deploy` upload."""
    cfn_lint = tool(VENV_BIN, "cfn-lint")
    proc = run([str(cfn_lint), "--ignore-checks", "W3002", "--", str(transformed)], offline_env(tmp_path))
    assert proc.returncode == 0, f"cfn-lint on the transformed template:\n{proc.stdout}\n{proc.stderr}"


def test_no_full_access_managed_policies(template: dict, transformed: Path) -> None:
    for text, where in ((json.dumps(template), "template.yaml"), (transformed.read_text(), "transformed template")):
        assert "FullAccess" not in text, f"a *FullAccess policy appears in the {where}"


# ---------------------------------------------------------------- state machine


def realistic_value(key: str, value: Any, template: dict) -> str:
    """A value like the one CloudFormation substitutes for one DefinitionSubstitutions entry."""
    resources, parameters = template["Resources"], template.get("Parameters", {})
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attribute = value["Fn::GetAtt"]
        type_ = resources[target]["Type"]
        if type_ == "AWS::Serverless::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:past-life-gallery-dev-{target}-AbC123dEf456"
        if type_ == "AWS::SageMaker::Endpoint" and attribute == "EndpointName":
            return f"{target}-AbC123dEf456"
    if isinstance(value, dict) and "Ref" in value:
        target = value["Ref"]
        if target in parameters:
            return str(parameters[target]["Default"])
        if resources[target]["Type"] == "AWS::DynamoDB::Table":
            return f"past-life-gallery-dev-{target}-AbC123dEf456"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise AssertionError(f"no realistic value known for substitution {key}: {value!r}; extend this test")


def test_definition_substitutions_are_the_contract(state_machine: dict) -> None:
    uri, keys = next(v for v in STATE_MACHINES.values() if v[0] == state_machine["DefinitionUri"])
    assert set(state_machine["DefinitionSubstitutions"]) == keys


def test_asl_placeholders_match_substitutions(state_machine: dict, asl_text: str) -> None:
    used = set(PLACEHOLDER.findall(asl_text))
    keys = set(state_machine["DefinitionSubstitutions"])
    assert not used - keys, f"placeholders in the ASL with no DefinitionSubstitutions entry: {sorted(used - keys)}"
    assert not keys - used, f"DefinitionSubstitutions keys the ASL never uses: {sorted(keys - used)}"


def test_statelint_with_substitutions(template: dict, state_machine: dict, asl_text: str, tmp_path: Path) -> None:
    statelint = tool(VENV_BIN, "statelint")
    subs = {k: realistic_value(k, v, template) for k, v in state_machine["DefinitionSubstitutions"].items()}

    def substitute(m: re.Match) -> str:
        assert m[1] in subs, f"unknown placeholder ${{{m[1]}}} in the ASL"
        return subs[m[1]]

    definition = PLACEHOLDER.sub(substitute, asl_text)
    parsed = json.loads(definition)  # must be JSON once substituted
    assert "StartAt" in parsed and "States" in parsed
    path = tmp_path / Path(state_machine["DefinitionUri"]).name
    path.write_text(definition)
    proc = run([str(statelint), str(path)], offline_env(tmp_path), timeout=60)
    assert proc.returncode == 0, f"statelint:\n{proc.stdout}\n{proc.stderr}"


def test_state_machine_shape(state_machine: dict, resources: dict) -> None:
    assert state_machine["Type"] == "STANDARD"
    assert state_machine["DefinitionUri"] in {uri for uri, _ in STATE_MACHINES.values()}
    assert state_machine["Tracing"]["Enabled"] is True
    logging = state_machine["Logging"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    invoked = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in state_machine["Policies"] if "LambdaInvokePolicy" in p
    }
    subs = state_machine["DefinitionSubstitutions"]
    called = {v["Fn::GetAtt"][0] for k, v in subs.items() if k.endswith("FunctionArn")}
    assert invoked == called, "the state machine may invoke exactly the functions its definition calls"


def test_upload_rule_targets_uploads_prefix(resources: dict) -> None:
    events = resources["PipelineStateMachine"]["Properties"]["Events"]
    assert list(events) == ["Upload"]
    assert events["Upload"]["Type"] == "EventBridgeRule"
    pattern = events["Upload"]["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "PhotoBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]


# ---------------------------------------------------------------- functions and layer


def test_functions_code_and_shared_environment(template: dict, resources: dict) -> None:
    functions = of_type(resources, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTIONS)
    for name, directory in FUNCTIONS.items():
        code_uri = functions[name]["Properties"]["CodeUri"]
        assert code_uri == f"functions/{directory}/"
        assert (ROOT / code_uri).is_dir(), f"{name}: CodeUri {code_uri} does not exist"
        assert (ROOT / code_uri / "app.py").is_file(), f"{name}: {code_uri}app.py (Handler app.handler) is missing"
        props = functions[name]["Properties"]
        assert "Environment" not in props, f"{name} must use only the shared Globals environment"
        assert props.get("Policies"), f"{name} has no least-privilege policies"
    globals_ = template["Globals"]["Function"]
    assert globals_["Environment"]["Variables"] == SHARED_ENV
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Handler"] == "app.handler"
    assert globals_["Layers"] == [{"Ref": "GalleryLayer"}]


def test_layer_builds_with_makefile(resources: dict) -> None:
    layer = resources["GalleryLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    content = ROOT / layer["Properties"]["ContentUri"]
    makefile = (content / "Makefile").read_text()
    assert re.search(r"^build-GalleryLayer:", makefile, re.M)
    assert "--only-binary=:all:" in makefile and "manylinux2014_x86_64" in makefile
    for line in (content / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), f"not an exact pin: {line}"


def test_api_routes_and_authorizers(resources: dict) -> None:
    routes = {}
    for name, fn in of_type(resources, "AWS::Serverless::Function").items():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                p = event["Properties"]
                assert p["RestApiId"] == {"Ref": "GalleryApi"}
                routes[(p["Method"].upper(), p["Path"])] = (name, p.get("Auth", {}).get("Authorizer"))
    assert routes == {
        ("POST", "/visits"): ("CreateVisitFunction", "TabletAuthorizer"),
        # A tablet follows its own visit: Cognito, and the handler checks the display.
        ("GET", "/visits/{visitId}"): ("GetVisitFunction", "TabletAuthorizer"),
        # The visitor's owner secret (Authorization: Owner <secret>) is checked by the handler.
        ("GET", "/visits/{visitId}/owner"): ("GetVisitFunction", "NONE"),
        ("DELETE", "/visits/{visitId}"): ("DeleteVisitFunction", "NONE"),
        # The wall's QR code: public, but it names an expiring view token, never a visit.
        ("GET", "/views/{viewToken}"): ("GetVisitFunction", "NONE"),
        ("GET", "/displays"): ("ListDisplaysFunction", "NONE"),
        # Operators only: the authorizer admits the pool, the handler the "operators" group.
        ("GET", "/visits"): ("AdminFunction", "TabletAuthorizer"),
        ("POST", "/displays/{displayId}/refresh"): ("AdminFunction", "TabletAuthorizer"),
        ("GET", "/admin/catalog"): ("CatalogAdminFunction", "TabletAuthorizer"),
        ("POST", "/admin/catalog/decisions"): ("CatalogAdminFunction", "TabletAuthorizer"),
    }
    auth = resources["GalleryApi"]["Properties"]["Auth"]
    assert auth["Authorizers"]["TabletAuthorizer"]["UserPoolArn"] == {"Fn::GetAtt": ["TabletUserPool", "Arn"]}
    # Nobody may sign themselves up and get a token for POST /visits.
    assert resources["TabletUserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_inference_callback_listens_to_both_topics(resources: dict) -> None:
    events = resources["InferenceCallbackFunction"]["Properties"]["Events"]
    topics = {e["Properties"]["Topic"]["Ref"] for e in events.values() if e["Type"] == "SNS"}
    assert topics == {"InferenceSuccessTopic", "InferenceErrorTopic"}


# ---------------------------------------------------------------- storage


def test_bucket_lifecycle_and_notifications(resources: dict) -> None:
    bucket = resources["PhotoBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    expiry = {
        r["Prefix"]: r["ExpirationInDays"]
        for r in bucket["LifecycleConfiguration"]["Rules"]
        if r["Status"] == "Enabled" and "Prefix" in r and "ExpirationInDays" in r
    }
    assert expiry.get("uploads/") == 1
    assert expiry.get("faces/") == 1
    assert expiry.get("inference/") == 1
    assert expiry.get("results/") == {"Ref": "ResultRetentionDays"}
    assert not any(p.startswith("catalog") for p in expiry), "catalog/ must never expire"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    cors_methods = {m for rule in bucket["CorsConfiguration"]["CorsRules"] for m in rule["AllowedMethods"]}
    assert {"POST", "GET"} <= cors_methods


def test_tables(resources: dict) -> None:
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert set(tables) == {"VisitsTable", "CatalogTable", "TokensTable", "DisplaysTable"}
    for name, table in tables.items():
        p = table["Properties"]
        assert p["BillingMode"] == "PAY_PER_REQUEST", name
        assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert p["SSESpecification"]["SSEEnabled"] is True, name
    visits = tables["VisitsTable"]["Properties"]
    assert visits["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert visits["KeySchema"] == [{"AttributeName": "visitId", "KeyType": "HASH"}]
    indexes = {gsi["IndexName"]: gsi for gsi in visits["GlobalSecondaryIndexes"]}
    assert set(indexes) == {DISPLAY_INDEX, VIEW_INDEX, STATUS_INDEX}
    # The sweeper finds open visits older than a cutoff by status and creation time.
    assert indexes[STATUS_INDEX]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    assert indexes[DISPLAY_INDEX]["KeySchema"] == [
        {"AttributeName": "displayId", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    # GET /views/{viewToken} finds the visit by its token; the index holds keys only, so the
    # handler reads the item itself (consistently) and checks status and expiry there.
    assert VIEW_INDEX == "byViewToken"
    assert indexes[VIEW_INDEX]["KeySchema"] == [{"AttributeName": "viewToken", "KeyType": "HASH"}]
    assert indexes[VIEW_INDEX]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {"AttributeName": "viewToken", "AttributeType": "S"} in visits["AttributeDefinitions"]
    tokens = tables["TokensTable"]["Properties"]
    assert tokens["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


# ---------------------------------------------------------------- SageMaker


def test_async_inference_configs(resources: dict) -> None:
    configs = of_type(resources, "AWS::SageMaker::EndpointConfig")
    assert set(configs) == {"SwapEndpointConfig", "RestoreEndpointConfig"}
    for name, config in configs.items():
        task = "swap" if name.startswith("Swap") else "restore"
        p = config["Properties"]
        (variant,) = p["ProductionVariants"]
        assert variant["VariantName"] == "AllTraffic"
        async_config = p["AsyncInferenceConfig"]
        out = async_config["OutputConfig"]
        assert out["S3OutputPath"] == {"Fn::Sub": f"s3://${{PhotoBucket}}/inference/out/{task}/"}
        assert out["S3FailurePath"] == {"Fn::Sub": f"s3://${{PhotoBucket}}/inference/errors/{task}/"}
        assert out["NotificationConfig"]["SuccessTopic"] == {"Ref": "InferenceSuccessTopic"}
        assert out["NotificationConfig"]["ErrorTopic"] == {"Ref": "InferenceErrorTopic"}
        assert async_config["ClientConfig"]["MaxConcurrentInvocationsPerInstance"] == 4
    models = of_type(resources, "AWS::SageMaker::Model")
    tasks = {m["Properties"]["PrimaryContainer"]["Environment"]["ENGINE_TASK"] for m in models.values()}
    assert tasks == {"swap", "restore"}


def test_endpoints_scale_to_zero_and_back(resources: dict) -> None:
    targets = of_type(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 2
    endpoints = set()
    for name, target in targets.items():
        p = target["Properties"]
        assert p["MinCapacity"] == 0, f"{name} must be able to scale to zero"
        assert p["MaxCapacity"] == {"Ref": "InferenceMaxInstances"}
        assert p["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        endpoint = re.fullmatch(r"endpoint/\$\{(\w+)\.EndpointName\}/variant/AllTraffic", p["ResourceId"]["Fn::Sub"])
        assert endpoint, p["ResourceId"]
        endpoints.add(endpoint[1])
    assert endpoints == {"SwapEndpoint", "RestoreEndpoint"}

    policies = of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy")
    for target in targets:
        mine = [p["Properties"] for p in policies.values() if p["Properties"]["ScalingTargetId"] == {"Ref": target}]
        kinds = {p["PolicyType"] for p in mine}
        assert kinds == {"TargetTrackingScaling", "StepScaling"}, target
        tracking = next(p for p in mine if p["PolicyType"] == "TargetTrackingScaling")
        metric = tracking["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
        assert metric["MetricName"] == "ApproximateBacklogSizePerInstance"
        assert metric["Namespace"] == "AWS/SageMaker"

    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    step_policies = {n for n, p in policies.items() if p["Properties"]["PolicyType"] == "StepScaling"}
    triggered = {
        a["Properties"]["AlarmActions"][0]["Ref"]
        for a in alarms.values()
        # The operators' own backlog alarms (and metric-math alarms) act on the alarm topic.
        if a["Properties"].get("MetricName") == "HasBacklogWithoutCapacity"
        and a["Properties"]["AlarmActions"][0].get("Ref") in policies
    }
    assert triggered == step_policies


# ---------------------------------------------------------------- AppSync


def test_appsync_schema_and_resolvers(resources: dict) -> None:
    api = resources["GraphQLApi"]["Properties"]
    assert api["AuthenticationType"] == "AWS_IAM"
    extra = {p["AuthenticationType"] for p in api["AdditionalAuthenticationProviders"]}
    assert extra == {"API_KEY", "AMAZON_COGNITO_USER_POOLS"}
    schema_path = ROOT / resources["GraphQLSchema"]["Properties"]["DefinitionS3Location"]
    schema = schema_path.read_text()
    resolvers = of_type(resources, "AWS::AppSync::Resolver")
    fields = {(r["Properties"]["TypeName"], r["Properties"]["FieldName"]) for r in resolvers.values()}
    assert fields == {
        ("Mutation", "publishResult"),
        ("Mutation", "resetDisplay"),
        ("Query", "getDisplay"),
        ("Query", "listDisplays"),
    }
    for name, r in resolvers.items():
        p = r["Properties"]
        assert p["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}, name
        code = ROOT / p["CodeS3Location"]
        assert code.is_file(), f"{name}: {p['CodeS3Location']} is missing"
        source = code.read_text()
        assert "export function request" in source and "export function response" in source, name
        assert re.search(rf"\b{p['FieldName']}\s*[(:]", schema), f"{p['FieldName']} is not in the schema"
    assert re.search(r"onDisplayUpdated\s*\(\s*displayId\s*:\s*ID\s*\)", schema)
    assert '@aws_subscribe(mutations: ["publishResult", "resetDisplay"])' in schema
    # The pipeline may call exactly the publishResult mutation.
    statements = [
        s for p in resources["PublishDisplayFunction"]["Properties"]["Policies"] for s in p.get("Statement", [])
    ]
    graphql = [s for s in statements if s["Action"] == "appsync:GraphQL"]
    assert [s["Resource"] for s in graphql] == [{"Fn::Sub": "${GraphQLApi.Arn}/types/Mutation/fields/publishResult"}]


def test_outputs(template: dict) -> None:
    assert {
        "ApiUrl",
        "GraphQLUrl",
        "GraphQLApiKey",
        "PhotoBucketName",
        "StateMachineArn",
        "UserPoolId",
        "UserPoolClientId",
        "SwapEndpointName",
        "RestoreEndpointName",
        "VisitsTableName",
    } <= set(template["Outputs"])


def test_parameters(template: dict) -> None:
    params = template["Parameters"]
    assert params["Stage"]["AllowedValues"] == ["dev", "prod"] and params["Stage"]["Default"] == "dev"
    assert params["ResultRetentionDays"]["Type"] == "Number" and params["ResultRetentionDays"]["MinValue"] == 1
    for name in ("SlackWebhookSecretArn", "EngineImageUri", "InferenceInstanceType"):
        assert params[name]["Type"] == "String"
    for name in ("InferenceMaxInstances", "InferenceTimeoutSeconds"):
        assert params[name]["Type"] == "Number"


def test_samconfig_environments() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        stage = "prod" if env == "prod" else "dev"
        assert deploy["stack_name"] == f"past-life-gallery-{stage}"
        assert f'Stage="{stage}"' in deploy["parameter_overrides"]
        assert "CAPABILITY_IAM" in deploy["capabilities"]
        assert config[env]["validate"]["parameters"]["lint"] is True
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


# ---------------------------------------------------------------- dead letters


def test_every_dead_letter_queue_is_encrypted_alarmed_and_an_output(template: dict, resources: dict) -> None:
    queues = of_type(resources, "AWS::SQS::Queue")
    assert {"UploadDeadLetterQueue", "InferenceCallbackDeadLetterQueue", "ExecutionEndedDeadLetterQueue"} <= set(queues)
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    for name, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 86400
        dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [name, "QueueName"]}}
        (alarm,) = [a["Properties"] for a in alarms.values() if dimension in a["Properties"].get("Dimensions", [])]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "OperatorAlarmTopic"}]
        assert template["Outputs"][f"{name}Url"]["Value"] == {"Ref": name}


def test_dead_letter_queue_policies_admit_exactly_their_sources(resources: dict) -> None:
    sources = {
        "UploadDeadLetterQueue": ("events.amazonaws.com", [{"Fn::GetAtt": ["PipelineStateMachineUpload", "Arn"]}]),
        "InferenceCallbackDeadLetterQueue": (
            "sns.amazonaws.com",
            [{"Ref": "InferenceSuccessTopic"}, {"Ref": "InferenceErrorTopic"}],
        ),
        "ExecutionEndedDeadLetterQueue": (
            "events.amazonaws.com",
            [{"Fn::GetAtt": ["ExecutionEndedFunctionPipelineEnded", "Arn"]}],
        ),
    }
    for queue, (service, arns) in sources.items():
        (statement,) = resources[f"{queue}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": service} and statement["Action"] == "sqs:SendMessage"
        source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert (source if isinstance(source, list) else [source]) == arns


ASYNC_EVENTS = ("SNS", "EventBridgeRule", "Schedule", "ScheduleV2", "CloudWatchEvent")


def test_every_asynchronous_hop_has_somewhere_for_failures_to_go(resources: dict) -> None:
    """SNS, EventBridge and schedules invoke functions asynchronously: what fails every retry
    goes to an on-failure destination, and what the service cannot deliver at all to the
    subscription's or rule target's dead-letter queue."""
    checked = 0
    for name, fn in of_type(resources, "AWS::Serverless::Function").items():
        events = (fn["Properties"].get("Events") or {}).items()
        asynchronous = [(e, ev) for e, ev in events if ev["Type"] in ASYNC_EVENTS]
        if not asynchronous:
            continue
        checked += 1
        config = fn["Properties"].get("EventInvokeConfig") or {}
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        assert on_failure.get("Type") == "SQS" and on_failure.get("Destination"), name
        assert config.get("MaximumRetryAttempts") == 2, name
        for event_name, event in asynchronous:
            props = event.get("Properties") or {}
            if event["Type"] == "SNS":
                assert props.get("RedrivePolicy", {}).get("deadLetterTargetArn"), (name, event_name)
            else:
                assert props.get("DeadLetterConfig", {}).get("Arn"), (name, event_name)
    assert checked >= 4  # the callback, the execution-ended backstop, the sweeper, the alarm post
