"""IAM on the local stack: the template's own roles, each principal with its own credentials,
and moto refusing what a role does not allow.

The roles come from template.yaml after SAM's transform (policy templates expanded, one role
per function, the state machine's role, the endpoints' execution role), created in moto's IAM
and assumed through moto's STS. Handlers run with their function role's credentials, the state
machine's tasks with its role's, the SageMaker endpoints with the model's execution role's.
The stack itself and the operator's CLI sign as a local administrator, as an operator's own
credentials would. Once `enforce()` is called moto checks every signed request against the
caller's policies (see the README's IAM table for what moto evaluates and what it does not)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypedDict

import requests

ADMIN_USER = "local-operator"
_ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# moto cannot evaluate these (no CloudWatch Logs or X-Ray calls are made locally) and does not
# ship AWS managed policies unless asked to load all of them.
_MANAGED_POLICIES_NOT_LOADED = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
)


class LocalIam:
    def __init__(self, moto_endpoint: str, client: Callable[[str], Any]) -> None:
        """client(service) gives a client signed as the local operator (once it exists)."""
        self.moto_endpoint = moto_endpoint
        self._client = client
        self._credentials: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self.role_arns: dict[str, str] = {}  # logical id -> ARN
        self.enforced = False

    def create_admin(self) -> dict[str, str]:
        """The local operator: full rights, as the credentials an operator deploys with."""
        self._client("iam").create_user(UserName=ADMIN_USER)
        self._client("iam").put_user_policy(
            UserName=ADMIN_USER, PolicyName="local-operator", PolicyDocument=json.dumps(_ADMIN_POLICY)
        )
        key = self._client("iam").create_access_key(UserName=ADMIN_USER)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def create_role(self, logical_id: str, name: str, properties: dict) -> str:
        """Create one AWS::IAM::Role (properties already resolved) and return its ARN."""
        role = self._client("iam").create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            MaxSessionDuration=43200,
        )["Role"]
        for policy in properties.get("Policies") or []:
            # SAM writes policy templates without a Version; IAM then reads them as 2008-10-17,
            # which differs from 2012-10-17 only in policy variables (none here). moto insists.
            document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
            self._client("iam").put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
            )
        unknown = [p for p in properties.get("ManagedPolicyArns") or [] if p not in _MANAGED_POLICIES_NOT_LOADED]
        if unknown:
            raise ValueError(f"{logical_id} attaches managed policies the local stack cannot evaluate: {unknown}")
        self.role_arns[logical_id] = role["Arn"]
        return role["Arn"]

    def credentials(self, role_arn: str) -> dict[str, str]:
        """Temporary credentials of a role, as a Lambda sandbox or a task gets them."""
        with self._lock:
            if role_arn not in self._credentials:
                c = self._client("sts").assume_role(RoleArn=role_arn, RoleSessionName="local", DurationSeconds=43200)[
                    "Credentials"
                ]
                self._credentials[role_arn] = {
                    "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": c["SessionToken"],
                }
            return self._credentials[role_arn]

    def enforce(self, on: bool = True) -> None:
        """From the next request on, moto authorises every request (or stops doing so)."""
        count = "0" if on else "inf"
        requests.post(f"{self.moto_endpoint}/moto-api/reset-auth", data=count, timeout=10).raise_for_status()
        self.enforced = on  # the local services outside moto (Bedrock, Polly) follow it

    def remove_statement(self, role_arn: str, predicate: Any) -> list[dict]:
        """Drop the statements for which predicate(statement) is true from a role's inline
        policies; returns what was removed so a test can put it back with restore_policies."""
        name = role_arn.rsplit("/", 1)[1]
        removed = []
        for policy_name in self._client("iam").list_role_policies(RoleName=name)["PolicyNames"]:
            doc = self._client("iam").get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
            keep = [s for s in statements if not predicate(s)]
            if len(keep) == len(statements):
                continue
            removed.append({"PolicyName": policy_name, "PolicyDocument": dict(doc)})
            if keep:
                self._client("iam").put_role_policy(
                    RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps({**doc, "Statement": keep})
                )
            else:  # IAM refuses a policy with no statements
                self._client("iam").delete_role_policy(RoleName=name, PolicyName=policy_name)
        return removed

    def restore_policies(self, role_arn: str, saved: list[dict]) -> None:
        name = role_arn.rsplit("/", 1)[1]
        for policy in saved:
            self._client("iam").put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
            )

    def allows(self, role_arn: str | None, action: str, resource: str) -> bool:
        """Whether a role allows one action on one resource now (no role allows nothing)."""
        from gallery_local.signatures import role_allows

        return role_allows(role_arn, action, resource) if role_arn else False


class SessionCredentials(TypedDict, total=False):
    aws_access_key_id: str
    aws_secret_access_key: str
    aws_session_token: str | None


def session_credentials(credentials: dict[str, str] | None) -> SessionCredentials:
    """boto3 Session keyword arguments for credentials kept as environment variables; none
    means the process's own (the local operator's)."""
    if not credentials:
        return {}
    return {
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": credentials.get("AWS_SESSION_TOKEN"),
    }
