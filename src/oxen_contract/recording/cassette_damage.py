"""Damaged cassettes: found before vcrpy reads them, and told in one message that names the file.

vcrpy alone reports a damaged cassette as whatever it trips over (a TypeError deep in vcr/serialize.py, a
UnicodeDecodeError) or not at all, and a replay without the request as a long matcher dump. ``check_before_loading``
wraps vcrpy's persister so that every file is checked (``check_cassette_file``) before it is read, and
``cassette_problem`` turns what a failed test raised into the one message a reader needs: the file, what is wrong with
it, and the command that re-records it. ``cassettes.py`` keeps what is recorded and how it is matched.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import FrameType
from typing import Any

from ..checking.failures import OxenContractError, chain
from ..checking.text import first_line

__all__ = [
    "RERECORD_COMMAND",
    "SESSION_CASSETTE",
    "CassetteUnreadable",
    "cassette_problem",
    "check_before_loading",
    "check_cassette_file",
    "corrupt_message",
    "out_of_date_message",
]

RERECORD_COMMAND = "tox -e record"
# The cassette of the exchanges that belong to no single test (cassettes.SessionCassette).
SESSION_CASSETTE = "session.yaml"


def out_of_date_message(cassette_dir: Path, detail: str, path: Path | None = None) -> str:
    where = "" if path is None else f"  cassette: {path}{'' if path.exists() else ' (no such file)'}\n"
    return (
        f"The cassettes under {cassette_dir} are out of date: this run sent a request they do not hold.\n"
        f"{where}"
        f"  {first_line(detail)}\n"
        f"Re-record them from the local reference hub with:  {RERECORD_COMMAND}\n"
        "(or against a hub of yours: pytest tests/contract --hub-url URL --record-mode=rewrite)"
    )


def corrupt_message(path: Path | str, detail: str) -> str:
    """The one message for a cassette file that cannot be read; ``path`` is the file, ``detail`` what is wrong."""
    return (
        f"The cassette {path} cannot be read ({first_line(detail) or 'corrupt'}).\n"
        f"Nothing was changed. Re-record the cassettes with:  {RERECORD_COMMAND}"
    )


class CassetteUnreadable(OxenContractError):
    """A cassette file that exists but cannot be replayed, found before vcrpy read (or could overwrite) it."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(corrupt_message(path, problem))
        self.path = path
        self.problem = problem

    def __reduce__(self) -> tuple[type[CassetteUnreadable], tuple[Path, str]]:
        return type(self), (self.path, self.problem)  # so that it pickles (xdist, multiprocessing) as it was


_EMPTY = "the file is empty"
_REQUEST_FIELDS = ("method", "uri", "body", "headers")  # vcr.request.Request(**fields) takes exactly these
_RESPONSE_FIELDS = ("status", "headers", "body")
# What vcrpy before 6 wrote for httpx (its httpx stub still converts it on replay).
_OLD_HTTPX_RESPONSE_FIELDS = ("status_code", "headers", "content")


def _kind(value: Any) -> str:
    kinds = {type(None): "empty", bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kinds.update({bytes: "binary", list: "a list", dict: "a mapping"})
    return kinds.get(type(value), f"a {type(value).__name__}")


def _yaml_problem(error: Exception) -> str:
    problem = getattr(error, "problem", None) or getattr(error, "reason", None) or first_line(str(error))
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return f"{problem}, line {mark.line + 1} column {mark.column + 1}"
    position = getattr(error, "position", None)
    return f"{problem}, character {position + 1}" if isinstance(position, int) else str(problem)


def _shape_problem(data: Any) -> str | None:
    """What in a parsed cassette vcrpy could not replay (read from vcr/serialize.py and its stubs), or None."""
    from vcr.serialize import CASSETTE_FORMAT_VERSION

    if isinstance(data, list) and data and isinstance(data[0], dict) and "request" in data[0]:
        return "it is in the format of vcrpy before 1.0: a bare list of interactions, with no version"
    if not isinstance(data, dict):
        return f"its top level is {_kind(data)}, not a mapping with 'version' and 'interactions'"
    version = data.get("version")
    if "version" not in data:
        return f"it has no 'version'; this vcrpy reads cassette format version {CASSETTE_FORMAT_VERSION}"
    if isinstance(version, bool) or version != CASSETTE_FORMAT_VERSION:
        return f"it is cassette format version {version!r}; this vcrpy reads version {CASSETTE_FORMAT_VERSION}"
    if "interactions" not in data:
        return "it has no 'interactions'"
    interactions = data["interactions"]
    if not isinstance(interactions, list):
        return f"'interactions' is {_kind(interactions)}, not a list"
    for number, interaction in enumerate(interactions, start=1):
        if not isinstance(interaction, dict):
            return f"interaction {number} is {_kind(interaction)}, not a mapping with 'request' and 'response'"
        for part in ("request", "response"):
            if part not in interaction:
                return f"interaction {number} has no '{part}'"
            if not isinstance(interaction[part], dict):
                return f"interaction {number}'s {part} is {_kind(interaction[part])}, not a mapping"
        request, response = interaction["request"], interaction["response"]
        unknown = sorted(set(request) - set(_REQUEST_FIELDS), key=str)
        if unknown:
            return f"interaction {number}'s request has an unknown field {unknown[0]!r}"
        needed = _OLD_HTTPX_RESPONSE_FIELDS if "status_code" in response else _RESPONSE_FIELDS
        for part, fields in (("request", _REQUEST_FIELDS), ("response", needed)):
            missing = [field for field in fields if field not in interaction[part]]
            if missing:
                return f"interaction {number}'s {part} has no '{missing[0]}'"
    return None


def check_cassette_file(path: Path, serializer: Any = None) -> str | None:
    """What keeps vcrpy from replaying the cassette file at ``path``, in one line; None if nothing does.

    ``serializer`` is the vcrpy serializer the cassette is read with (default: vcrpy's YAML one).
    """
    import yaml
    from vcr.serializers import yamlserializer

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return "there is no such file"
    except OSError as error:
        return f"it cannot be opened: {error.strerror or error}"
    if not raw.strip():
        return _EMPTY
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 text: byte {raw[error.start]:#04x} at offset {error.start}"
    try:
        data = (serializer or yamlserializer).deserialize(text)
    except yaml.YAMLError as error:
        return f"it is not valid YAML: {_yaml_problem(error)}"
    except (ValueError, TypeError, ImportError, RecursionError) as error:
        return f"it cannot be parsed: {type(error).__name__}: {first_line(str(error))}"
    return _shape_problem(data)


def check_before_loading(vcr: Any) -> None:
    """Make ``vcr`` check each cassette file before it reads it (once: a second call changes nothing)."""
    if not isinstance(vcr.persister, _CheckedPersister):
        vcr.register_persister(_CheckedPersister(vcr.persister))


class _CheckedPersister:
    """Wraps the persister vcrpy was given (pytest-recording's, or vcrpy's own) and checks each file before it is read.

    vcrpy alone reports damage as whatever it trips over (a TypeError deep in vcr/serialize.py, a UnicodeDecodeError),
    or not at all: it treats an undecodable file as empty, ready to be overwritten, and never looks at ``version``.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError

        main = Path(cassette_path)
        for path in (main, *(Path(extra) for extra in getattr(self._inner, "extra_paths", ()))):
            if not path.is_file():
                continue  # a missing cassette is recorded, or reported as out of date, by vcrpy
            problem = check_cassette_file(path, serializer)
            if problem == _EMPTY and path == main:
                # vcrpy's rule: an empty file is a missing cassette, recorded anew; a replay says it is empty.
                raise CassetteNotFoundError()
            if problem is not None:
                raise CassetteUnreadable(path, problem)
        return self._inner.load_cassette(cassette_path, serializer=serializer)

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        self._inner.save_cassette(cassette_path, cassette_dict, serializer=serializer)


# Where a cassette is read, by (module, function): vcrpy, pytest-recording, and our own persister.
_LOADERS = {
    ("vcr.cassette", "_load"),
    ("vcr.persisters.filesystem", "load_cassette"),
    ("vcr.serialize", "deserialize"),
    ("pytest_recording._vcr", "load_cassette"),
    (__name__, "load_cassette"),
}
# What runs while a cassette is read: those three, and the standard library reading and decoding the file.
_CASSETTE_LAYER = ("vcr", "yaml", "_yaml", "pytest_recording", __name__, "codecs", "encodings", "pathlib")


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def _loads_a_cassette(frame: FrameType) -> bool:
    return (_module(frame), frame.f_code.co_name) in _LOADERS


def _in_cassette_layer(frame: FrameType) -> bool:
    module = _module(frame)
    return any(module == layer or module.startswith(layer + ".") for layer in _CASSETTE_LAYER)


def _frames(error: BaseException) -> list[FrameType]:
    """The frames ``error`` passed through, outermost first: the last is where it was raised."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _raised_reading_a_cassette(error: BaseException) -> bool:
    """True if ``error`` was raised while a cassette was read, by vcrpy, PyYAML or pytest-recording.

    Judged by where it was raised, not by its class: every frame from the first that reads a cassette to the one that
    raised must be in the cassette layer. A ParserError from dateutil in a test is no cassette's fault, and neither is
    one from a user's ``after_load_interaction`` hook, which vcrpy calls while it loads a cassette.
    """
    frames = _frames(error)
    start = next((index for index, frame in enumerate(frames) if _loads_a_cassette(frame)), None)
    return start is not None and all(_in_cassette_layer(frame) for frame in frames[start:])


def _path_in_frames(error: BaseException) -> Path | None:
    """The file the innermost cassette-reading frame was reading, from its locals."""
    found = None
    for frame in _frames(error):
        if not _loads_a_cassette(frame):
            continue
        local = frame.f_locals
        candidate = local.get("cassette_path") or getattr(local.get("self"), "_path", None)
        if isinstance(candidate, (str, os.PathLike)):
            found = Path(candidate)
    return found


def _named_cassette(nodeid: str, cassette_dir: Path) -> Path:
    """pytest-recording's default cassette of a test: ``<dir>/<module stem>/[<Class>.]<test name>.yaml``."""
    module, *names = nodeid.split("::")
    name = ".".join(names[-2:])  # pytest-recording names the innermost class only
    for forbidden in "<>?%*:|\"'/\\":
        name = name.replace(forbidden, "-")
    try:
        longest = os.pathconf(cassette_dir if cassette_dir.exists() else ".", "PC_NAME_MAX")
    except (AttributeError, ValueError, OSError):
        longest = 255
    if len(name) + len(".yaml") > longest:  # pytest-recording shortens long names the same way
        name = f"{name[: longest - len('.yaml') - 32 - 3]}...{hashlib.md5(name.encode()).hexdigest()}"
    return cassette_dir / Path(module).stem / f"{name}.yaml"


def _out_of_date(error: BaseException) -> BaseException | None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    return next((e for e in chain(error) if isinstance(e, CannotOverwriteExistingCassetteException)), None)


def cassette_problem(error: BaseException, nodeid: str, cassette_dir: Path) -> str | None:
    """The one message for a test that failed reading a cassette (damaged, or without the request); None otherwise.

    ``error`` is what the test (or a fixture it uses) raised, ``nodeid`` the test's id, and ``cassette_dir`` the
    directory the run replays from. The file is named from the traceback when it can be, else by pytest-recording's
    naming rule (the test's own cassette, or ``session.yaml`` if that is the damaged one).
    """
    chained = list(chain(error))
    unreadable = next((e for e in chained if isinstance(e, CassetteUnreadable)), None)
    if unreadable is not None:
        return str(unreadable)
    candidates = [_named_cassette(nodeid, cassette_dir), cassette_dir / SESSION_CASSETTE]
    stale = _out_of_date(error)
    if stale is not None:
        path = Path(getattr(getattr(stale, "cassette", None), "_path", None) or candidates[0])
        problem = check_cassette_file(path) if path.is_file() else None  # an empty file replays as no cassette
        return corrupt_message(path, problem) if problem else out_of_date_message(cassette_dir, str(stale), path)
    reading = [e for e in chained if _raised_reading_a_cassette(e)]
    if not reading:
        return None
    found = next((found for found in map(_path_in_frames, reading) if found is not None), None)
    path = found or next((candidate for candidate in candidates if check_cassette_file(candidate)), candidates[0])
    problem = check_cassette_file(path)
    if problem is None:  # the file looks sound: say what vcrpy tripped over
        problem = f"{type(reading[0]).__name__}: {first_line(str(reading[0]))}"
    return corrupt_message(path, problem)
