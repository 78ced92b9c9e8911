"""Where media bytes live, behind a narrow interface (Django's Storage is the model):
local files under instance/media by default, S3-compatible object storage when
MEDIA_S3_BUCKET is set (a Heroku dyno's disk is ephemeral).

Every method streams: save() copies from a file object in chunks, response()
sends the file without reading it whole (send_file locally, S3 body chunks).
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Response, current_app, request, send_file

CHUNK_BYTES = 64 * 1024


class Storage(Protocol):
    """The operations the app needs on stored media."""

    def save(self, key: str, fileobj: BinaryIO, mime_type: str) -> None:
        """Store the file's bytes from its current offset (the file may be closed after)."""

    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def response(self, key: str, mime_type: str, size: int) -> Response: ...


class LocalStorage:
    """Files in a folder (MEDIA_ROOT, default instance/media); keys are relative paths."""

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media key outside the storage: {key!r}")
        return path

    def save(self, key: str, fileobj: BinaryIO, mime_type: str) -> None:
        """Write atomically: a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            shutil.copyfileobj(fileobj, out, CHUNK_BYTES)
        os.replace(out.name, path)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def response(self, key: str, mime_type: str, size: int) -> Response:
        """send_file: Range (206), conditional requests, and the server's sendfile."""
        return send_file(
            self._path(key), mimetype=mime_type, conditional=True, etag=True, max_age=0
        )


class S3Storage:
    """An S3-compatible bucket through boto3; keys get MEDIA_S3_PREFIX in front."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str | None):
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def save(self, key: str, fileobj: BinaryIO, mime_type: str) -> None:
        """upload_fileobj sends large files in parts, never holding them whole."""
        self.client.upload_fileobj(
            fileobj, self.bucket, self._key(key), ExtraArgs={"ContentType": mime_type}
        )

    def open(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return False
        return True

    def size(self, key: str) -> int:
        head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return head["ContentLength"]

    def response(self, key: str, mime_type: str, size: int) -> Response:
        """The object streamed in chunks; a Range request asks S3 for that range only."""
        byte_range = request.range.range_for_length(size) if request.range else None
        if request.range and byte_range is None:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        arguments = {"Bucket": self.bucket, "Key": self._key(key)}
        if byte_range:
            arguments["Range"] = f"bytes={byte_range[0]}-{byte_range[1] - 1}"
        body = self.client.get_object(**arguments)["Body"]
        response = Response(
            body.iter_chunks(CHUNK_BYTES), mimetype=mime_type, direct_passthrough=True
        )
        response.headers["Accept-Ranges"] = "bytes"
        if byte_range:
            start, stop = byte_range
            response.status_code = 206
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
            response.content_length = stop - start
        else:
            response.content_length = size
        response.call_on_close(body.close)
        return response


def storage() -> Storage:
    """This app's media storage, made once per configuration."""
    config = current_app.config
    settings = (
        config["MEDIA_S3_BUCKET"],
        config["MEDIA_S3_PREFIX"],
        config["MEDIA_S3_ENDPOINT_URL"],
        config["MEDIA_S3_REGION"],
        config["MEDIA_ROOT"],
    )
    cached = current_app.extensions.get("media_storage")
    if cached is None or cached[0] != settings:
        cached = (settings, _build(*settings))
        current_app.extensions["media_storage"] = cached
    return cached[1]


def _build(bucket, prefix, endpoint_url, region, root) -> Storage:
    if bucket:
        return S3Storage(bucket, prefix, endpoint_url, region)
    return LocalStorage(root)
