"""A damaged cassette fails its tests with one message naming the file and `tox -e record`, and loses nothing.

The replays damage copies of the committed cassettes, a different cassette each way, and run the real suite on the
module that reads them: one run for the tests' own cassettes, one for the session cassette.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from oxen_contract.recording.cassette_damage import SESSION_CASSETTE, cassette_problem, check_cassette_file

from .conftest import ROOT, Runner

CASSETTES = ROOT / "cassettes"
Damage = Callable[[bytes], bytes]


def _before_vcrpy_1(good: bytes) -> bytes:
    return yaml.safe_dump(yaml.safe_load(good)["interactions"]).encode()


# Each way to damage a cassette, and what the message says is wrong.
DAMAGES: dict[str, tuple[Damage, str]] = {
    "empty": (lambda good: b"", "the file is empty"),
    "random-bytes": (lambda good: random.Random(0).randbytes(512), "it is not UTF-8 text"),
    "not-utf8": (lambda good: good.decode("utf-8").encode("utf-16"), "it is not UTF-8 text: byte 0xff at offset 0"),
    "not-yaml": (lambda good: b"interactions: [\n  - {request: : :\n", "it is not valid YAML: did not find expected"),
    "interactions-a-number": (lambda good: b"interactions: 5\nversion: 1\n", "'interactions' is a number, not a list"),
    "top-level-list": (lambda good: b"- a\n- b\n", "its top level is a list, not a mapping"),
    "no-response": (lambda good: good.replace(b"\n  response:\n", b"\n  reply:\n"), "interaction 1 has no 'response'"),
    "version-2": (
        lambda good: good.replace(b"\nversion: 1\n", b"\nversion: 2\n"),
        "it is cassette format version 2; this vcrpy reads version 1",
    ),
    "vcrpy-before-1.0": (_before_vcrpy_1, "it is in the format of vcrpy before 1.0"),
}
# test_errors.py has a cassette per test (21), so one run damages nine of them; the session cassette needs its own.
ERRORS_CASSETTES = sorted((CASSETTES / "test_errors").glob("*.yaml"))
RUNS = {
    "test-cassettes": ("tests/contract/test_errors.py", dict(zip(DAMAGES, ERRORS_CASSETTES, strict=False))),
    "session-cassette": ("tests/contract/test_models.py", {"not-yaml": CASSETTES / SESSION_CASSETTE}),
}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("run", RUNS, ids=list(RUNS))
def test_a_damaged_cassette_is_named_with_the_re_record_command_and_left_as_it_was(
    run_suite: Runner, tmp_path: Path, run: str
) -> None:
    module, damaged = RUNS[run]
    copy = tmp_path / "cassettes"
    shutil.copytree(CASSETTES, copy)
    paths = {}
    for damage, original in damaged.items():
        path = copy / original.relative_to(CASSETTES)
        path.write_bytes(DAMAGES[damage][0](original.read_bytes()))
        paths[damage] = path
    before = _tree(copy)

    result = run_suite(module, "--block-network", env={"OXEN_CONTRACT_CASSETTE_DIR": str(copy)})

    output = result.stdout + result.stderr
    assert result.returncode == 78, output[-3000:]  # a setup error: the contract went unchecked
    for damage, path in paths.items():
        message = f"The cassette {path} cannot be read ({DAMAGES[damage][1]}"
        assert message in output, f"{damage}: no {message!r} in\n{output[-3000:]}"
    assert "tox -e record" in output
    assert "Traceback" not in output, output[-3000:]
    # pytest's own traceback format has no "Traceback" line, but marks the exception's lines with "E   ".
    assert not [line for line in output.splitlines() if line.startswith("E   ")], output[-3000:]
    assert "INTERNALERROR" not in output, output[-3000:]
    assert _tree(copy) == before, "a replay changed, added or removed a cassette"
    if run == "test-cassettes":
        # Each damage fails only the test that reads that cassette.
        assert f"{len(ERRORS_CASSETTES) - len(paths)} passed" in output, output[-3000:]


def test_every_committed_cassette_passes_the_check() -> None:
    problems = {str(path): check_cassette_file(path) for path in CASSETTES.rglob("*.yaml")}
    assert problems and not any(problems.values()), problems


def test_a_parser_error_raised_outside_the_cassette_layer_is_no_cassette_problem(tmp_path: Path) -> None:
    from vcr.cassette import Cassette

    class ParserError(ValueError):  # what dateutil.parser raises, by name
        pass

    def parse(text: str) -> None:
        raise yaml.parser.ParserError("while parsing", None, f"bad date {text!r}")

    nodeid = "tests/contract/test_models.py::test_x"
    for error in (ParserError("Unknown string format"), yaml.parser.ParserError("while parsing", None, "bad")):
        with pytest.raises(type(error)) as raised:
            raise error
        assert cassette_problem(raised.value, nodeid, tmp_path) is None
    # Raised by a user's hook while vcrpy loads a sound cassette: still not the cassette's fault.
    with pytest.raises(yaml.parser.ParserError) as raised:
        Cassette.load(path=str(CASSETTES / SESSION_CASSETTE), after_load_interaction=lambda request, r: parse("x"))
    assert cassette_problem(raised.value, nodeid, tmp_path) is None


def test_a_raw_vcrpy_error_is_traced_to_the_file_it_was_reading(tmp_path: Path) -> None:
    from pytest_recording._vcr import load_cassette
    from vcr.serializers import yamlserializer

    broken = tmp_path / "elsewhere" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_bytes(b"interactions: 5\nversion: 1\n")
    with pytest.raises(TypeError) as raised:
        load_cassette(str(broken), yamlserializer)
    text = cassette_problem(raised.value, "tests/contract/test_models.py::test_x", tmp_path)
    assert text is not None
    assert text.startswith(f"The cassette {broken} cannot be read ('interactions' is a number, not a list).")
    assert text.endswith("Re-record the cassettes with:  tox -e record")


def test_without_a_path_in_the_traceback_the_test_s_cassette_is_named_by_pytest_recording_s_rule(
    tmp_path: Path,
) -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    named = tmp_path / "test_errors" / "test_x[a-b].yaml"
    named.parent.mkdir()
    named.write_bytes(b"- a\n")
    with pytest.raises(TypeError) as raised:  # vcrpy indexes the list with "interactions"
        deserialize("- a\n", yamlserializer)
    text = cassette_problem(raised.value, "tests/contract/test_errors.py::test_x[a-b]", tmp_path)
    assert text is not None
    assert text.startswith(f"The cassette {named} cannot be read (its top level is a list")


def test_an_out_of_date_cassette_keeps_its_message_and_names_the_file(tmp_path: Path) -> None:
    from vcr.cassette import Cassette
    from vcr.errors import CannotOverwriteExistingCassetteException
    from vcr.request import Request

    path = tmp_path / "test_models" / "test_x.yaml"
    cassette = Cassette(path=str(path), record_mode="none")
    request = Request("GET", "http://oxen-hub.replay/api/ai/models", "", {})
    error = CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=request)
    text = cassette_problem(error, "tests/contract/test_models.py::test_x", tmp_path)
    assert text is not None
    assert f"The cassettes under {tmp_path} are out of date" in text
    assert f"cassette: {path} (no such file)" in text
    # vcrpy takes an empty cassette for a missing one; the message says what it is.
    path.parent.mkdir()
    path.write_bytes(b"\n")
    assert cassette_problem(error, "tests/contract/test_models.py::test_x", tmp_path) == (
        f"The cassette {path} cannot be read (the file is empty).\n"
        "Nothing was changed. Re-record the cassettes with:  tox -e record"
    )
