"""The fake's read-only endpoints: the Models API (`GET /v1/models/{id}`) and the Files API
(`GET /v1/files/{id}`, `GET /v1/files/{id}/content`) for files code execution "produced"."""

from __future__ import annotations

import threading

from . import wire
from .models import Profile, profile
from .transport import Handler

MODELS_PATH = "/v1/models/"
FILES_PATH = "/v1/files/"


class Catalog:
    """The models beyond the built-in table, and the files added with `FakeMessagesAPI.add_file`."""

    def __init__(self, models: dict[str, Profile]) -> None:
        self.models = models
        self._files: dict[str, tuple[str, str, bytes]] = {}
        self._lock = threading.Lock()

    def profile(self, model: object) -> Profile | None:
        return profile(model, self.models)

    def add_file(self, file_id: str, filename: str, data: bytes, mime_type: str) -> None:
        with self._lock:
            self._files[file_id] = (filename, mime_type, data)

    def _file(self, path: str) -> tuple[str, str, bytes] | None:
        with self._lock:
            return self._files.get(path[len(FILES_PATH):].removesuffix("/content"))

    @staticmethod
    def handles(method: str, path: str) -> bool:
        return method == "GET" and path.startswith((MODELS_PATH, FILES_PATH))

    def describe(self, path: str) -> str:
        """What `serve` will answer, for the request log."""
        if path.startswith(MODELS_PATH):
            return "models" if self.profile(path[len(MODELS_PATH):]) else "not found"
        return "files" if self._file(path) else "not found"

    def serve(self, h: Handler, path: str, request_id: str) -> None:
        if path.startswith(MODELS_PATH):
            model = self.profile(path[len(MODELS_PATH):])
            if model is None:
                error = wire.error_body("not_found_error", f"model: {path[len(MODELS_PATH):]}", request_id)
                h.send_json(404, error, request_id)
            else:
                h.send_json(200, model.model_info(), request_id)
            return
        found = self._file(path)
        if found is None:
            h.send_json(404, wire.error_body("not_found_error", f"File not found: {path}", request_id), request_id)
            return
        filename, mime_type, data = found
        if path.endswith("/content"):
            h.send_bytes(data, request_id, mime_type)
            return
        h.send_json(200, {"type": "file", "id": path[len(FILES_PATH):], "filename": filename,
                          "mime_type": mime_type, "size_bytes": len(data), "created_at": "2026-12-01T00:00:00Z",
                          "downloadable": True}, request_id)
