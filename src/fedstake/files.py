"""Files other processes read: written whole or not at all, parsed with errors naming them.

Published artifacts (manifest, rewards tables, models), key files and the
compiler's cache are read by other processes, possibly while being
written, and a crash must not leave half a file behind; a reader of a
published JSON document must say which document is wrong. It sits at
the package root, beside `errors.py`, because every layer has such files.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

from fedstake.errors import ArtifactError


def write_atomically(path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = None,
                     replace: bool = True) -> Path:
    """Write `data` to `path` so that readers see the old file or all of the new one.

    The bytes go to a temporary file beside `path`, reach the disk, and are
    renamed over `path`; with `replace=False` they are linked into place
    instead, which fails with `FileExistsError` if `path` exists, even if
    another process creates it meanwhile. Without `mode` the file gets what
    `open` would give it (0666 less the umask): a published file is as
    readable as the user's other files. A secret passes its `mode` (0600),
    which it has from the moment it exists, whatever the umask.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # the umask may have taken bits the caller asked for
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def json_object(data: str | bytes | Mapping[str, Any], *, source: str,
                error: type[ArtifactError] = ArtifactError) -> Mapping[str, Any]:
    """`data` parsed as JSON (unless it already was), once it is an object; else `error` naming `source`."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise error(source, f"not JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise error(source, "not a JSON object")
    return data
