"""The payloads that cross a boundary, in one place: what each Lambda function receives and
returns, as TypedDicts.

- The pipeline (statemachine/pipeline.asl.json) and the catalog workflow
  (statemachine/catalog.asl.json): each Task state's Lambda payload and the function's result
  (STATES maps every Task state to them).
- The SageMaker async inference notification that the endpoints publish on their success and
  error topics, as inference_callback parses it.
- The REST API's JSON request bodies and responses.

AWS's own envelopes (API Gateway proxy events, SNS and EventBridge events) are Powertools'
event source data classes (aws_lambda_powertools.utilities.data_classes); the TypedDicts here are
our payloads inside them. Samples of each are events/*.json: tests/unit/test_contracts.py checks
every sample against its contract (EVENTS), and tests/e2e/test_contracts_e2e.py checks every Task
state of a real visit's execution history against STATES, so a drifted key fails a test rather
than a visit.

Every TypedDict here forbids keys it does not name when pydantic validates it (the tests do;
`__pydantic_config__`, set at the end). The layer itself never imports pydantic."""

from typing import Any, Literal, NotRequired

# typing_extensions (a dependency of Powertools): pydantic needs its TypedDict before Python 3.12.
from typing_extensions import TypedDict, is_typeddict

# --- The pipeline: statemachine/pipeline.asl.json -----------------------------------------------

Status = Literal["WAITING_FOR_PHOTO", "PROCESSING", "DONE", "REJECTED", "FAILED", "DELETING"]
Ended = Literal["REJECTED", "FAILED"]


class S3Bucket(TypedDict):
    name: str


# EventBridge's "Object Created" detail, as documented for S3 (hyphenated keys: functional form).
S3Object = TypedDict(
    "S3Object",
    {"key": str, "size": int, "etag": str, "sequencer": str, "version-id": NotRequired[str]},
)
S3ObjectCreatedDetail = TypedDict(
    "S3ObjectCreatedDetail",
    {
        "version": str,
        "bucket": S3Bucket,
        "object": S3Object,
        "request-id": str,
        "requester": str,
        "source-ip-address": str,
        "reason": str,
    },
)


class ClaimVisitInput(TypedDict):
    """ClaimVisit's payload: the upload from the execution's input (the S3 event)."""

    bucket: str
    key: str
    executionArn: str


class ClaimedVisit(TypedDict):
    """ClaimVisit's result; the state keeps it as $.visit."""

    visitId: str
    displayId: str
    theme: str
    bucket: str
    key: str


class CropFaceInput(TypedDict):
    visit: ClaimedVisit


class AgeRange(TypedDict):
    low: int
    high: int


class FaceFound(TypedDict):
    """crop.crop_face's description of the face. The traits (gender, ageRange, skinTone) go to
    the visit item, never into the state: CropFace returns a CroppedFace."""

    key: str
    faces: int
    box: list[int]
    skinTone: NotRequired[str]
    ageRange: NotRequired[AgeRange]
    gender: NotRequired[str]


class CroppedFace(TypedDict):
    """CropFace's result ($.face.details; $.face.key and $.face.ms are selected from it)."""

    key: str
    faces: int
    box: list[int]
    ms: int


class ChoosePortraitInput(TypedDict):
    visit: ClaimedVisit
    face: CroppedFace


class ChosenPortrait(TypedDict):
    """catalog.choose_portrait's result: every field later states read, in the visit's language."""

    portraitId: str
    key: str
    title: str
    story: str
    audioKey: str


class Portrait(ChosenPortrait):
    """ChoosePortrait's result, with its stage time; the state keeps it as $.portrait."""

    ms: int


InferenceTask = Literal["swap", "restore"]


class InvokeEndpointInput(TypedDict):
    """SwapFace's and RestoreFace's payload (lambda:invoke.waitForTaskToken). `inputs` names the
    model server's inputs: face and portrait for swap, image for restore."""

    taskToken: str
    task: InferenceTask
    endpoint: str
    visitId: str
    theme: str
    inputs: dict[str, str]
    resultKey: str


class InferenceStarted(TypedDict):
    """What InvokeEndpoint returns (the waiting task ignores it)."""

    inferenceId: str


class InferenceResult(TypedDict):
    """SwapFace's and RestoreFace's result: the output inference_callback sends with
    SendTaskSuccess ($.swap, $.restore)."""

    key: str
    ms: int
    inferenceId: str


class Timings(TypedDict):
    cropMs: int
    portraitMs: int
    swapMs: int
    restoreMs: int


class DoneOutcome(TypedDict):
    """PublishDisplay's and NotifySlack's payload for a visit that became a portrait."""

    status: Literal["DONE"]
    visit: ClaimedVisit
    resultKey: str
    portrait: Portrait
    timings: Timings
    executionArn: str


class StatesError(TypedDict):
    """What a Catch puts at its ResultPath ($.error)."""

    Error: str
    Cause: str


class RecordOutcomeInput(TypedDict):
    """MarkRejected's and MarkFailed's payload."""

    status: Ended
    key: str
    error: StatesError
    executionArn: str


class OutcomeVisit(TypedDict):
    visitId: str
    displayId: str
    theme: str | None


class EndedNotice(TypedDict):
    """PublishRejected's, PublishFailed's and AlertSlack's payload: how a visit ended without a
    portrait."""

    status: Ended
    visit: OutcomeVisit
    reason: str
    message: str
    executionArn: str


class RecordedOutcome(EndedNotice):
    """MarkRejected's and MarkFailed's result ($.outcome.Payload); also what execution_ended and
    the sweeper alert about. `recorded` is False when the visit was gone or already final."""

    recorded: bool


class SweptOutcome(RecordedOutcome):
    """A visit the sweeper ended; a stuck one also says what became of its execution."""

    stopped: NotRequired[str]


class Swept(TypedDict):
    """What one sweep ended (sweeper.sweep)."""

    stuck: list[SweptOutcome]
    abandoned: list[SweptOutcome]


class DisplayInput(TypedDict):
    """AppSync's DisplayInput (appsync/schema.graphql) for publishResult: what a tile shows."""

    displayId: str
    visitId: NotRequired[str]
    status: str
    theme: NotRequired[str]
    story: NotRequired[str]
    title: NotRequired[str]
    language: NotRequired[str]
    reason: NotRequired[str]
    imageUrl: NotRequired[str]
    viewToken: NotRequired[str]
    viewExpiresAt: NotRequired[int]


class Display(TypedDict):
    """AppSync's Display, as publishResult returns it (never the visit id)."""

    displayId: str
    status: str
    imageUrl: str | None
    story: str | None
    title: str | None
    language: str | None
    theme: str | None
    reason: str | None
    viewToken: str | None
    viewExpiresAt: int | None
    updatedAt: str | None


class NotPublished(TypedDict):
    published: Literal[False]
    reason: str


PublishDisplayInput = DoneOutcome | EndedNotice
PublishDisplayOutput = Display | NotPublished


class Posted(TypedDict):
    posted: bool


NotifySlackInput = DoneOutcome | EndedNotice

# --- The catalog workflow: statemachine/catalog.asl.json ----------------------------------------


class Dimensions(TypedDict):
    age: str
    gender: str
    skinTone: str
    country: str
    era: str
    occupation: str


class PlannedItem(TypedDict):
    """One planned catalog item (catalog_plan.PlannedItem) as the workflow's Map hands it on."""

    theme: str
    portraitId: str
    variant: int
    dimensions: Dimensions
    prompt: str
    negativePrompt: str
    storyPrompt: str


class CatalogGenerationInput(TypedDict):
    """The catalog workflow's execution input: the planned items dealt into lanes."""

    theme: str
    lanes: list[list[PlannedItem]]


class CheckModelsInput(TypedDict):
    theme: str


class CatalogModels(TypedDict):
    """CheckModels's result ($.models)."""

    imageModel: str
    textModel: str


class GenerateInput(TypedDict):
    item: PlannedItem


class GeneratedItem(TypedDict):
    """Generate's result ($.generated selects status): resumed when an earlier run made it."""

    portraitId: str
    status: str
    resumed: NotRequired[bool]


class AutoReviewInput(TypedDict):
    theme: str
    portraitId: str


class ReviewedItem(TypedDict):
    """Review's result: PENDING_REVIEW, or REJECTED with the reason."""

    portraitId: str
    status: str
    reason: NotRequired[str]


# --- SageMaker async inference: the endpoints' success and error notifications (SNS) -------------


class AsyncRequestParameters(TypedDict):
    endpointName: str
    inputLocation: str
    contentType: NotRequired[str]


class AsyncResponseParameters(TypedDict):
    contentType: NotRequired[str]
    outputLocation: NotRequired[str]  # Completed
    failureLocation: NotRequired[str]  # Failed, when the model answered with an error body


class AsyncInferenceNotification(TypedDict):
    """The JSON message SageMaker publishes for one async inference, as inference_callback reads
    it (the SNS record's Message)."""

    awsRegion: str
    eventTime: str
    receivedTime: str
    invocationStatus: Literal["Completed", "Failed"]
    failureReason: NotRequired[str]
    requestParameters: AsyncRequestParameters
    responseParameters: AsyncResponseParameters
    inferenceId: str
    eventVersion: str
    eventSource: str
    eventName: str


class CallbackResult(TypedDict):
    """What inference_callback did with one notification."""

    inferenceId: str | None
    outcome: str
    error: NotRequired[str]


class CallbackResults(TypedDict):
    results: list[CallbackResult]


# --- Other events: EventBridge details and CloudWatch's alarm message -----------------------------


class ExecutionStatusChangeDetail(TypedDict):
    """EventBridge "Step Functions Execution Status Change" detail (execution_ended). `input` is
    the execution's input as JSON (for the pipeline, the S3 event)."""

    executionArn: str
    stateMachineArn: str
    name: str
    status: str
    startDate: int
    stopDate: int | None
    input: str | None
    output: str | None
    inputDetails: dict[str, Any] | None
    outputDetails: dict[str, Any] | None
    error: str | None
    cause: str | None


class ScheduledEventDetail(TypedDict):
    """EventBridge "Scheduled Event" detail: always empty (the sweeper reads the event's time)."""


class AlarmDimension(TypedDict):
    name: str
    value: str


class AlarmTrigger(TypedDict):
    MetricName: NotRequired[str]
    Namespace: NotRequired[str]
    StatisticType: NotRequired[str]
    Statistic: NotRequired[str]
    Unit: NotRequired[str | None]
    Dimensions: NotRequired[list[AlarmDimension]]
    Metrics: NotRequired[list[dict[str, Any]]]  # a metric-math alarm
    Period: NotRequired[int]
    EvaluationPeriods: int
    DatapointsToAlarm: NotRequired[int]
    ComparisonOperator: str
    Threshold: NotRequired[float]
    TreatMissingData: NotRequired[str]
    EvaluateLowSampleCountPercentile: NotRequired[str]


class AlarmNotification(TypedDict):
    """CloudWatch's alarm notification on the operators' topic (the SNS record's Message)."""

    AlarmName: str
    AlarmDescription: str | None
    AWSAccountId: str
    AlarmConfigurationUpdatedTimestamp: str
    NewStateValue: str
    NewStateReason: str
    StateChangeTime: str
    Region: str
    AlarmArn: str
    OldStateValue: str
    OKActions: list[str]
    AlarmActions: list[str]
    InsufficientDataActions: list[str]
    Trigger: AlarmTrigger


class SlackPayload(TypedDict):
    text: str


class AlarmsPosted(TypedDict):
    posted: int


class ExecutionEndedResult(TypedDict):
    recorded: bool
    visitId: NotRequired[str]
    reason: NotRequired[str]


class SweepResult(TypedDict):
    stuck: list[str]
    abandoned: list[str]
    unpublished: list[str]


# --- The REST API: request bodies and responses ---------------------------------------------------


class CreateVisitRequest(TypedDict, total=False):
    """POST /visits. `language` defaults to the event's language; the rest are checked by
    new_visit (an unknown theme or no consent is a 400 with a sentence)."""

    theme: str
    consent: bool
    language: str


class PresignedUpload(TypedDict):
    url: str
    fields: dict[str, str]
    key: str
    maxBytes: int


class VisitView(TypedDict):
    """GET /visits/{visitId} (the tablet) and GET /visits/{visitId}/owner (with owner: true):
    visits.public_view, with the portrait's and the story's URLs once DONE."""

    visitId: str
    displayId: str
    theme: str
    language: NotRequired[str]
    status: Status
    reason: NotRequired[str]
    message: NotRequired[str]
    story: NotRequired[str]
    title: NotRequired[str]
    portraitId: NotRequired[str]
    timings: NotRequired[Timings]
    createdAt: str
    finishedAt: NotRequired[str]
    error: NotRequired[str]
    warmingUp: bool
    owner: NotRequired[bool]
    imageUrl: NotRequired[str]
    audioUrl: NotRequired[str]


class CreateVisitResponse(VisitView):
    """POST /visits (201): the visit, where to upload its photo, and the owner secret (in this
    answer only)."""

    expiresAt: int
    ownerSecret: str
    upload: PresignedUpload


class ViewerView(TypedDict):
    """GET /views/{viewToken}: what the wall shows, and no visit id."""

    displayId: str
    theme: str
    language: NotRequired[str]
    status: Status
    story: NotRequired[str]
    title: NotRequired[str]
    viewExpiresAt: int
    imageUrl: NotRequired[str]
    audioUrl: NotRequired[str]


class DeleteVisitResponse(TypedDict):
    """DELETE /visits/{visitId}."""

    deleted: bool
    objects: int
    displayCleared: bool


class PublicTile(TypedDict):
    """One display in GET /displays (display.public_tile)."""

    displayId: str
    status: NotRequired[str]
    story: NotRequired[str]
    title: NotRequired[str]
    language: NotRequired[str]
    theme: NotRequired[str]
    reason: NotRequired[str]
    updatedAt: NotRequired[str]
    imageUrl: NotRequired[str]
    viewToken: NotRequired[str]
    viewExpiresAt: NotRequired[int]


class DisplaysResponse(TypedDict):
    displays: list[PublicTile]


class OperatorVisitView(VisitView):
    """A visit as GET /visits (operators) lists it: the public view and what operators need."""

    executionArn: NotRequired[str]
    cause: NotRequired[str]
    claimedAt: NotRequired[str]


class AdminVisitsResponse(TypedDict):
    visits: list[OperatorVisitView]


class RefreshDisplayResponse(TypedDict):
    """POST /displays/{displayId}/refresh: the Display as AppSync published it again."""

    display: Display


class CatalogDecisionRequest(TypedDict, total=False):
    """POST /admin/catalog/decisions. catalog_review.decide checks each field."""

    theme: str
    portraitIds: list[str]
    decision: Literal["APPROVED", "REJECTED"]
    reason: str


class CatalogListResponse(TypedDict):
    """GET /admin/catalog?theme=T: the theme's items (as stored, with signed URLs) and the counts
    of every theme (catalog_review.counts)."""

    theme: str
    items: list[dict[str, Any]]
    counts: dict[str, dict[str, Any]]


class ErrorResponse(TypedDict):
    """Any 4xx of the API: the error's name and the sentence to show (api.error_response)."""

    error: str
    message: str


# --- Which state has which contract ----------------------------------------------------------------


class StateContract(TypedDict):
    """A Task state's Lambda payload and the state's result (for waitForTaskToken states, the
    task token's output, not the function's return)."""

    function: str
    input: Any
    output: Any


STATES: dict[str, dict[str, StateContract | None]] = {
    "pipeline": {
        "ClaimVisit": {"function": "claim_visit", "input": ClaimVisitInput, "output": ClaimedVisit},
        "CropFace": {"function": "crop_face", "input": CropFaceInput, "output": CroppedFace},
        "ChoosePortrait": {"function": "choose_portrait", "input": ChoosePortraitInput, "output": Portrait},
        "SwapFace": {"function": "invoke_endpoint", "input": InvokeEndpointInput, "output": InferenceResult},
        "RestoreFace": {"function": "invoke_endpoint", "input": InvokeEndpointInput, "output": InferenceResult},
        "PublishDisplay": {"function": "publish_display", "input": DoneOutcome, "output": PublishDisplayOutput},
        "NotifySlack": {"function": "notify_slack", "input": DoneOutcome, "output": Posted},
        "MarkRejected": {"function": "record_outcome", "input": RecordOutcomeInput, "output": RecordedOutcome},
        "MarkFailed": {"function": "record_outcome", "input": RecordOutcomeInput, "output": RecordedOutcome},
        "PublishRejected": {"function": "publish_display", "input": EndedNotice, "output": PublishDisplayOutput},
        "PublishFailed": {"function": "publish_display", "input": EndedNotice, "output": PublishDisplayOutput},
        "AlertSlack": {"function": "notify_slack", "input": EndedNotice, "output": Posted},
        # DynamoDB integrations: no function, no payload of ours (their parameters are the ASL's).
        "SaveResult": None,
        "RecordFailedFallback": None,
    },
    "catalog": {
        "CheckModels": {"function": "catalog_check_models", "input": CheckModelsInput, "output": CatalogModels},
        "Generate": {"function": "catalog_generate", "input": GenerateInput, "output": GeneratedItem},
        "Review": {"function": "catalog_auto_review", "input": AutoReviewInput, "output": ReviewedItem},
        "MarkFailed": None,
    },
}
# The execution inputs of the two state machines.
EXECUTION_INPUTS: dict[str, Any] = {"pipeline": S3ObjectCreatedDetail, "catalog": CatalogGenerationInput}

# pydantic reads a TypedDict's config from __pydantic_config__ (what pydantic.with_config sets).
_CONFIG = "__pydantic_config__"
for _contract in list(globals().values()):
    if is_typeddict(_contract):
        setattr(_contract, _CONFIG, {"extra": "forbid"})
