"""The body limit of a file upload: the largest media (100 MB) instead of 64 KiB.

Only for a multipart/form-data request to a view that declares one
(`operation(multipart=...)`); every JSON body keeps MAX_CONTENT_LENGTH. Each
file is then held to its own type's limit while it is copied (app/media/ingest.py).
"""

from flask import current_app, request

from app.media.types import LARGEST
from app.schemas.http import is_multipart

# Room for the form's other fields and the multipart boundaries.
FORM_OVERHEAD_BYTES = 256 * 1024


def allow_file_bodies() -> None:
    """Raise this request's body limit when it uploads a file to a view that takes one."""
    view = current_app.view_functions.get(request.endpoint)
    declared = getattr(view, "__operation__", None)
    if declared is not None and declared.multipart is not None and is_multipart():
        request.max_content_length = LARGEST + FORM_OVERHEAD_BYTES
