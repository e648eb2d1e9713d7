"""A tiny Docker registry (HTTP, Basic auth) serving one generated image, for real pull tests.

Docker treats registries on 127.0.0.0/8 as insecure and falls back to plain HTTP, so the local
engine can pull from it with no TLS set-up and no outside network.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(payload_size: int) -> tuple[bytes, bytes]:
    """A gzipped layer holding one file of random bytes, and its uncompressed tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        payload = os.urandom(payload_size)
        info = tarfile.TarInfo("payload.bin")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    tar = buffer.getvalue()
    return gzip.compress(tar, compresslevel=1), tar


@dataclass
class TinyRegistry:
    """The registry's image, credentials and what it saw; ``address`` is ``127.0.0.1:port``.

    Without a ``username`` anyone may pull.
    """

    repository: str
    tag: str
    username: str | None = None
    password: str | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifest: bytes = b""
    layer_bytes: int = 0
    authorizations: list[str] = field(default_factory=list)
    address: str = ""

    @property
    def ref(self) -> str:
        """The image reference to pull."""
        return f"{self.address}/{self.repository}:{self.tag}"

    def build(self, payload_size: int) -> None:
        """Make the layer, the image config and the manifest."""
        layer, tar = _layer(payload_size)
        config = json.dumps({
            "architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar)]},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "tests"}],
        }).encode()
        self.blobs = {_digest(layer): layer, _digest(config): config}
        self.layer_bytes = len(layer)
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": len(layer), "digest": _digest(layer)}],
        }).encode()


def _handler(registry: TinyRegistry) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self) -> None:
            given = self.headers.get("Authorization", "")
            if given:
                registry.authorizations.append(given)
            if registry.username is not None and given != expected:
                self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                           {"WWW-Authenticate": 'Basic realm="tiny"', "Content-Type": "application/json"})
                return
            prefix = f"/v2/{registry.repository}/"
            if self.path == "/v2/":
                self._send(200, b"{}", {"Content-Type": "application/json"})
            elif self.path.startswith(prefix + "manifests/"):
                reference = self.path[len(prefix + "manifests/"):]
                if reference not in (registry.tag, _digest(registry.manifest)):
                    self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                    return
                self._send(200, registry.manifest, {"Content-Type": MANIFEST_TYPE,
                                                    "Docker-Content-Digest": _digest(registry.manifest)})
            elif self.path.startswith(prefix + "blobs/"):
                blob = registry.blobs.get(self.path[len(prefix + "blobs/"):])
                if blob is None:
                    self._send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
                    return
                self._send(200, blob, {"Content-Type": "application/octet-stream"})
            else:
                self._send(404)

        do_GET = _serve
        do_HEAD = _serve

    return Handler


def serve_registry(registry: TinyRegistry, payload_size: int = 3 * 1024 * 1024) -> Iterator[TinyRegistry]:
    """Build the image and serve it on 127.0.0.1 until the generator is closed."""
    registry.build(payload_size)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    registry.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
