"""`gallery serve`: the four pages on the local stack, for a rehearsal on one machine.

On top of a running LocalStack it adds what the pages need and AWS would provide: the AppSync
API key and its multi-auth rules, the AppSync real-time WebSocket endpoint, the Cognito users
(tablet-1..8 and an operator), and a static server for web/ that also answers /config.json,
the pages' only settings. The same pages read a config.json written from the deployed stack's
Outputs on AWS (`config_from_outputs`), so the display client has one code path for both."""

from __future__ import annotations

import html
import json
import mimetypes
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from gallery_local import template as tpl
from gallery_local.appsync_realtime import RealtimeServer
from gallery_local.http_util import LoopbackServer, QuietHandler
from gallery_local.shutdown import Shutdown
from gallery_local.stack import ROOT, TABLET_PASSWORD, LocalStack

WEB = ROOT / "web"
DISPLAYS = range(1, 9)
OPERATOR_USER = "operator"
OPERATOR_PASSWORD = "Local-operator-1234"  # noqa: S105 - local user pool only
OPERATORS_GROUP = "operators"
RETENTION_PARAMETER = "ResultRetentionDays"  # template.yaml: days S3 keeps a visitor's result
DEFAULT_PORT = 8000
# The AWS console's page of one Step Functions execution.
AWS_EXECUTION_URL = "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"
PAGES = {
    "/tablet": "tablet/index.html",
    "/wall": "wall/index.html",
    "/admin": "admin/index.html",
    "/admin/catalog": "admin/catalog/index.html",
}


@dataclass
class Urls:
    base: str

    @property
    def pages(self) -> dict[str, str]:
        return {
            "tablet": f"{self.base}/tablet",
            "wall": f"{self.base}/wall?displays=1-8",
            "admin": f"{self.base}/admin",
            "catalog": f"{self.base}/admin/catalog",
            "visitor": f"{self.base}/v/#view={{viewToken}}",
        }


def pages_config(
    *,
    region: str,
    api_url: str,
    graphql_url: str,
    realtime_url: str,
    api_key: str,
    cognito_endpoint: str,
    user_pool_id: str,
    client_id: str,
    retention_days: int,
    execution_url: str,
) -> dict:
    """The pages' config.json, the same keys for the local stack and for a deployed one."""
    return {
        "region": region,
        "apiUrl": api_url,
        "graphqlUrl": graphql_url,
        "realtimeUrl": realtime_url,
        "apiKey": api_key,
        "cognito": {"region": region, "endpoint": cognito_endpoint, "userPoolId": user_pool_id, "clientId": client_id},
        "displays": "1-8",
        "retentionDays": retention_days,
        "pollSeconds": 10,
        "executionUrl": execution_url,
    }


def retention_days(parameters: Mapping[str, str | None], template: dict | None = None) -> int:
    """Days a visitor's result is kept (the pages tell the visitor): the stack's
    ResultRetentionDays parameter, or template.yaml's Default where the stack leaves it unset."""
    value = parameters.get(RETENTION_PARAMETER)
    if value in (None, ""):
        template = template if template is not None else tpl.load(ROOT / "template.yaml")
        value = template["Parameters"][RETENTION_PARAMETER]["Default"]
    return int(value)


def config_from_outputs(outputs: dict[str, str], region: str, parameters: Mapping[str, str | None]) -> dict:
    """The pages' config.json for a deployed stack, from its CloudFormation Outputs and Parameters."""
    return pages_config(
        region=region,
        api_url=outputs["ApiUrl"].rstrip("/"),
        graphql_url=outputs["GraphQLUrl"],
        realtime_url=outputs.get("GraphQLRealtimeUrl")
        or outputs["GraphQLUrl"].replace("https://", "wss://").replace("appsync-api", "appsync-realtime-api"),
        api_key=outputs["GraphQLApiKey"],
        cognito_endpoint=f"https://cognito-idp.{region}.amazonaws.com/",
        user_pool_id=outputs["UserPoolId"],
        client_id=outputs["UserPoolClientId"],
        retention_days=retention_days(parameters),
        execution_url=AWS_EXECUTION_URL,
    )


class Serve:
    """The serve components on top of a started LocalStack (the CLI's and the browser tests')."""

    def __init__(self, stack: LocalStack, port: int = 0, keepalive_seconds: float = 60.0, web: Path = WEB) -> None:
        self.stack, self.port, self.web = stack, port, web
        self.keepalive_seconds = keepalive_seconds
        auth = stack.appsync.auth
        if auth is None:
            raise RuntimeError("The local stack configures AppSync's auth when it starts.")
        self.api_key = auth.api_key  # the stack made the displays' key
        self._shutdown = Shutdown()

    def start(self) -> Serve:
        stack = self.stack
        self.realtime = RealtimeServer(stack.appsync, keepalive_seconds=self.keepalive_seconds).start()
        self._shutdown.add(self.realtime.stop)
        self._create_users()
        self.server = LoopbackServer(_Handler, self, self.port)
        self.server.start()
        self._shutdown.add(self.server.stop)
        self.urls = Urls(self.server.url)
        return self

    def stop(self) -> None:
        self._shutdown.run()

    def __enter__(self) -> Serve:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _create_users(self) -> None:
        for display in DISPLAYS:
            self.stack.tablet_token(display)  # creates tablet-N with TABLET_PASSWORD
        idp = self.stack.client("cognito-idp")
        try:
            idp.admin_create_user(
                UserPoolId=self.stack.user_pool_id,
                Username=OPERATOR_USER,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "custom:role", "Value": "operator"}],
            )
            idp.admin_set_user_password(
                UserPoolId=self.stack.user_pool_id, Username=OPERATOR_USER, Password=OPERATOR_PASSWORD, Permanent=True
            )
        except idp.exceptions.UsernameExistsException:
            pass
        idp.admin_add_user_to_group(
            UserPoolId=self.stack.user_pool_id, Username=OPERATOR_USER, GroupName=OPERATORS_GROUP
        )

    # ------------------------------------------------------------------ what the pages read
    def config(self) -> dict:
        stack = self.stack
        return pages_config(
            region=tpl.REGION,
            api_url=stack.api.url,
            graphql_url=stack.appsync.url,
            realtime_url=self.realtime.url,
            api_key=self.api_key,
            cognito_endpoint=f"{stack.endpoint}/",
            user_pool_id=stack.user_pool_id,
            client_id=stack.user_pool_client_id,
            # What the results bucket's lifecycle rule was created with (the same Ref).
            retention_days=retention_days(stack.parameters, stack.template),
            execution_url="/execution?arn={arn}",
        )

    def banner(self) -> str:
        pages = self.urls.pages
        lines = [
            "Past-Life Gallery is running on this machine.",
            "",
            f"  Tablet         {pages['tablet']}",
            f"  Display wall   {pages['wall']}   (one display: ?displays=3)",
            f"  Admin panel    {pages['admin']}",
            f"  Catalog review {pages['catalog']}   (operators approve or reject portraits)",
            f"  Visitor page   {pages['visitor']}   (the QR codes on the wall open it)",
            "",
            f"  Tablets:   tablet-1 ... tablet-8, password {TABLET_PASSWORD}  (tablet-N feeds display N)",
            f"  Operator:  {OPERATOR_USER}, password {OPERATOR_PASSWORD}",
            "",
            "Open the wall in one tab and a tablet in another. Ctrl-C stops everything.",
        ]
        return "\n".join(lines)

    def execution_page(self, arn: str) -> tuple[int, str]:
        """A local stand-in for the console's execution page: status, error and event history."""
        sfn = self.stack.client("stepfunctions")
        try:
            d = sfn.describe_execution(executionArn=arn)
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        except Exception as e:  # noqa: BLE001 - an unknown or malformed ARN
            return 404, _page("Execution not found", f"<p>{html.escape(str(e))}</p>")
        rows = []
        for event in events:
            details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            what = details.get("name") or details.get("error") or details.get("resourceType") or ""
            extra = details.get("cause") or ""
            rows.append(
                f"<tr><td>{event['id']}</td><td>{event['timestamp']:%H:%M:%S.%f}</td>"
                f"<td>{html.escape(event['type'])}</td>"
                f"<td>{html.escape(str(what))}</td><td>{html.escape(str(extra))[:400]}</td></tr>"
            )
        body = (
            f"<p><b>{html.escape(d['status'])}</b> &middot; started {d['startDate']:%Y-%m-%d %H:%M:%S}</p>"
            + (
                f"<p class=err>{html.escape(d.get('error', ''))}: {html.escape(d.get('cause', ''))}</p>"
                if d.get("error")
                else ""
            )
            + f"<p><code>{html.escape(arn)}</code></p>"
            + "<table><tr><th>#</th><th>time</th><th>event</th><th>state / error</th><th>cause</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        return 200, _page(f"Execution {d['name']}", body)


def _page(title: str, body: str) -> str:
    style = (
        "body{font:16px system-ui,sans-serif;margin:2rem;background:#14110f;color:#f3ead8}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #3a332c;padding:.3rem .6rem;text-align:left}"
        ".err{color:#ff8a7a}code{font-size:13px}"
    )
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>{style}</style>"
        f"<h1>{html.escape(title)}</h1>{body}"
    )


class _Handler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        serve: Serve = self.server.app
        url = urlparse(self.path)
        path = url.path
        if path == "/config.json":
            self.reply(200, json.dumps(serve.config(), indent=1).encode(), headers=_NO_STORE)
            return
        if path == "/execution":
            status, page = serve.execution_page((parse_qs(url.query).get("arn") or [""])[0])
            self.reply(status, page.encode(), "text/html; charset=utf-8", _NO_STORE)
            return
        if path in PAGES or path.rstrip("/") in PAGES:
            self._file(serve.web / PAGES[path.rstrip("/")])
            return
        if path.startswith("/v/"):
            self._file(serve.web / "v" / "index.html")
            return
        if path in ("/", "/index.html"):
            self._file(serve.web / "index.html")
            return
        target = (serve.web / path.lstrip("/")).resolve()
        if serve.web.resolve() not in target.parents or not target.is_file():
            self.reply(404, b"Not found.\n", "text/plain")
            return
        self._file(target)

    do_HEAD = do_GET  # noqa: N815

    def _file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            self.reply(404, b"Not found.\n", "text/plain")
            return
        ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.reply(200, data, ctype, _NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def run(
    port: int = DEFAULT_PORT,
    aws_stack: str | None = None,
    write_config: str | None = None,
    open_path: str | None = None,
) -> int:
    """The CLI: start everything, print the URLs and credentials, and run until Ctrl-C. The
    catalog comes from the data folder, and what operators decide on the review page is kept
    there when the server stops. With open_path, that page opens in the browser."""
    if aws_stack:
        return _aws(aws_stack, write_config, port)
    from gallery_local import catalog_store
    from gallery_local.stack import Settings

    _stop_on_sigterm()
    print("Starting the local stack (moto, the face engine, AppSync, the API)...", flush=True)
    with LocalStack(Settings(data_dir=catalog_store.DATA_DIR)) as stack, Serve(stack, port=port) as serve:
        from gallery import THEMES
        from gallery_local.demo import ensure_catalog

        ensure_catalog(stack, set(THEMES))
        print(serve.banner(), flush=True)
        if open_path:
            import webbrowser

            webbrowser.open(serve.urls.base + open_path)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nStopping...", flush=True)
        finally:
            saved = catalog_store.save(stack, catalog_store.DATA_DIR)
            print(f"Catalog kept in {catalog_store.DATA_DIR} ({saved} items).", flush=True)
    return 0


def _stop_on_sigterm() -> None:
    """`kill` (SIGTERM) stops as cleanly as Ctrl-C: the face engine process is stopped too."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _aws(stack_name: str, write_config: str | None, port: int) -> int:
    """Pages against a deployed stack: write its config.json, or serve web/ with it."""
    import boto3

    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    cfn = session.client("cloudformation", region_name=region)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    params = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    config = config_from_outputs(outputs, region, params)
    text = json.dumps(config, indent=1) + "\n"
    if write_config:
        Path(write_config).write_text(text)
        print(f"Wrote {write_config} for stack {stack_name} ({region}). Upload it beside the pages.")
        return 0

    class _Static(_Handler):
        def do_GET(self) -> None:  # noqa: N802
            if urlparse(self.path).path == "/config.json":
                self.reply(200, text.encode(), headers=_NO_STORE)
                return
            super().do_GET()

    server = LoopbackServer(_Static, _StaticOnly(), port)
    server.start()
    print(
        f"Serving web/ for stack {stack_name} on {server.url}: /tablet /wall?displays=1-8 /admin /v/#view={{viewToken}}"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


class _StaticOnly:
    web = WEB

    def config(self) -> dict:  # answered by _Static itself
        return {}

    def execution_page(self, arn: str) -> tuple[int, str]:
        return 302, _page("Execution", f'<a href="{quote(arn)}">{html.escape(arn)}</a>')
