"""Where each object of a visit lives in the photo bucket. Lifecycle rules in template.yaml
expire these prefixes, so a new kind of object needs a prefix there too."""

import re

from gallery.errors import KeyOutsideUploads

UPLOADS = "uploads/"
FACES = "faces/"
RESULTS = "results/"
SWAPS = "inference/swaps/"
INFERENCE = "inference/"
CATALOG = "catalog/"
# The copy of a portrait that walls and viewers load: named by the view token, so that no URL
# the public sees carries the visit id.
WALL = "wall/"

_UPLOAD = re.compile(r"uploads/(?P<display>[1-9][0-9]{0,2})/(?P<visit>[0-9a-f]{32})\.jpg")


def upload_key(display_id: str, visit_id: str) -> str:
    return f"{UPLOADS}{display_id}/{visit_id}.jpg"


def parse_upload_key(key: str) -> tuple[str, str]:
    """(displayId, visitId) of a tablet upload key; anything else is KeyOutsideUploads."""
    m = _UPLOAD.fullmatch(key or "")
    if not m:
        raise KeyOutsideUploads(f"Not a tablet upload: {key!r}.")
    return m["display"], m["visit"]


def face_key(visit_id: str) -> str:
    return f"{FACES}{visit_id}.png"


def swap_key(visit_id: str) -> str:
    return f"{SWAPS}{visit_id}.png"


def result_key(visit_id: str) -> str:
    return f"{RESULTS}{visit_id}.png"


def wall_image_key(view_token: str) -> str:
    return f"{WALL}{view_token}.png"


def inference_id(visit_id: str, attempt: str) -> str:
    """Async inference ids start with the visit id, so every request, output and failure
    object of a visit can be found (and deleted) by prefix."""
    return f"{visit_id}-{attempt}"


def inference_input_key(task: str, inference: str) -> str:
    return f"{INFERENCE}in/{task}/{inference}.json"


def visit_object_keys(display_id: str, visit_id: str) -> list[str]:
    """The objects of a visit with fixed names."""
    return [upload_key(display_id, visit_id), face_key(visit_id), swap_key(visit_id), result_key(visit_id)]


def visit_inference_prefixes(visit_id: str) -> list[str]:
    """Where a visit's async inference requests, outputs and failures may lie."""
    return [f"{INFERENCE}{kind}/{task}/{visit_id}-" for kind in ("in", "out", "errors") for task in ("swap", "restore")]
