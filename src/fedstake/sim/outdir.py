"""Results directories: fedstake writes into a directory only what it owns, and never deletes a user's file.

Every command that writes a directory (`simulate`, `sweep`, `compare`, and
any later one) claims it first, before any work: an `--out` that is a file,
or a directory holding anything fedstake did not write, is refused with a
message that offers `force`. A results directory carries a marker
(`MARKER`, JSON: the command and the files it wrote, as paths relative to
the directory: a run's published models and tables sit in folders), so a
rerun into the same directory knows its own files from the user's. Even with `force`,
only fedstake's own files are replaced: each by an atomic rename, files of
the previous run that this one does not write are removed (they are
fedstake's), the user's stay untouched. A new directory appears whole,
renamed into place once complete. Directories and files are created with
the umask's permissions (no private temporary-directory modes leak out).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable

from fedstake import __version__
from fedstake.errors import ConfigError

MARKER = ".fedstake-results.json"
_STAGING = ".fedstake-staging-"
_SHOWN = 4  # foreign names quoted in the refusal


def owned_files(directory: Path) -> frozenset[str]:
    """The files the marker says fedstake wrote into `directory` (none without a readable marker)."""
    try:
        return frozenset(json.loads((directory / MARKER).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def _foreign(directory: Path, owned: frozenset[str]) -> list[str]:
    """Entries fedstake did not write; a subdirectory is named with a trailing slash, and is
    fedstake's when it wrote files in it. A staging folder a killed run left behind is
    fedstake's, and not in the way."""
    folders = {name.split("/", 1)[0] for name in owned if "/" in name}
    names = []
    for entry in sorted(directory.iterdir()):
        mine = entry.name in owned or (entry.is_dir() and entry.name in folders)
        if entry.name != MARKER and not mine and not entry.name.startswith(_STAGING):
            names.append(entry.name + ("/" if entry.is_dir() else ""))
    return names


def _check_parent(path: Path, key: str) -> None:
    """The nearest existing ancestor must be a directory fedstake may create entries in."""
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(key, f"{ancestor} is a file, so {path} cannot be created")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(key, f"cannot create {path}: {ancestor} is not writable")


class OutputDir:
    """A claimed results directory; `publish` moves a run's files into it."""

    def __init__(self, path: Path, command: str, owned: frozenset[str]) -> None:
        self.path = path
        self.command = command
        self.owned = owned

    @classmethod
    def claim(cls, path: Path | str, *, command: str, force: bool = False, key: str = "--out") -> OutputDir:
        """Check `path` before any work: refuse a file, or a directory with files fedstake did
        not write unless `force` (which writes beside them and keeps them)."""
        path = Path(path).absolute()
        if path.exists() and not path.is_dir():
            raise ConfigError(key, f"{path} is a file; --out names a directory for the results")
        if not path.exists():
            _check_parent(path, key)
            return cls(path, command, frozenset())
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(key, f"{path} is not writable")
        owned = owned_files(path)
        foreign = _foreign(path, owned)
        if foreign and not force:
            shown = ", ".join(foreign[:_SHOWN]) + (f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else "")
            raise ConfigError(key, f"{path} holds files fedstake did not write ({shown}); choose a new directory, "
                              "or pass --force to write beside them (fedstake then replaces only its own files)")
        return cls(path, command, owned)

    def publish(self, fill: Callable[[Path], None]) -> Path:
        """`fill(staging)` writes the run's files into a staging directory; then they replace
        fedstake's previous files in the results directory, one by one (a user's file in a
        folder fedstake writes to stays)."""
        fresh = not self.path.exists()
        if fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging = self.path.with_name(f".{self.path.name}{_STAGING}{uuid.uuid4().hex[:12]}")
        else:
            staging = self.path / f"{_STAGING}{uuid.uuid4().hex[:12]}"
        staging.mkdir()  # mkdir honours the umask, unlike tempfile.mkdtemp's 0700
        try:
            fill(staging)
            written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
            self._write_marker(staging, written)
            if fresh:
                staging.rename(self.path)
            else:
                self._replace(staging, written)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.owned = frozenset(written)
        return self.path

    def _write_marker(self, staging: Path, written: list[str]) -> None:
        marker = {"written-by": f"fedstake {self.command}", "fedstake-version": __version__, "files": written}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")

    def _replace(self, staging: Path, written: list[str]) -> None:
        """Each new file by an atomic rename, then the previous run's leftovers (fedstake's own),
        the marker last: an interruption leaves every file whole and the user's untouched."""
        for name in written:
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, self.path / name)
        for name in sorted(self.owned - set(written)):
            stale = self.path / name
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                if stale.parent != self.path and not any(stale.parent.iterdir()):
                    stale.parent.rmdir()  # a folder only fedstake's files were in
        os.replace(staging / MARKER, self.path / MARKER)
        shutil.rmtree(staging)  # only the folders the files were moved out of are left
