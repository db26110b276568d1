"""Results directories: fedstake writes into a directory only what it owns, and never deletes a user's file.

Every command that writes a directory (`simulate`, `sweep`, `compare`, a
Flower run's `flower.output-dir`, and any later one) claims it first, before
any work: an `--out` that is a file, one the OS will not let fedstake write
(a read-only or virtual filesystem, a name too long: tried for real), or a
directory holding anything fedstake did not write, is refused with a message
that offers `force`. A results directory carries a marker (`MARKER`, JSON:
the command and the files it wrote, as paths relative to the directory: a
run's published models and tables sit in folders), so a rerun into the same
directory knows its own files from the user's. Even with `force`, only
fedstake's own files are replaced, each by an atomic rename: a user's file
where fedstake would write one is refused, at the claim for the names a
command declares and again before anything is replaced. Files of the
previous run that this one does not write are removed (they are fedstake's).
A new directory appears whole, renamed into place once complete. Directories
and files are created with the umask's permissions (no private
temporary-directory modes leak out). Staging folders carry the pid of the
run that made them, so one a killed run left behind is recognised and removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from fedstake import __version__
from fedstake.errors import ConfigError, OutputError
from fedstake.files import write_atomically

MARKER = ".fedstake-results.json"
_STAGING = ".fedstake-staging-"
_STAGING_NAME = re.compile(rf"{re.escape(_STAGING)}([1-9][0-9]*)-[0-9a-f]{{12}}")  # pid, then a random tag
_SHOWN = 4  # foreign names quoted in the refusal


def owned_files(directory: Path) -> frozenset[str]:
    """The files the marker says fedstake wrote into `directory` (none without a readable marker)."""
    try:
        return frozenset(json.loads((directory / MARKER).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def _staging_name() -> str:
    return f"{_STAGING}{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_staging(directory: Path) -> None:
    """Remove the staging folders a killed fedstake run left in `directory`: only folders named as
    fedstake names them, and only once the process whose pid the name carries is gone (a live
    run's staging, in this process or another, stays). Best effort: a folder fedstake may not
    list or remove is left as it is, and never in the way of a claim."""
    try:
        entries = list(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STAGING_NAME.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not _alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)


def _foreign(directory: Path, owned: frozenset[str]) -> list[str]:
    """Entries fedstake did not write; a subdirectory is named with a trailing slash, and is
    fedstake's when it wrote files in it. A staging folder (another run's) is not in the way."""
    folders = {name.split("/", 1)[0] for name in owned if "/" in name}
    names = []
    for entry in sorted(directory.iterdir()):
        mine = entry.name in owned or (entry.is_dir() and entry.name in folders)
        if entry.name != MARKER and not mine and not entry.name.startswith(_STAGING):
            names.append(entry.name + ("/" if entry.is_dir() else ""))
    return names


def _taken(directory: Path, names: Iterable[str], owned: frozenset[str]) -> list[str]:
    """Of the paths fedstake is to write (relative; a trailing slash: a folder), those something
    fedstake did not write stands in the way of: a user's file it would replace, a file or a
    symlink where it needs a folder, a folder where it writes a file."""
    taken = []
    for name in names:
        parts = PurePosixPath(name.rstrip("/")).parts
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            target, folder = directory / sub, depth < len(parts) or name.endswith("/")
            if not (target.exists() or target.is_symlink()):
                break
            if target.is_symlink() or target.is_dir() != folder or (not folder and sub not in owned):
                taken.append(sub + ("/" if target.is_dir() else ""))
                break
    return sorted(set(taken))


def _listed(names: list[str]) -> str:
    return ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _check_parent(path: Path, key: str) -> None:
    """The nearest existing ancestor must be a directory."""
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(key, f"{ancestor} is a file, so {path} cannot be created")


def _probe(path: Path) -> None:
    """Make what publishing will make (`path` and its missing parents, a staging folder where it
    will stage) and remove it again: the OS's own answer, before any work, to whether the
    results can be written there (permissions, a read-only or virtual filesystem such as
    /proc, a name too long), where checking the mode bits would be wrong for root."""
    made = [folder for folder in (path, *path.parents) if not folder.exists()][::-1]
    home = path if path.is_dir() else path.parent
    created: list[Path] = []
    try:
        for folder in made:
            folder.mkdir()
            created.append(folder)
        staging = home / _staging_name()
        staging.mkdir()
        created.append(staging)
    finally:
        for folder in reversed(created):
            folder.rmdir()


class OutputDir:
    """A claimed results directory; `publish` moves a run's files into it."""

    def __init__(self, path: Path, command: str, owned: frozenset[str], key: str = "--out") -> None:
        self.path = path
        self.command = command
        self.owned = owned
        self.key = key
        self.kept: frozenset[str] = frozenset()  # written straight into the directory (`record`)

    @classmethod
    def claim(cls, path: Path | str, *, command: str, force: bool = False, key: str = "--out",
              writes: Iterable[str] = ()) -> OutputDir:
        """Check `path` before any work: refuse a file, a place the OS will not let fedstake write,
        or a directory with files fedstake did not write unless `force` (which writes beside
        them and keeps them); even then refuse one in the way of a name in `writes` (what the
        command will write; a trailing slash: a folder). Leftover staging is removed."""
        path = Path(path).absolute()
        try:
            return cls._claim(path, command, force, key, writes)
        except OSError as exc:  # e.g. a name too long even to look up
            raise ConfigError(key, f"cannot write {exc.filename or path}: {exc.strerror or exc}") from None

    @classmethod
    def _claim(cls, path: Path, command: str, force: bool, key: str, writes: Iterable[str]) -> OutputDir:
        if path.exists() and not path.is_dir():
            raise ConfigError(key, f"{path} is a file; {key} names a directory for the results")
        for folder in (path, path.parent):
            if folder.is_dir():
                remove_stale_staging(folder)
        if not path.exists():
            _check_parent(path, key)
            _probe(path)
            return cls(path, command, frozenset(), key)
        _probe(path)
        owned = owned_files(path)
        foreign = _foreign(path, owned)
        if foreign and not force:
            raise ConfigError(key, f"{path} holds files fedstake did not write ({_listed(foreign)}); choose a new "
                              "directory, or pass --force to write beside them (fedstake then replaces only its own "
                              "files)")
        claimed = cls(path, command, owned, key)
        claimed._refuse_taken(writes)
        return claimed

    def adopt(self, names: Iterable[str]) -> None:
        """Count `names` (written straight into the directory by this same command, e.g. a
        federation's manifest) as fedstake's own, so that publishing may replace them."""
        self.owned = self.owned | frozenset(names)

    def record(self, names: Iterable[str]) -> None:
        """Count every file under `names` (entries this command writes straight into the
        directory, not through `publish`: a federation's keys, logs and state) as fedstake's own,
        and write the marker now, so that a rerun knows them even when this run stops before
        publishing. Publishing keeps them."""
        found = set()
        for name in names:
            entry = self.path / name.rstrip("/")
            if entry.is_dir() and not entry.is_symlink():
                found |= {f.relative_to(self.path).as_posix() for f in entry.rglob("*") if f.is_file() or f.is_symlink()}
            elif entry.is_file() or entry.is_symlink():
                found.add(name)
        self.kept = frozenset(found)
        self.owned = self.owned | self.kept
        if self.path.is_dir():
            write_atomically(self.path / MARKER, self._marker(sorted(self.owned)))

    def clear(self) -> None:
        """Remove the previous run's files (fedstake's own, as the marker lists them) and the
        folders they leave empty, for a command that must start from none of its old state (a
        federation's keys, chain and logs). A user's file stays, and so does a folder holding one."""
        for name in sorted(self.owned, key=lambda n: -n.count("/")):
            stale = self.path / name
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
            folder = stale.parent
            while folder != self.path and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        self.owned = frozenset()
        if self.path.is_dir():
            write_atomically(self.path / MARKER, self._marker([]))

    def _refuse_taken(self, names: Iterable[str]) -> None:
        taken = _taken(self.path, names, self.owned)
        if taken:
            raise ConfigError(self.key, f"{self.path / taken[0].rstrip('/')} is not fedstake's, and fedstake would "
                              f"write there ({_listed(taken)}); move it away, or choose a new directory")

    def publish(self, fill: Callable[[Path], None]) -> Path:
        """`fill(staging)` writes the run's files into a staging directory; then they replace
        fedstake's previous files in the results directory, one by one (a user's file in a
        folder fedstake writes to stays; one where fedstake would write is refused before
        anything is replaced). An OSError becomes an `OutputError` naming the path."""
        fresh = not self.path.exists()
        home = self.path.parent if fresh else self.path
        staging = home / _staging_name()
        try:
            home.mkdir(parents=True, exist_ok=True)
            staging.mkdir()  # mkdir honours the umask, unlike tempfile.mkdtemp's 0700
            fill(staging)
            written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
            self._write_marker(staging, written)
            if fresh:
                staging.rename(self.path)
            else:
                self._refuse_taken(written)
                self._replace(staging, written)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError):
                raise OutputError(self._shown(exc.filename, staging), exc.strerror or str(exc)) from None
            raise
        self.owned = frozenset(written) | self.kept
        return self.path

    def _shown(self, filename: str | None, staging: Path) -> Path:
        """The path an OSError is about, as the user knows it (not inside the staging folder)."""
        where = Path(filename) if filename else self.path
        try:
            return self.path / where.relative_to(staging)
        except ValueError:
            return where
    def _marker(self, files: list[str]) -> str:
        marker = {"written-by": f"fedstake {self.command}", "fedstake-version": __version__, "files": files}
        return json.dumps(marker, indent=2) + "\n"

    def _write_marker(self, staging: Path, written: list[str]) -> None:
        (staging / MARKER).write_text(self._marker(sorted(set(written) | self.kept)))

    def _replace(self, staging: Path, written: list[str]) -> None:
        """Each new file by an atomic rename, then the previous run's leftovers (fedstake's own),
        the marker last: an interruption leaves every file whole and the user's untouched."""
        for name in written:
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, self.path / name)
        for name in sorted(self.owned - set(written) - self.kept):
            stale = self.path / name
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                if stale.parent != self.path and not any(stale.parent.iterdir()):
                    stale.parent.rmdir()  # a folder only fedstake's files were in
        os.replace(staging / MARKER, self.path / MARKER)
        shutil.rmtree(staging)  # only the folders the files were moved out of are left
