"""An httpx.MockTransport that answers like Supabase Storage (v1.70) and records the requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx

from runtime.config import Settings
from runtime.storage import StorageClient, StorageOptions

PROJECT_URL = "https://abcdefghijkl.supabase.co"
SERVICE_KEY = "sb_secret_" + "m" * 40
STORAGE = f"{PROJECT_URL}/storage/v1"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def storage_error(status: str, error: str, message: str, code: str | None = None) -> httpx.Response:
    """Storage's JSON API error: HTTP 400 with the real status as a string in the body."""
    body: dict[str, Any] = {"statusCode": status, "error": error, "message": message}
    if code is not None:
        body["code"] = code
    return httpx.Response(400, json=body)


# A little of each format: enough leading bytes for detection.
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 400
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 400

DUPLICATE = (
    "409",
    "Duplicate",
    "The resource already exists",
    "KeyAlreadyExists",
)
NOT_FOUND = ("404", "not_found", "Object not found", "NoSuchKey")
TOO_LARGE = (
    "413",
    "Payload too large",
    "The object exceeded the maximum allowed size",
    "EntityTooLarge",
)
NO_BUCKET = ("404", "Bucket not found", "Bucket not found", "NoSuchBucket")
BAD_KEY = ("403", "Unauthorized", "invalid signature", "AccessDenied")
EXPIRED = ("400", "InvalidJWT", '"exp" claim timestamp check failed', None)


class StorageMock:
    """Route ``(method, path)`` to queued replies; every request is kept in ``requests``."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []
        self.answered: list[tuple[httpx.Request, httpx.Response]] = []
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self._http: list[httpx.AsyncClient] = []

    def on(self, method: str, path: str, *replies: Reply) -> StorageMock:
        """Queue replies for ``method path`` (the last one repeats)."""
        self._routes.setdefault((method, path), []).extend(replies)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        key = (request.method, request.url.path)
        queue = self._routes.get(key)
        if not queue and request.method == "GET" and "/object/info/" in request.url.path:
            return self._stored_info(request.url.path)
        if not queue:
            return httpx.Response(404, text=f"no mock route for {key}")
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        response = reply(request) if callable(reply) else reply
        self.answered.append((request, response))
        return response

    def _stored_info(self, info_path: str) -> httpx.Response:
        """Answer an unrouted info request as Storage would: from the last successful upload.

        The client reads an object's info back after every upload without upsert (to catch a
        concurrent writer), so by default the mock describes what the last upload that got a
        2xx answer to that path sent; with no such upload the object is not found.
        """
        upload_path = info_path.replace("/object/info/", "/object/", 1)
        for request, reply in reversed(self.answered):
            if request.method == "POST" and request.url.path == upload_path:
                if reply.status_code >= 300:
                    continue
                try:
                    data = multipart_parts(request)["file"][0]
                except (KeyError, IndexError):  # not a multipart upload
                    break
                md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
                return httpx.Response(200, json={"size": len(data), "etag": f'"{md5}"'})
        return storage_error(*NOT_FOUND)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def client(self, **kwargs: Any) -> StorageClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        self._http.append(http)
        options = StorageOptions(url=PROJECT_URL, service_key=SERVICE_KEY, **kwargs)
        return StorageClient(options=options, http_client=http)

    async def aclose(self) -> None:
        for http in self._http:
            await http.aclose()


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def multipart_parts(request: httpx.Request) -> dict[str, tuple[bytes, str]]:
    """Split a multipart/form-data request into ``{name: (data, content type)}``."""
    boundary = request.headers["Content-Type"].split("boundary=", 1)[1].encode()
    parts: dict[str, tuple[bytes, str]] = {}
    for part in request.content.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        name = headers["Content-Disposition"].split('name="', 1)[1].split('"', 1)[0]
        parts[name] = (data[:-2], headers.get("Content-Type", ""))
    return parts


def make_settings(**overrides: object) -> Settings:
    """Valid settings for tests, read from nothing but these values."""
    values: dict[str, object] = {
        "supabase_url": PROJECT_URL,
        "supabase_service_key": SERVICE_KEY,
        "supabase_anon_key": "sb_publishable_" + "p" * 32,
        "redis_url": "redis://127.0.0.1:6379/0",
        "openai_api_key": "sk-" + "o" * 32,
        "replicate_api_token": "r8_" + "r" * 32,
        "jwt_secret_key": "j" * 40,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
