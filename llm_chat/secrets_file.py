"""The generated secrets file: created once, private (mode 0600), never rewritten."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path

FILE_NAME = "secrets.json"
KEYS = ("jwt_secret", "encryption_key")


def read_secrets(path: Path) -> dict[str, str]:
    """The secrets stored in ``path``.

    Raises:
        ValueError: if the file cannot be read or lacks a secret (the message says which file).
    """
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Cannot read the secrets file {path}: {exc}") from exc
    if not isinstance(stored, dict) or not all(isinstance(stored.get(key), str) for key in KEYS):
        raise ValueError(
            f"The secrets file {path} lacks {' or '.join(KEYS)}: restore it from a backup"
            " (new secrets would make stored provider keys unreadable)."
        )
    return {key: stored[key] for key in KEYS}


def create_secrets_file(path: Path) -> None:
    """Write fresh random secrets to ``path`` (mode 0600) unless it exists.

    The file is written aside and linked into place, so that several workers starting at once
    all read the same, complete file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = {key: secrets.token_urlsafe(48) for key in KEYS}
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(generated, handle)
            handle.flush()
            os.fsync(handle.fileno())
        # If another process of this start linked its file first, theirs is kept.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)
