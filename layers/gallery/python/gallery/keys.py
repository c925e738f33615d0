"""Where each object of a visit lives in the photo bucket. Lifecycle rules in template.yaml
expire these prefixes, so a new kind of object needs a prefix there too."""

import re

from gallery.errors import KeyOutsideUploads

UPLOADS = "uploads/"
FACES = "faces/"
RESULTS = "results/"
SWAPS = "inference/swaps/"
INFERENCE_IN = "inference/in/"
CATALOG = "catalog/"

_UPLOAD = re.compile(r"^uploads/(?P<display>[1-9][0-9]{0,2})/(?P<visit>[0-9a-f]{32})\.jpg$")


def upload_key(display_id: str, visit_id: str) -> str:
    return f"{UPLOADS}{display_id}/{visit_id}.jpg"


def parse_upload_key(key: str) -> tuple[str, str]:
    """(displayId, visitId) of a tablet upload key; anything else is KeyOutsideUploads."""
    m = _UPLOAD.match(key or "")
    if not m:
        raise KeyOutsideUploads(f"Not a tablet upload: {key!r}.")
    return m["display"], m["visit"]


def face_key(visit_id: str) -> str:
    return f"{FACES}{visit_id}.png"


def swap_key(visit_id: str) -> str:
    return f"{SWAPS}{visit_id}.png"


def result_key(visit_id: str) -> str:
    return f"{RESULTS}{visit_id}.png"


def visit_object_keys(display_id: str, visit_id: str) -> list[str]:
    """Every object a visit can leave behind, for deletion."""
    return [upload_key(display_id, visit_id), face_key(visit_id), swap_key(visit_id), result_key(visit_id)]
