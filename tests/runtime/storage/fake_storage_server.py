"""A real HTTP/1.1 socket server standing in for Supabase Storage (v1.70) on 127.0.0.1.

It implements what the client uses, the way the real server answers:

* ``POST /storage/v1/object/{bucket}/{path}``: multipart upload (``x-upsert``), ``200 {"Key"...}``;
* ``GET /storage/v1/object/authenticated/{bucket}/{path}``: the object, streamed from disk; an
  invalid key is ``403`` (``{"statusCode":"403","error":"Unauthorized"...}``);
* ``GET /storage/v1/object/{bucket}/{path}``: the same with a valid key, but an invalid or
  expired key falls back to public access, where a private bucket is ``404 "Bucket not found"``;
* ``GET /storage/v1/object/info/{bucket}/{path}``: size and MD5 ETag of the object;
* uploads without upsert are checked for an existing object before the body is read and stored
  with an upsert at the end (as the real server does), so concurrent writers can all succeed;
  ``State.upload_barrier`` holds uploads after that check (and after storing) to make races
  deterministic;
* TUS 1.0 at ``/storage/v1/upload/resumable``: ``POST`` creates (``201`` + ``Location``), ``PATCH``
  appends a chunk (``204`` + ``Upload-Offset``; every chunk but the last must be 6 MiB), ``HEAD``
  reports the offset, ``DELETE`` terminates the upload; ``x-upsert`` is re-checked on every
  ``PATCH`` (an existing object without it is ``409``); errors are real statuses with plain-text
  bodies;
* JSON API errors are HTTP 400 with the real status as a string in the body, e.g.
  ``{"statusCode":"409","error":"Duplicate","message":"The resource already exists",
  "code":"KeyAlreadyExists"}``;
* after rejecting an upload early with a body larger than 200 KB it answers with keep-alive but
  never reads the rest of the body, and never answers another request on that connection.

Objects are written to a folder on disk (nothing large is kept in memory), so the server can
take a 200 MB upload. Faults can be queued for the next ``PATCH`` requests (``"503"``, ``"403"``,
``"drop"``, ``"another_writer"``: another writer stores the object first, so the final chunk of
an upload without upsert gets 409 with the offset unchanged; anything else: no fault).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SERVICE_KEY = "sb_secret_" + "k" * 40
CHUNK = 6 * 1024 * 1024
UNREAD_BODY_THRESHOLD = 200 * 1024
BUCKETS = ("audio-uploads", "reference-images", "video-clips", "video-outputs")


@dataclass
class _Upload:
    bucket: str
    name: str
    length: int
    content_type: str
    upsert: bool
    file: Path
    offset: int = 0


@dataclass
class StoredObject:
    path: Path
    content_type: str
    cache_control: str


@dataclass
class State:
    root: Path
    service_key: str = SERVICE_KEY
    buckets: set[str] = field(default_factory=lambda: set(BUCKETS))
    bucket_limits: dict[str, int] = field(default_factory=dict)
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    uploads: dict[str, _Upload] = field(default_factory=dict)
    patch_faults: list[str] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    chunk_sizes: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: When set, single-request uploads wait here after the existence check and after storing.
    upload_barrier: threading.Barrier | None = None
    terminated: list[str] = field(default_factory=list)


def _json_error(status: str, error: str, message: str, code: str | None = None) -> bytes:
    body: dict[str, Any] = {"statusCode": status, "error": error, "message": message}
    if code is not None:
        body["code"] = code
    return json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.connections += 1

    # -- plumbing --------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.server.state

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "keep-alive")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _length(self) -> int:
        return int(self.headers.get("Content-Length") or 0)

    def _wait_at_barrier(self) -> None:
        barrier = self.state.upload_barrier
        if barrier is not None:
            barrier.wait(timeout=10)

    def _reject_upload(self, status: int, body: bytes, content_type: str) -> None:
        """Answer before reading the body, as Storage does; a big body poisons the connection."""
        self._send(status, body, content_type)
        remaining = self._length()
        if remaining <= UNREAD_BODY_THRESHOLD:
            self.rfile.read(remaining)
            return
        # Keep-alive was promised, but the rest of the body is never read as a body and no
        # later request on this connection is ever answered.
        while self.rfile.read(65536):
            pass
        self.close_connection = True

    def _authorised(self) -> bool:
        key = self.state.service_key
        return (
            self.headers.get("apikey") == key
            and self.headers.get("Authorization") == f"Bearer {key}"
        )

    def _split(self) -> tuple[str, list[str]]:
        path = urlsplit(self.path).path
        prefix = "/storage/v1/"
        if not path.startswith(prefix):
            return "", []
        parts = [unquote(p) for p in path[len(prefix) :].split("/")]
        return parts[0], parts[1:]

    # -- object API ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.state.requests["GET"] += 1
        area, rest = self._split()
        if area != "object" or len(rest) < 2:
            self._send(404, b"not found", "text/plain")
            return
        if rest[0] == "info" and len(rest) >= 3:
            self._object_info(rest[1], "/".join(rest[2:]))
            return
        authenticated = rest[0] == "authenticated"
        if authenticated:
            rest = rest[1:]
        if len(rest) < 2:
            self._send(404, b"not found", "text/plain")
            return
        if not self._authorised():
            if authenticated:
                self._send(
                    400, _json_error("403", "Unauthorized", "invalid signature", "AccessDenied")
                )
            else:  # falls back to public access: our buckets are private
                self._send(
                    400, _json_error("404", "Bucket not found", "Bucket not found", "NoSuchBucket")
                )
            return
        bucket, name = rest[0], "/".join(rest[1:])
        stored = self.state.objects.get((bucket, name))
        if stored is None:
            self._send(400, _json_error("404", "not_found", "Object not found", "NoSuchKey"))
            return
        size = stored.path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", stored.content_type)
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", f"max-age={stored.cache_control}")
        self.end_headers()
        with stored.path.open("rb") as handle:
            shutil.copyfileobj(handle, self.wfile, 64 * 1024)

    def _object_info(self, bucket: str, name: str) -> None:
        if not self._authorised():
            self._send(400, _json_error("403", "Unauthorized", "invalid signature", "AccessDenied"))
            return
        stored = self.state.objects.get((bucket, name))
        if stored is None:
            self._send(400, _json_error("404", "not_found", "Object not found", "NoSuchKey"))
            return
        data = stored.path.read_bytes()
        info = {
            "id": str(uuid.uuid4()),
            "name": name,
            "bucket_id": bucket,
            "version": str(uuid.uuid4()),
            "size": len(data),
            "content_type": stored.content_type,
            "cache_control": f"max-age={stored.cache_control}",
            "etag": f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"',
            "metadata": {},
            "created_at": "2025-11-14T10:30:00.000Z",
            "last_modified": "2025-11-14T10:30:00.000Z",
        }
        self._send(200, json.dumps(info).encode())

    def _object_upload(self, bucket: str, name: str) -> None:
        length = self._length()
        if not self._authorised():
            self._reject_upload(
                400, _json_error("403", "Unauthorized", "invalid signature", "AccessDenied"),
                "application/json",
            )  # fmt: skip
            return
        if bucket not in self.state.buckets:
            self._reject_upload(
                400, _json_error("404", "Bucket not found", "Bucket not found", "NoSuchBucket"),
                "application/json",
            )  # fmt: skip
            return
        upsert = self.headers.get("x-upsert") == "true"
        if (bucket, name) in self.state.objects and not upsert:
            self._reject_upload(
                400,
                _json_error("409", "Duplicate", "The resource already exists", "KeyAlreadyExists"),
                "application/json",
            )
            return
        limit = self.state.bucket_limits.get(bucket)
        if limit is not None and length > limit:
            self._reject_upload(
                400,
                _json_error(
                    "413",
                    "Payload too large",
                    "The object exceeded the maximum allowed size",
                    "EntityTooLarge",
                ),
                "application/json",
            )
            return
        body = self.rfile.read(length)
        self._wait_at_barrier()  # concurrent writers all passed the existence check
        fields = _parse_multipart(self.headers.get("Content-Type", ""), body)
        data, content_type = fields["file"]
        target = self.state.root / uuid.uuid4().hex
        target.write_bytes(data)
        cache_control = fields.get("cacheControl", (b"3600", ""))[0].decode()
        # Stored with an upsert at the end, as the real server does: the last writer wins.
        self.state.objects[(bucket, name)] = StoredObject(target, content_type, cache_control)
        self._wait_at_barrier()  # every writer stored before any answer goes out
        self._send(200, json.dumps({"Key": f"{bucket}/{name}", "Id": str(uuid.uuid4())}).encode())

    # -- TUS -------------------------------------------------------------------------------

    def _tus_headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": "1.0.0", **extra}

    def _tus_create(self) -> None:
        if not self._authorised():
            self._send(403, b"invalid signature", "text/plain")
            return
        metadata: dict[str, str] = {}
        for item in self.headers.get("Upload-Metadata", "").split(","):
            key, _, value = item.strip().partition(" ")
            metadata[key] = base64.b64decode(value).decode()
        bucket, name = metadata["bucketName"], metadata["objectName"]
        length = int(self.headers["Upload-Length"])
        upsert = self.headers.get("x-upsert") == "true"
        if bucket not in self.state.buckets:
            self._send(404, b"Bucket not found", "text/plain")
            return
        if (bucket, name) in self.state.objects and not upsert:
            self._send(409, b"The resource already exists", "text/plain")
            return
        limit = self.state.bucket_limits.get(bucket)
        if limit is not None and length > limit:
            self._send(413, b"Maximum size exceeded", "text/plain")
            return
        upload_id = uuid.uuid4().hex
        target = self.state.root / f"upload-{upload_id}"
        target.touch()
        self.state.uploads[upload_id] = _Upload(
            bucket, name, length, metadata.get("contentType", ""), upsert, target
        )
        host = self.headers.get("Host", "127.0.0.1")
        location = f"http://{host}/storage/v1/upload/resumable/{upload_id}"
        self._send(201, b"", "text/plain", self._tus_headers(Location=location))

    def _tus_patch(self, upload_id: str) -> None:
        upload = self.state.uploads.get(upload_id)
        length = self._length()
        if upload is None:
            self._reject_upload(404, b"Upload not found", "text/plain")
            return
        fault = self.state.patch_faults.pop(0) if self.state.patch_faults else None
        if fault == "503":
            self._reject_upload(503, b"Service Unavailable", "text/plain")
            return
        if fault == "403":
            self._reject_upload(403, b"new row violates row-level security policy", "text/plain")
            return
        if fault == "another_writer":  # someone else stores the object while we upload
            other = self.state.root / uuid.uuid4().hex
            other.write_bytes(b"another writer's object")
            self.state.objects[(upload.bucket, upload.name)] = StoredObject(
                other, upload.content_type, "3600"
            )
        if self.headers.get("Content-Type") != "application/offset+octet-stream":
            self._reject_upload(415, b"Unsupported Media Type", "text/plain")
            return
        if int(self.headers.get("Upload-Offset", "-1")) != upload.offset:
            self._reject_upload(409, b"Upload-Offset conflict", "text/plain")
            return
        final = upload.offset + length == upload.length
        if not final and length != CHUNK:
            self._reject_upload(400, b"Chunk size must be 6MB", "text/plain")
            return
        # Storage re-checks x-upsert on every PATCH (the creation's value is not remembered).
        upsert = self.headers.get("x-upsert") == "true"
        if not upsert and (upload.bucket, upload.name) in self.state.objects:
            # The object exists (or appeared since the upload was created): the offset stays.
            self._reject_upload(409, b"The resource already exists", "text/plain")
            return
        self.state.chunk_sizes.append(length)
        with upload.file.open("ab") as handle:
            if fault == "drop":
                # Take half of the chunk, then the connection dies without an answer.
                handle.write(self.rfile.read(length // 2))
                upload.offset += length // 2
                self.close_connection = True
                self.connection.shutdown(2)
                return
            remaining = length
            while remaining:
                piece = self.rfile.read(min(remaining, 256 * 1024))
                if not piece:
                    return
                handle.write(piece)
                remaining -= len(piece)
        upload.offset += length
        if upload.offset == upload.length:
            self.state.objects[(upload.bucket, upload.name)] = StoredObject(
                upload.file, upload.content_type, "3600"
            )
        self._send(
            204, b"", "text/plain", self._tus_headers(**{"Upload-Offset": str(upload.offset)})
        )

    def do_HEAD(self) -> None:
        self.state.requests["HEAD"] += 1
        area, rest = self._split()
        upload = self.state.uploads.get(rest[1]) if area == "upload" and len(rest) == 2 else None
        if upload is None:
            self._send(404, b"", "text/plain")
            return
        self._send(
            200,
            b"",
            "text/plain",
            self._tus_headers(
                **{
                    "Upload-Offset": str(upload.offset),
                    "Upload-Length": str(upload.length),
                    "Cache-Control": "no-store",
                }
            ),
        )

    def do_POST(self) -> None:
        self.state.requests["POST"] += 1
        area, rest = self._split()
        if area == "object" and len(rest) >= 2:
            self._object_upload(rest[0], "/".join(rest[1:]))
        elif area == "upload" and rest == ["resumable"]:
            self._tus_create()
        else:
            self._reject_upload(404, b"not found", "text/plain")

    def do_DELETE(self) -> None:
        self.state.requests["DELETE"] += 1
        area, rest = self._split()
        if area == "upload" and len(rest) == 2 and rest[0] == "resumable":
            upload = self.state.uploads.pop(rest[1], None)
            if upload is None:
                self._send(404, b"Upload not found", "text/plain")
                return
            if (upload.bucket, upload.name) not in self.state.objects or (
                self.state.objects[(upload.bucket, upload.name)].path != upload.file
            ):
                upload.file.unlink(missing_ok=True)
            self.state.terminated.append(rest[1])
            self._send(204, b"", "text/plain", self._tus_headers())
        else:
            self._send(404, b"not found", "text/plain")

    def do_PATCH(self) -> None:
        self.state.requests["PATCH"] += 1
        area, rest = self._split()
        if area == "upload" and len(rest) == 2 and rest[0] == "resumable":
            self._tus_patch(rest[1])
        else:
            self._reject_upload(404, b"not found", "text/plain")


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str]]:
    """Return ``{field: (data, part content type)}`` of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, tuple[bytes, str]] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        disposition = headers.get("Content-Disposition", "")
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        fields[name] = (data[:-2], headers.get("Content-Type", ""))
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


class FakeStorage:
    """Run the stand-in server on a free port in a background thread (``with FakeStorage(...)``)."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.state = State(root=root)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def service_key(self) -> str:
        return self.state.service_key

    def object_bytes(self, bucket: str, name: str) -> bytes:
        return self.state.objects[(bucket, name)].path.read_bytes()

    def put_object(self, bucket: str, name: str, source: Path, content_type: str) -> None:
        """Store a copy of ``source`` as an object directly (no request), e.g. to download it."""
        target = self.state.root / uuid.uuid4().hex
        shutil.copyfile(source, target)
        self.state.objects[(bucket, name)] = StoredObject(target, content_type, "3600")

    def __enter__(self) -> FakeStorage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
