"""The local stack: template.yaml's resources on moto, with the real handlers, the real state
machine definition, the real face engine, and local Slack, AppSync and API endpoints."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from gallery_local import lambda_env, moto_hooks
from gallery_local import template as tpl
from gallery_local.api_local import LocalApi, Route
from gallery_local.appsync_local import LocalAppSync
from gallery_local.bedrock_local import BedrockRuntime
from gallery_local.cognito_tokens import PoolTokens
from gallery_local.http_util import free_port
from gallery_local.iam_local import LocalIam
from gallery_local.polly_local import PollyLocal
from gallery_local.rekognition_local import LocalRekognition
from gallery_local.sagemaker_local import AsyncEndpoints, EngineProcess
from gallery_local.shutdown import Shutdown
from gallery_local.slack_receiver import SlackReceiver

ROOT = Path(__file__).resolve().parents[2]
FINAL_EXECUTION = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
TABLET_PASSWORD = "Local-tablet-1234"  # noqa: S105 - local user pool only


@dataclass
class Settings:
    inference_timeout_seconds: int = 30
    engine_url: str | None = None  # an already running model server; None starts one
    stack_name: str = "gallery-local"
    quiet: bool = True
    # Every principal signs with its own credentials and moto refuses what its role does not
    # allow. Off only to tell an IAM problem from another one while debugging.
    enforce_iam: bool = True
    # Where the operators' catalog is kept between runs (loaded at start); None keeps nothing.
    data_dir: Path | None = None
    # The catalog's Bedrock models (template parameters); None keeps the template's defaults.
    catalog_image_model: str | None = None
    catalog_text_model: str | None = None  # with its inference profile, e.g. "us.anthropic..."
    # > 0: the SageMaker endpoints start with no instance, as scaled to zero on AWS, and get one
    # this many seconds after they are asked to scale out (sagemaker_local.AsyncEndpoints).
    endpoint_cold_seconds: float = 0


class LocalStack:
    def __init__(self, settings: Settings | None = None, root: Path = ROOT) -> None:
        self.settings = settings or Settings()
        self.root = root
        self.template = tpl.load(root / "template.yaml")
        self.names = tpl.LocalNames(self.settings.stack_name, self.template["Resources"])
        self._shutdown = Shutdown()
        self._dynamodb = threading.local()  # table()'s DynamoDB resources, per thread

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._shutdown.run()

    def start(self) -> LocalStack:
        moto_hooks.install()
        lambda_env.install()
        moto_hooks.add_to_path(self.root / "layers" / "gallery" / "python")
        self._start_moto()
        self.slack = SlackReceiver().start()
        self._shutdown.add(self.slack.stop)
        secret_arn = self.client("secretsmanager").create_secret(
            Name=f"{self.settings.stack_name}/slack-webhook", SecretString=self.slack.webhook_url
        )["ARN"]
        self.parameters = {
            **self._catalog_model_parameters(),
            "Stage": "dev",
            "SlackWebhookSecretArn": secret_arn,
            "EngineImageUri": f"{tpl.ACCOUNT}.dkr.ecr.{tpl.REGION}.amazonaws.com/past-life-gallery/face:local",
            "InferenceTimeoutSeconds": str(self.settings.inference_timeout_seconds),
            # moto knows only older instance types; locally the type means nothing.
            "InferenceInstanceType": "ml.c5.xlarge",
        }
        # Refs and GetAtts are looked up when a value is resolved, so what later steps learn
        # (the user pool's id, the local GraphQL URL) is seen by everything resolved after it.
        self.resolver = tpl.Resolver(self.template, self.names, self.parameters)
        self._create_storage()
        self._create_roles()
        self._create_cognito()
        self.appsync = LocalAppSync(
            self.root / "appsync" / "schema.graphql",
            self.endpoint,
            self.names.name("DisplaysTable"),
            credentials=self.iam.credentials(self.iam.role_arns["AppSyncDisplaysRole"]),
        ).start()
        self._shutdown.add(self.appsync.stop)
        self.names.extra_attrs[("GraphQLApi", "GraphQLUrl")] = self.appsync.url
        self.appsync.configure_auth(
            api_key="da2-" + secrets.token_hex(13),
            tokens=self.pool_tokens,
            api_arn=self.names.get_att("GraphQLApi", "Arn"),
            account_id=tpl.ACCOUNT,
        )
        self._start_model_services()
        self._set_function_environment()
        self._create_functions()
        self._start_engine()
        self._create_endpoints()
        self._create_state_machines()
        self._start_api()
        if self.settings.data_dir:
            from gallery_local import catalog_store

            catalog_store.load(self, self.settings.data_dir)
        if self.settings.enforce_iam:
            self.iam.enforce()
            self._shutdown.add(lambda: self.iam.enforce(False))
        return self

    def _start_moto(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if self.settings.quiet:
            # moto logs every Fail state as an ERROR; the visit's own record says what happened.
            logging.getLogger("moto").setLevel(logging.CRITICAL)
        port = free_port()
        # The state machine interpreter calls services back at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        self._shutdown.add(self.moto.stop)
        self.endpoint = f"http://127.0.0.1:{port}"
        # moto's backends are process-wide: a stack started after another in the same process
        # (a benchmark's second run) starts empty, as a new account would.
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(
            f"{self.endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        ).raise_for_status()
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": tpl.REGION,
                "AWS_REGION": tpl.REGION,
                "AWS_ENDPOINT_URL": self.endpoint,
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        self._clients: dict[str, Any] = {}
        # The stack, the tests and the operator's CLI sign as the local operator.
        self.iam = LocalIam(self.endpoint, self.client)
        os.environ.update(self.iam.create_admin())
        self._clients.clear()  # made with the bootstrap credentials

    def client(self, service: str) -> Any:
        if service not in self._clients:
            # Presigned S3 URLs as SigV4: S3 refuses SigV2 on buckets made since 2020.
            config = Config(signature_version="s3v4") if service == "s3" else None
            endpoint = getattr(self, "service_endpoints", {}).get(service, self.endpoint)
            # The stubs type client() per literal service name; this one is the caller's.
            make: Callable[..., Any] = boto3.session.Session().client
            self._clients[service] = make(service, endpoint_url=endpoint, region_name=tpl.REGION, config=config)
        return self._clients[service]

    def _catalog_model_parameters(self) -> dict[str, str]:
        from gallery.bedrock_images import PROFILE_PREFIXES, base_model

        params = {}
        if self.settings.catalog_image_model:
            params["CatalogImageModelId"] = self.settings.catalog_image_model
        text = self.settings.catalog_text_model
        if text:
            prefix = text.split(".", 1)[0]
            if prefix not in PROFILE_PREFIXES:
                profiles = ", ".join(PROFILE_PREFIXES)
                raise ValueError(f"{text}: call the text model through an inference profile ({profiles}).")
            params.update(CatalogTextModelId=base_model(text), CatalogTextInferenceProfile=prefix)
        return params

    def _start_model_services(self) -> None:
        """Bedrock (runtime and the model lifecycle) and Polly on loopback, each checking the
        caller's signature and IAM permission as AWS does."""
        from gallery_local import signatures

        def authorize(method: str, url: str, headers: dict, body: bytes, action: str, resources: list[str]) -> None:
            if not self.iam.enforced:
                return
            try:
                signatures.check_header_signed(tpl.ACCOUNT, method, url, headers, body, action, resources)
            except (signatures.Refused, KeyError, ValueError) as e:
                raise PermissionError(f"User is not authorized to perform: {action} ({e})") from None

        self.bedrock = BedrockRuntime().start()
        self.polly = PollyLocal().start()
        for service in (self.bedrock, self.polly):
            service.region, service.account_id, service.authorize = tpl.REGION, tpl.ACCOUNT, authorize
            self._shutdown.add(service.stop)
        self.service_endpoints = {
            "bedrock-runtime": self.bedrock.url,
            "bedrock": self.bedrock.url,
            "polly": self.polly.url,
        }

    def props(self, logical_id: str) -> dict:
        return self.resolver.value(self.template["Resources"][logical_id].get("Properties") or {})

    # ------------------------------------------------------------------ resources
    def _create_storage(self) -> None:
        s3 = self.client("s3")
        for logical in tpl.resources_of(self.template, "AWS::S3::Bucket"):
            name, props = self.names.name(logical), self.props(logical)
            s3.create_bucket(Bucket=name)
            if (
                (props.get("NotificationConfiguration") or {})
                .get("EventBridgeConfiguration", {})
                .get("EventBridgeEnabled")
            ):
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
                )
            rules = [_lifecycle_rule(r) for r in (props.get("LifecycleConfiguration") or {}).get("Rules", [])]
            if rules:
                s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
            cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
            if cors:
                s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in cors]})
        ddb = self.client("dynamodb")
        for logical in tpl.resources_of(self.template, "AWS::DynamoDB::Table"):
            name, props = self.names.name(logical), self.props(logical)
            kwargs = {
                k: props[k]
                for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                if k in props
            }
            ddb.create_table(TableName=name, BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"), **kwargs)
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        sns = self.client("sns")
        for logical in tpl.resources_of(self.template, "AWS::SNS::Topic"):
            sns.create_topic(Name=self.names.name(logical))
        # Dead-letter queues. Their policies (which services may write) are not applied: moto
        # does not evaluate queue policies; tests/unit/test_template.py reads them instead.
        sqs = self.client("sqs")
        for logical in tpl.resources_of(self.template, "AWS::SQS::Queue"):
            name, props = self.names.name(logical), self.props(logical)
            attributes = {k: str(props[k]) for k in ("MessageRetentionPeriod", "VisibilityTimeout") if k in props}
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = f"arn:aws:sqs:{tpl.REGION}:{tpl.ACCOUNT}:{name}"
            self.names.extra_attrs.update({(logical, "Ref"): url, (logical, "Arn"): arn, (logical, "QueueName"): name})

    def _create_roles(self) -> None:
        """Every AWS::IAM::Role of the template after SAM's transform, with its policies."""
        self.transformed = tpl.sam_transform(self.template)
        for logical, res in tpl.resources_of(self.transformed, "AWS::IAM::Role").items():
            props = self.resolver.value(res.get("Properties") or {})
            arn = self.iam.create_role(logical, f"{self.settings.stack_name}-{logical}", props)
            self.iam.credentials(arn)  # assumed now: trust policies name services, not the operator
        moto_hooks.set_role_credentials(self.iam.credentials)
        moto_hooks.set_role_authorizer(self.iam.allows)

    def role_of(self, logical_id: str) -> str:
        """The ARN of the role a function or state machine runs with."""
        props = self.transformed["Resources"][logical_id]["Properties"]
        role = props.get("Role") or props["RoleArn"]
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            return self.iam.role_arns[role["Fn::GetAtt"][0]]
        return self.resolver.value(role)

    def _create_cognito(self) -> None:
        idp = self.client("cognito-idp")
        for logical in tpl.resources_of(self.template, "AWS::Cognito::UserPool"):
            props = self.props(logical)
            pool = idp.create_user_pool(
                PoolName=props.get("UserPoolName", logical),
                Schema=props.get("Schema", []),
                Policies=props.get("Policies", {}),
            )["UserPool"]
            self.names.extra_attrs[(logical, "Ref")] = pool["Id"]
            self.names.extra_attrs[(logical, "Arn")] = pool["Arn"]
            self.names.extra_attrs[(logical, "ProviderURL")] = f"cognito-idp.{tpl.REGION}.amazonaws.com/{pool['Id']}"
        for logical in tpl.resources_of(self.template, "AWS::Cognito::UserPoolClient"):
            props = self.props(logical)
            client = idp.create_user_pool_client(
                UserPoolId=props["UserPoolId"],
                ClientName=props.get("ClientName", logical),
                ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
            )["UserPoolClient"]
            self.names.extra_attrs[(logical, "Ref")] = client["ClientId"]
        for logical in tpl.resources_of(self.template, "AWS::Cognito::UserPoolGroup"):
            props = self.props(logical)
            idp.create_group(UserPoolId=props["UserPoolId"], GroupName=props["GroupName"])
        self.user_pool_id = self.names.ref("TabletUserPool")
        self.user_pool_client_id = self.names.ref("TabletUserPoolClient")
        # The one verifier of the pool's JWTs, for the API's authorizer and AppSync alike: the
        # JWKS is the local moto server's, the issuer the AWS-style URL moto writes into tokens.
        self.pool_tokens = PoolTokens(
            jwks_url=f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json",
            issuer=f"https://cognito-idp.{tpl.REGION}.amazonaws.com/{self.user_pool_id}",
        )

    def _set_function_environment(self) -> None:
        """What the Lambda service adds to each function's own variables: the runtime's
        variables, the local endpoint, and (per invocation) its role's credentials."""
        self.runtime_env = {
            **lambda_env.base_environment(),
            "AWS_REGION": tpl.REGION,
            "AWS_DEFAULT_REGION": tpl.REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            # Services moto does not answer well enough are local endpoints of their own.
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.bedrock.url,
            "AWS_ENDPOINT_URL_BEDROCK": self.bedrock.url,
            "AWS_ENDPOINT_URL_POLLY": self.polly.url,
            # X-Ray and CloudWatch metrics have no local backend.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
        }
        self.function_env: dict[str, dict[str, str]] = {}
        self._function_roles: dict[str, str] = {}

        moto_hooks.set_sandbox_environment(lambda fn: self.sandbox_environment(fn.function_name))

    def sandbox_environment(self, function_name: str) -> dict[str, str]:
        """All a function's handler sees of os.environ while it is imported or runs."""
        env = {
            **self.runtime_env,
            **self.function_env.get(function_name, {}),
            **self.iam.credentials(self._function_roles[function_name]),
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
        }
        if self.settings.quiet:
            env.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "LOG_LEVEL": "WARNING"})
        return env

    def _create_functions(self) -> None:
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        global_vars = (globals_fn.get("Environment") or {}).get("Variables") or {}
        lam, sns = self.client("lambda"), self.client("sns")
        self.routes: list[Route] = []
        for logical, res in tpl.resources_of(self.template, "AWS::Serverless::Function").items():
            props = {**globals_fn, **(res.get("Properties") or {})}
            name = self.names.name(logical)
            own_vars = ((res.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            variables = {k: str(v) for k, v in self.resolver.value({**global_vars, **own_vars}).items()}
            self.function_env[name] = variables
            self._function_roles[name] = self.role_of(logical)
            lam.create_function(
                FunctionName=name,
                Runtime=props.get("Runtime", "python3.12"),
                Role=self._function_roles[name],
                Handler=props.get("Handler", "app.handler"),
                Code={"ZipFile": _EMPTY_ZIP},
                Timeout=int(props.get("Timeout", 30)),
                MemorySize=int(props.get("MemorySize", 512)),
                Environment={"Variables": variables},
            )
            moto_hooks.register_function(name, self.root / props["CodeUri"])
            # Imported inside the function's own environment, as its sandbox would at a cold start.
            with lambda_env.install().function(self.sandbox_environment(name)):
                moto_hooks.load_handler(name, props.get("Handler", "app.handler"))
            # Where an asynchronous invocation goes after its last retry (moto_hooks._on_failure).
            invoke_config = self.resolver.value(props.get("EventInvokeConfig") or {})
            if invoke_config:
                # SAM's destination Type is its own; the API takes the ARN only.
                destinations = {
                    when: {"Destination": d["Destination"]}
                    for when, d in (invoke_config.get("DestinationConfig") or {}).items()
                }
                lam.put_function_event_invoke_config(
                    FunctionName=name,
                    MaximumRetryAttempts=int(invoke_config.get("MaximumRetryAttempts", 2)),
                    DestinationConfig=destinations,
                )
            for event_name, event in (props.get("Events") or {}).items():
                ev = self.resolver.value(event.get("Properties") or {})
                if event["Type"] == "SNS":
                    redrive = {"RedrivePolicy": json.dumps(ev["RedrivePolicy"])} if "RedrivePolicy" in ev else {}
                    sns.subscribe(
                        TopicArn=ev["Topic"], Protocol="lambda", Endpoint=self.names.arn(logical), Attributes=redrive
                    )
                elif event["Type"] == "Api":
                    authorizer = (ev.get("Auth") or {}).get("Authorizer", "default")
                    self.routes.append(Route(ev["Method"].upper(), ev["Path"], name, authorizer != "NONE"))
                elif event["Type"] in ("EventBridgeRule", "CloudWatchEvent"):
                    # A rule on the default bus with the function as its target (moto_hooks
                    # delivers it asynchronously, with Lambda's retries).
                    rule = f"{name}-{event_name}"
                    self.client("events").put_rule(Name=rule, EventPattern=json.dumps(ev["Pattern"]), State="ENABLED")
                    target = {"Id": "function", "Arn": self.names.arn(logical), **_delivery(ev)}
                    self.client("events").put_targets(Rule=rule, Targets=[target])

    def _start_engine(self) -> None:
        if self.settings.engine_url:
            self.engine_url = self.settings.engine_url
        else:
            engine = EngineProcess(self.root, free_port()).start()
            self._shutdown.add(engine.stop)
            self.engine_url = engine.url
            self.engine = engine
        moto_hooks.add_to_path(self.root / "containers" / "face")
        rekognition = LocalRekognition(
            lambda bucket, key: self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        ).start()
        self._shutdown.add(rekognition.stop)

    def _create_endpoints(self) -> None:
        sm = self.client("sagemaker")
        # Models, then their endpoint configs, then the endpoints: each named by its own name
        # attribute (LocalNames), with the properties the API takes.
        for resource_type, create, name_attr, properties in (
            ("AWS::SageMaker::Model", sm.create_model, "ModelName", ("PrimaryContainer", "ExecutionRoleArn")),
            (
                "AWS::SageMaker::EndpointConfig",
                sm.create_endpoint_config,
                "EndpointConfigName",
                ("ProductionVariants", "AsyncInferenceConfig"),
            ),
            ("AWS::SageMaker::Endpoint", sm.create_endpoint, "EndpointName", ("EndpointConfigName",)),
        ):
            for logical in tpl.resources_of(self.template, resource_type):
                props = self.props(logical)
                create(**{name_attr: self.names.get_att(logical, name_attr)}, **{k: props[k] for k in properties})
        # The endpoints read their input, write their output and notify with the model's role.
        model = next(iter(tpl.resources_of(self.template, "AWS::SageMaker::Model")))
        self.endpoints = AsyncEndpoints(
            self.endpoint,
            self.engine_url,
            credentials=self.iam.credentials(self.props(model)["ExecutionRoleArn"]),
            cold_seconds=self.settings.endpoint_cold_seconds,
            engine=getattr(self, "engine", None),
        )
        self._shutdown.add(self.endpoints.stop)
        moto_hooks.set_async_invoker(self.endpoints.invoke)
        self.swap_endpoint = self.names.get_att("SwapEndpoint", "EndpointName")
        self.restore_endpoint = self.names.get_att("RestoreEndpoint", "EndpointName")
        # The endpoints' scalable targets (their scheduled actions are AWS's to run), so
        # `gallery event warmup` raises the minimum with the same call as on AWS.
        for logical in tpl.resources_of(self.template, "AWS::ApplicationAutoScaling::ScalableTarget"):
            props = self.props(logical)
            self.client("application-autoscaling").register_scalable_target(
                **{k: props[k] for k in ("ServiceNamespace", "ResourceId", "ScalableDimension")},
                MinCapacity=int(props["MinCapacity"]),
                MaxCapacity=int(props["MaxCapacity"]),
            )
        for name in (self.swap_endpoint, self.restore_endpoint):
            self.endpoints.register(name)
        self.endpoints.watch_scalable_targets()

    def _create_state_machines(self) -> None:
        sfn, events = self.client("stepfunctions"), self.client("events")
        self.state_machine_arns: dict[str, str] = {}
        for logical, res in tpl.resources_of(self.template, "AWS::Serverless::StateMachine").items():
            props = res["Properties"]
            definition = (self.root / props["DefinitionUri"]).read_text()
            for key, value in self.resolver.value(props.get("DefinitionSubstitutions") or {}).items():
                definition = definition.replace("${" + key + "}", str(value))
            arn = sfn.create_state_machine(
                name=self.names.name(logical),
                definition=definition,
                roleArn=self.role_of(logical),
                type=props.get("Type", "STANDARD"),
            )["stateMachineArn"]
            self.state_machine_arns[logical] = arn
            for event_name, event in (props.get("Events") or {}).items():
                if event["Type"] != "EventBridgeRule":
                    continue
                ev = self.resolver.value(event["Properties"])
                rule = f"{self.names.name(logical)}-{event_name}"
                events.put_rule(Name=rule, EventPattern=json.dumps(ev["Pattern"]), State="ENABLED")
                target = {"Id": "pipeline", "Arn": arn, "RoleArn": self.iam.role_arns[f"{logical}{event_name}Role"]}
                events.put_targets(Rule=rule, Targets=[{**target, **_delivery(ev)}])

    def _start_api(self) -> None:
        self.api = LocalApi(
            self.routes, self.client("lambda"), self.pool_tokens, self.user_pool_client_id, self.parameters["Stage"]
        ).start()
        self._shutdown.add(self.api.stop)

    # ------------------------------------------------------------------ what tablets and tests do
    @property
    def state_machine_arn(self) -> str:
        """The visit pipeline."""
        return self.state_machine_arns["PipelineStateMachine"]

    @property
    def catalog_state_machine_arn(self) -> str:
        return self.state_machine_arns["CatalogStateMachine"]

    @property
    def bucket(self) -> str:
        return self.names.name("PhotoBucket")

    def table(self, logical_id: str) -> Any:
        """A DynamoDB Table of the stack, signed with the credentials of the caller's environment.

        A boto3 session and its resource take ~100 ms to build, and neither is thread-safe, so
        each thread keeps one resource per set of credentials (a Lambda sandbox's thread signs
        with its role, anywhere else with the local operator's) and hands out Tables of it."""
        resources: dict[str | None, Any] | None = getattr(self._dynamodb, "by_key_id", None)
        if resources is None:
            resources = self._dynamodb.by_key_id = {}
        key_id = os.environ.get("AWS_ACCESS_KEY_ID")
        if key_id not in resources:
            resources[key_id] = boto3.session.Session().resource(
                "dynamodb", endpoint_url=self.endpoint, region_name=tpl.REGION
            )
        return resources[key_id].Table(self.names.name(logical_id))

    def tablet_token(self, display_id: int | str) -> str:
        """Sign in as the tablet of one display (created on first use) and return its IdToken."""
        attributes = [
            {"Name": "custom:displayId", "Value": str(display_id)},
            {"Name": "custom:role", "Value": "tablet"},
        ]
        return self._sign_in(f"tablet-{display_id}", attributes)

    def operator_token(self, username: str = "operator") -> str:
        """Sign in as an operator (created on first use, in the operators group); its IdToken."""
        return self._sign_in(username, [{"Name": "custom:role", "Value": "operator"}], group="operators")

    def _sign_in(self, username: str, attributes: list[dict], group: str | None = None) -> str:
        idp = self.client("cognito-idp")
        try:
            idp.admin_create_user(
                UserPoolId=self.user_pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=attributes
            )
            idp.admin_set_user_password(
                UserPoolId=self.user_pool_id, Username=username, Password=TABLET_PASSWORD, Permanent=True
            )
            if group:
                idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
        except idp.exceptions.UsernameExistsException:
            pass
        auth = idp.initiate_auth(
            ClientId=self.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": TABLET_PASSWORD},
        )
        return auth["AuthenticationResult"]["IdToken"]

    def executions(self) -> list[dict]:
        sfn = self.client("stepfunctions")
        return sfn.list_executions(stateMachineArn=self.state_machine_arn, maxResults=1000)["executions"]

    def wait_execution(self, execution_arn: str, timeout: float = 60) -> dict:
        sfn, deadline = self.client("stepfunctions"), time.time() + timeout
        while True:
            d = sfn.describe_execution(executionArn=execution_arn)
            if d["status"] in FINAL_EXECUTION or time.time() > deadline:
                return d
            time.sleep(0.02)

    def history(self, execution_arn: str) -> list[dict]:
        sfn = self.client("stepfunctions")
        return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]

    def execution_for(self, upload_key: str, timeout: float = 10) -> str | None:
        """The first execution started for an upload key (executions are named by EventBridge)."""
        sfn, deadline = self.client("stepfunctions"), time.time() + timeout
        seen: set[str] = set()
        while time.time() < deadline:
            for ex in sorted(self.executions(), key=lambda e: e["startDate"]):
                if ex["executionArn"] in seen:
                    continue
                seen.add(ex["executionArn"])
                inp = json.loads(sfn.describe_execution(executionArn=ex["executionArn"])["input"])
                if inp.get("detail", {}).get("object", {}).get("key") == upload_key:
                    return ex["executionArn"]
            time.sleep(0.05)
        return None


def _delivery(event_properties: dict) -> dict:
    """A SAM EventBridgeRule event's retry policy and dead-letter queue, as the rule target's."""
    return {k: event_properties[k] for k in ("RetryPolicy", "DeadLetterConfig") if k in event_properties}


def _cors_rule(rule: dict) -> dict:
    """CloudFormation's CorsRule spelling -> the S3 API's."""
    rename = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    return {rename.get(k, k): v for k, v in rule.items()}


def _lifecycle_rule(rule: dict) -> dict:
    out: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule.get("Status", "Enabled"),
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return out


# An empty zip archive: the code itself comes from the function's CodeUri (moto_hooks).
_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
