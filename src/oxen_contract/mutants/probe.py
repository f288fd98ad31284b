"""The differential probe: one fixed set of requests sent to the clean hub and to a mutant, the answers compared.

A surviving mutant may be filed as *equivalent* only when it answers nothing differently, and a claim like that needs
evidence, not a reason. ``SCRIPT`` is that evidence's request set: every route, with good and odd input, both keys
(alice's and bob's), no key and bad keys, deploys through both routes and their cleanup, and requests no route takes.
``play`` sends it to one hub in-process (httpx over ASGI: no socket, no thread) and keeps each answer *normalised*:
what the docs leave free is written the same for every hub, so that only a difference a client could rely on remains:

- the ids the hub minted for the models its deploys made (``<model-1>``, ... in the order the deploys answered them;
  any id: "no source fixes an id's form", ``model.schema.json#/properties/id/type``), wherever they appear, also
  percent-encoded, and the checkpoint answer's ``deployment_id``;
- the ``created`` of those models (``model.schema.json#/properties/created/type``: which time is not said), each
  written as the first one the model was answered with, plus the difference when a later answer says another;
- the ``Date`` and ``Content-Length`` headers, and the parameters of ``Content-Type`` (only its media type is a rule);
- the order of ``data`` in list and search answers (no source documents one), which is compared by model id;
- the JSON text's spacing, key order and escapes (``rule:body-is-json``: any JSON).

``differences`` compares two plays answer by answer and writes one line per difference,
``<step> <where>: <clean> -> <mutant>`` (``list-by-action body/data[gpt-4o]/fine_tuning: {...} -> null``), which is
what a ledger group's "Differs only in" patterns are matched against (``ledger.py``).

Run as ``python probe.py --ids FILE --out FILE`` with the mutated sources of mutmut's work directory first on
``sys.path`` (``run.probe_mutants`` does; the probe imports nothing of its own package, so that it can): mutmut's
trampolines pick the mutant of ``MUTANT_UNDER_TEST`` at every call, so each mutant is played in a forked child (its
own state, a timeout), against a baseline played the same way without one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["PROBE_TOKENS", "SCRIPT_STEPS", "Answer", "differences", "play", "probe"]

ALICE_KEY, BOB_KEY = "probe-key-alice", "probe-key-bob"
PROBE_TOKENS = {ALICE_KEY: "alice", BOB_KEY: "bob"}
_MODELS = "/api/ai/models"
_REPOS = "/api/repos"
# A hub that has not answered the whole script by then is a difference ("timed out"): a clean play takes about 1 s.
TIMEOUT = 30.0
# Every difference is kept, for the ledger's groups to be held to each one; past this many, the rest are one line that
# no group allows (a mutant that different is no claim of equivalence or permission to begin with).
_MAX_LINES = 5000
_SHOWN = 100

# The Authorization header of each way a request may carry a key: the documented one, and the refusals the suite sends.
_AUTH: dict[str, dict[str, str]] = {
    "alice": {"Authorization": f"Bearer {ALICE_KEY}"},
    "bob": {"Authorization": f"Bearer {BOB_KEY}"},
    "none": {},
    "bad": {"Authorization": "Bearer not-a-key"},
    "basic": {"Authorization": f"Basic {ALICE_KEY}"},
    "lowercase": {"Authorization": f"bearer {ALICE_KEY}"},
}

# Odd ids, as the suite's odd-id tests send them (percent-encoded as one segment; %FF is not UTF-8).
_ODD_IDS = {
    "unicode": quote("模型-ünïcødé-🚀", safe=""),
    "reserved": quote("a/b?c#d%e&f=g+h", safe=""),
    "colon": quote("oxen:not-a-model", safe=""),
    "dots": "not.a.model.v1",
    "spaces": quote("  padded id  ", safe=""),
    "nul": "nul%00byte",
    "long": "x" * 2000,
    "not-utf-8": "not-utf8-%FF",
}


# The checkpoint deploy's documented body ([S]), with a deployment type.
_TYPE = b'{"deployment_type": "%s"}'


def _model(model_id: str, action: str = "") -> str:
    path = f"{_MODELS}/{quote(model_id, safe='')}"
    return f"{path}/{action}" if action else path


def _deploy(owner: str, fine_tune: str = "ft-1", step: str | None = None, query: str = "") -> str:
    base = f"{_REPOS}/{owner}/sandbox/fine_tunes/{fine_tune}"
    return (f"{base}/deploy" if step is None else f"{base}/checkpoints/{step}/deploy") + query


@dataclass(frozen=True, slots=True)
class Answer:
    """One normalised answer: its step's label, status, headers that matter, and body (parsed JSON, or text)."""

    label: str
    status: int
    headers: dict[str, str]
    body: Any


Send = Callable[..., Any]


def _script(send: Send) -> None:
    """The fixed request set, in order: each ``send(label, method, path, auth=..., body=...)`` answers the JSON body."""
    _lists_and_searches(send)
    _base_and_unknown_models(send)
    first, second, third, fourth, bobs = _deploys(send)
    _custom_models(send, first, second, bobs)
    _unrouted(send, third)
    # The deploys' cleanup: every model they made is deleted, by its owner.
    send("delete-second", "DELETE", _model(second))
    send("delete-third", "DELETE", _model(third))
    send("delete-fourth", "DELETE", _model(fourth))
    send("delete-bobs", "DELETE", _model(bobs), auth="bob")
    send("list-at-the-end", "GET", _MODELS)
    send("list-at-the-end-bob", "GET", _MODELS, auth="bob")


def _lists_and_searches(send: Send) -> None:
    # Lists, with every documented filter (values that match, differ in case, or match nothing), under every credential.
    for label, query in (
        ("list", ""),
        ("list-by-developer", "?developer_name=openai"),
        ("list-by-developer-case", "?developer_name=OpenAI"),
        ("list-by-developer-none", "?developer_name=nobody"),
        ("list-by-action", "?action=text_generation"),
        ("list-by-action-image", "?action=image_generation"),
        ("list-by-provider", "?provider_name=google"),
        ("list-by-provider-none", "?provider_name=x"),
        ("list-by-two", "?developer_name=meta&action=text_generation"),
        ("list-empty-filter", "?developer_name="),
    ):
        send(label, "GET", _MODELS + query)
    for auth in ("bob", "none", "bad", "basic", "lowercase"):
        send(f"list-{auth}", "GET", _MODELS, auth=auth)
    # Searches: a term, another case, none, empty, one that matches nothing.
    for label, query in (
        ("search", "?search=gpt"),
        ("search-case", "?search=GPT"),
        ("search-description", "?search=flagship"),
        ("search-missing", ""),
        ("search-empty", "?search="),
        ("search-nothing", "?search=zzz-no-such"),
    ):
        send(label, "GET", f"{_MODELS}/search{query}")
    send("search-none", "GET", f"{_MODELS}/search?search=gpt", auth="none")


def _base_and_unknown_models(send: Send) -> None:
    # Retrieve, activate, deactivate and delete of base models, unknown ids and odd ids.
    send("retrieve-base", "GET", _model("gpt-4o"))
    send("retrieve-base-live", "GET", _model("gpt-4o") + "?deployment_status=live")
    send("retrieve-base-bad-status", "GET", _model("gpt-4o") + "?deployment_status=yesterday")
    send("retrieve-base-bob", "GET", _model("gpt-4.1-mini"), auth="bob")
    send("retrieve-base-none", "GET", _model("gpt-4o"), auth="none")
    send("retrieve-unknown", "GET", _model("alice:sandbox/never-deployed"))
    for name, segment in _ODD_IDS.items():
        send(f"retrieve-odd-{name}", "GET", f"{_MODELS}/{segment}")
        send(f"delete-odd-{name}", "DELETE", f"{_MODELS}/{segment}")
    send("activate-base", "POST", _model("gpt-4o", "activate"))
    send("deactivate-base", "POST", _model("gpt-4o", "deactivate"))
    send("activate-unknown", "POST", _model("alice:sandbox/never-deployed", "activate"))
    send("deactivate-unknown", "POST", _model("alice:sandbox/never-deployed", "deactivate"))
    send("activate-none", "POST", _model("gpt-4o", "activate"), auth="none")
    send("delete-base", "DELETE", _model("gpt-4o"))
    send("delete-unknown", "DELETE", _model("alice:sandbox/never-deployed"))
    send("delete-base-none", "DELETE", _model("gpt-4o"), auth="none")
    send("retrieve-base-after", "GET", _model("gpt-4o"))


def _deploys(send: Send) -> list[str]:
    """The deploys, whose models the later steps use, then the deploys that must be refused; the deployed ids."""
    # Deploys through both routes, with every documented option, and the deploys that must be refused.
    minted = [
        _deployed(send("deploy", "POST", _deploy("alice"))),
        _deployed(send("deploy-checkpoint", "POST", _deploy("alice", step="1"), body=b'{"deployment_type":"normal"}')),
        _deployed(
            send("deploy-checkpoint-fast", "POST", _deploy("alice", step="1"), body=b'{"deployment_type":"fast"}')
        ),
        _deployed(send("deploy-checkpoint-bare", "POST", _deploy("alice", step="1", query="?retry=true"))),
        _deployed(send("deploy-bob", "POST", _deploy("bob"), auth="bob")),
    ]
    for label, path, body in (
        ("deploy-missing", _deploy("alice", fine_tune="no-such-fine-tune"), None),
        ("deploy-other-namespace", _deploy("bob"), None),
        ("deploy-checkpoint-missing", _deploy("alice", fine_tune="no-such-fine-tune", step="1"), None),
        ("deploy-checkpoint-other-namespace", _deploy("bob", step="1"), None),
        ("deploy-checkpoint-unknown-step", _deploy("alice", step="99"), None),
        ("deploy-checkpoint-step-not-integer", _deploy("alice", step="x"), None),
        ("deploy-checkpoint-bad-retry", _deploy("alice", step="1", query="?retry=maybe"), None),
        ("deploy-checkpoint-bad-type", _deploy("alice", step="1"), _TYPE % b"slow"),
        ("deploy-checkpoint-not-json", _deploy("alice", step="1"), b"{not json"),
        ("deploy-checkpoint-not-object", _deploy("alice", step="1"), b"[1]"),
    ):
        send(label, "POST", path, body=body)
    send("deploy-none", "POST", _deploy("alice"), auth="none")
    send("deploy-bad", "POST", _deploy("alice"), auth="bad")
    return minted


def _custom_models(send: Send, first: str, second: str, bobs: str) -> None:
    # The new models: listed and searched by their owner only, retrieved, switched off and on.
    send("list-with-custom", "GET", _MODELS)
    send("list-with-custom-bob", "GET", _MODELS, auth="bob")
    send("list-with-custom-by-action", "GET", f"{_MODELS}?action=text_generation")
    send("search-custom", "GET", f"{_MODELS}/search?search=sandbox")
    send("search-custom-bob", "GET", f"{_MODELS}/search?search=sandbox", auth="bob")
    send("retrieve-custom", "GET", _model(first))
    send("retrieve-custom-live", "GET", _model(first) + "?deployment_status=live")
    send("retrieve-custom-bob", "GET", _model(first), auth="bob")
    send("retrieve-custom-none", "GET", _model(first), auth="none")
    send("retrieve-bobs-as-alice", "GET", _model(bobs))
    send("deactivate-custom", "POST", _model(first, "deactivate"))
    send("retrieve-deactivated", "GET", _model(first))
    send("activate-custom", "POST", _model(first, "activate"))
    send("retrieve-activated", "GET", _model(first))
    send("activate-custom-bob", "POST", _model(first, "activate"), auth="bob")
    send("deactivate-custom-bob", "POST", _model(first, "deactivate"), auth="bob")
    send("retrieve-after-bob", "GET", _model(first))
    # Deletes the docs refuse, then the delete of one's own model and everything after it.
    send("delete-custom-bob", "DELETE", _model(second), auth="bob")
    send("delete-custom-none", "DELETE", _model(second), auth="none")
    send("delete-custom-bad", "DELETE", _model(second), auth="bad")
    send("retrieve-after-refusals", "GET", _model(second))
    send("delete-custom", "DELETE", _model(first))
    send("retrieve-deleted", "GET", _model(first))
    send("delete-deleted", "DELETE", _model(first))
    send("activate-deleted", "POST", _model(first, "activate"))
    send("deactivate-deleted", "POST", _model(first, "deactivate"))
    send("list-after-delete", "GET", _MODELS)
    send("search-after-delete", "GET", f"{_MODELS}/search?search=sandbox")


def _unrouted(send: Send, third: str) -> None:
    # Requests no route takes: near-miss paths, methods a path does not have, a raw slash inside an id.
    for label, method, path in (
        ("near-miss-suffix", "GET", f"{_MODELS}X"),
        ("near-miss-singular", "GET", "/api/ai/model"),
        ("near-miss-trailing-slash", "GET", f"{_MODELS}/"),
        ("near-miss-search-slash", "GET", f"{_MODELS}/search/"),
        ("near-miss-root", "GET", "/"),
        ("near-miss-repos", "GET", f"{_REPOS}/alice"),
        ("head-list", "HEAD", _MODELS),
        ("head-search", "HEAD", f"{_MODELS}/search"),
        ("head-custom", "HEAD", _model(third)),
        ("head-near-miss", "HEAD", f"{_MODELS}X"),
        ("put-custom", "PUT", _model(third)),
        ("patch-custom", "PATCH", _model(third)),
        ("post-list", "POST", _MODELS),
        ("put-action", "PUT", _model(third, "activate")),
        ("get-action", "GET", _model(third, "activate")),
        ("get-deploy", "GET", _deploy("alice")),
        ("delete-list", "DELETE", _MODELS),
        ("delete-near-miss", "DELETE", f"{_MODELS}X"),
        ("delete-empty-id", "DELETE", f"{_MODELS}/"),
        ("delete-root", "DELETE", "/"),
        ("retrieve-raw-slash", "GET", f"{_MODELS}/meta-llama/llama-3.1-8b-instruct"),
        ("activate-raw-slash", "POST", f"{_MODELS}/meta-llama/llama-3.1-8b-instruct/activate"),
    ):
        send(label, method, path)
    send("delete-list-none", "DELETE", _MODELS, auth="none")


def _deployed(body: Any) -> str:
    """The id a deploy answered; a placeholder when it answered none (the later steps then name a model none has)."""
    if isinstance(body, dict):
        deployment = body.get("deployment")
        if isinstance(deployment, dict) and isinstance(deployment.get("model_slug"), str):
            return str(deployment["model_slug"])
        model = body.get("model")
        if isinstance(model, dict) and isinstance(model.get("id"), str):
            return str(model["id"])
    return "alice:sandbox/no-model-answered"


def _steps() -> list[tuple[str, str, str]]:
    """The script's steps as (label, method, path), played against nothing (for the docs and the tests)."""
    found: list[tuple[str, str, str]] = []

    def record(label: str, method: str, path: str, **_: Any) -> Any:
        found.append((label, method, path))
        return None

    _script(record)
    return found


SCRIPT_STEPS = _steps()


# Playing the script ----------------------------------------------------------------------------------------------


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _raw_answer(label: str, response: Any) -> Answer:
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in ("date", "content-length")
    }
    if "content-type" in headers:
        headers["content-type"] = _media_type(headers["content-type"])
    try:
        body: Any = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):
        # Not JSON, or nested past what Python's decoder can hold (a fault's answer): compared as text.
        body = {"<text>": response.content[:_SHOWN].decode("utf-8", "replace")}
    return Answer(label, response.status_code, headers, body)


def play(app: Any) -> list[Answer]:
    """Send the script to ``app`` (an ASGI app) and answer every answer, normalised."""
    import httpx

    answers: list[Answer] = []
    loop = asyncio.new_event_loop()
    # A server answers 500 when the app raises (Starlette's last handler), and so does this transport.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://hub.probe")

    def send(label: str, method: str, path: str, *, auth: str = "alice", body: bytes | None = None) -> Any:
        # The script reads ids off the deploy answers, so it runs as plain code, one request at a time.
        answers.append(loop.run_until_complete(_send(client, label, method, path, auth, body)))
        return answers[-1].body

    try:
        _script(send)
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
    return _normalised(answers)


async def _send(client: Any, label: str, method: str, path: str, auth: str, body: bytes | None) -> Answer:
    headers = dict(_AUTH[auth])
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = await client.request(method, path, headers=headers, content=body)
    except Exception as error:  # a mutant may raise anything: that is its answer
        return Answer(label, 0, {}, {"<exception>": type(error).__name__})
    return _raw_answer(label, response)


# Normalising: what the docs leave free, written the same for every hub ---------------------------------------------


def _minted(answers: Sequence[Answer]) -> list[str]:
    """The ids the deploys answered, in order: the models the hub made for this script."""
    ids: list[str] = []
    for answer in answers:
        if answer.label.startswith("deploy") and answer.status == 200:
            model_id = _deployed(answer.body)
            if model_id not in ids and model_id != "alice:sandbox/no-model-answered":
                ids.append(model_id)
    return ids


def _normalised(answers: Sequence[Answer]) -> list[Answer]:
    # Longest first, so that an id that holds another is replaced whole; percent-encoded too (paths, Location).
    names: dict[str, str] = {}
    for number, model_id in enumerate(_minted(answers), start=1):
        names[model_id] = f"<model-{number}>"
        names.setdefault(quote(model_id, safe=""), f"<model-{number}>")
    ordered = sorted(names, key=len, reverse=True)

    def text(value: str) -> str:
        for name in ordered:
            if name in value:
                value = value.replace(name, names[name])
        return value

    # The first `created` each minted model was answered with: later answers about it are shown relative to it, so
    # that "the delete answer has the created of the model as last retrieved" stays visible whatever the clock.
    first_created: dict[str, int] = {}

    def created(model_id: str, value: int) -> str:
        first = first_created.setdefault(model_id, value)
        return f"<created of {model_id}>" + (f" {value - first:+d}" if value != first else "")

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            model_id = text(value["id"]) if isinstance(value.get("id"), str) else None
            stamp = value.get("created")
            if (
                model_id is not None
                and model_id in names.values()
                and isinstance(stamp, int)
                and not isinstance(stamp, bool)
            ):
                value = {**value, "created": created(model_id, stamp)}
            return {text(k): walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [walk(item) for item in value]
            if key == "data" and all(isinstance(item, dict) for item in items):
                # No source orders the list or a search: compare the models by id, whatever their order.
                items.sort(key=lambda item: json.dumps(item.get("id"), sort_keys=True))
            return items
        if key == "deployment_id" and isinstance(value, str):
            return "<deployment-id>"
        return text(value) if isinstance(value, str) else value

    return [Answer(a.label, a.status, {k: text(v) for k, v in a.headers.items()}, walk(a.body)) for a in answers]


# Comparing ----------------------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "<absent>"
    rendered = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return rendered if len(rendered) <= _SHOWN else rendered[: _SHOWN - 3] + "..."


_ABSENT = object()


def _item_key(item: Any) -> str | None:
    return str(item["id"]) if isinstance(item, dict) and isinstance(item.get("id"), str) else None


def _diff(where: str, clean: Any, mutant: Any, out: list[str]) -> None:
    if type(clean) is type(mutant) and isinstance(clean, dict):
        for key in sorted({*clean, *mutant}):
            _diff(f"{where}/{key}", clean.get(key, _ABSENT), mutant.get(key, _ABSENT), out)
        return
    if type(clean) is type(mutant) and isinstance(clean, list):
        keys = [_item_key(item) for item in clean]
        other = [_item_key(item) for item in mutant]
        if all(keys) and all(other) and len(set(keys)) == len(keys) and len(set(other)) == len(other):
            # A list of models: compared model by model, by id, so that one missing model is one line.
            by_id = dict(zip(keys, clean, strict=True))
            their = dict(zip(other, mutant, strict=True))
            for key in sorted({*by_id, *their}, key=str):
                _diff(f"{where}[{key}]", by_id.get(str(key), _ABSENT), their.get(str(key), _ABSENT), out)
            return
        if len(clean) == len(mutant):
            for index, (a, b) in enumerate(zip(clean, mutant, strict=True)):
                _diff(f"{where}[{index}]", a, b, out)
            return
    if clean != mutant or type(clean) is not type(mutant):
        out.append(f"{where}: {_shown(clean)} -> {_shown(mutant)}")


def differences(clean: Sequence[Answer], mutant: Sequence[Answer]) -> list[str]:
    """One line per difference between two plays of the script, ``<step> <where>: <clean> -> <mutant>``."""
    out: list[str] = []
    for before, after in zip(clean, mutant, strict=True):
        found: list[str] = []
        _diff("status", before.status, after.status, found)
        _diff("header", before.headers, after.headers, found)
        _diff("body", before.body, after.body, found)
        out += [f"{before.label} {line}" for line in found]
    return out


# Probing mutants: each in a forked child, against a baseline played the same way --------------------------------


def _play_here(mutant: str | None) -> list[Answer]:
    from oxen_contract.hub import create_app
    from oxen_contract.hub.hostile import DRIP_SECONDS

    if mutant is None:
        os.environ.pop("MUTANT_UNDER_TEST", None)
    else:
        os.environ["MUTANT_UNDER_TEST"] = mutant
    # Made as the suite's --local-hub makes it for the mutation run (serve.LocalHub), every argument given: a mutant
    # of a default the suite never leaves to its default is no hub the suite meets.
    app = create_app(
        PROBE_TOKENS,
        (),
        deterministic=True,
        db_path=None,
        hang_seconds=3600.0,
        drip_seconds=DRIP_SECONDS,
        prefix="",
    )
    try:
        return play(app)
    finally:
        app.state.store.close()


@dataclass(slots=True)
class _Child:
    """A forked child playing the script against one mutant (None: the clean hub), and what it has sent so far."""

    mutant: str | None
    pid: int
    pipe: int
    started: float
    chunks: list[bytes]


def _fork(mutant: str | None) -> _Child:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: play, hand the answers over, and leave without running the parent's cleanup
        os.close(read_end)
        code = 0
        try:
            data = json.dumps([[a.label, a.status, a.headers, a.body] for a in _play_here(mutant)]).encode()
        except BaseException as error:  # whatever a mutant raises is what the probe reports
            data, code = json.dumps(f"raised {type(error).__name__}: {error}"[:_SHOWN]).encode(), 1
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        os._exit(code)
    os.close(write_end)
    return _Child(mutant, pid, read_end, time.monotonic(), [])


def _finish(child: _Child, *, timed_out: float | None = None) -> list[Answer] | str:
    """The child's play, or why there is none (it timed out, crashed, or raised)."""
    if timed_out is not None:
        os.kill(child.pid, 9)
    os.close(child.pipe)
    _, status = os.waitpid(child.pid, 0)
    if timed_out is not None:
        return f"timed out after {timed_out:g} s"
    try:
        found = json.loads(b"".join(child.chunks) or b'"no answer"')
    except ValueError:
        found = f"exit status {status}: unreadable answer"
    if isinstance(found, str):
        return found
    return [Answer(label, code, headers, body) for label, code, headers, body in found]


def _plays(mutants: Sequence[str | None], timeout: float, workers: int) -> Iterator[tuple[str | None, Any]]:
    """Each mutant's play (or why there is none), ``workers`` children at a time, in the order they end."""
    waiting = list(mutants)
    running: dict[int, _Child] = {}
    while waiting or running:
        while waiting and len(running) < workers:
            child = _fork(waiting.pop(0))
            running[child.pipe] = child
        ready, _, _ = select.select(list(running), [], [], 1.0)
        for pipe in ready:
            chunk = os.read(pipe, 1 << 16)
            if chunk:
                running[pipe].chunks.append(chunk)
                continue
            child = running.pop(pipe)
            yield child.mutant, _finish(child)
        for pipe, child in list(running.items()):
            if time.monotonic() - child.started > timeout:
                del running[pipe]
                yield child.mutant, _finish(child, timed_out=timeout)


def probe(
    mutants: Sequence[str],
    timeout: float = TIMEOUT,
    say: Callable[[str], None] | None = None,
    workers: int = 2,
) -> dict[str, Any]:
    """Every mutant's differences from the clean hub (``[]``: none), and the baseline's step count."""
    # Imported once here, so that every forked child starts with the hub's modules loaded.
    import oxen_contract.hub  # noqa: F401

    _, clean = next(_plays([None], timeout, 1))
    if isinstance(clean, str):
        raise RuntimeError(f"the clean hub cannot play the probe: {clean}")
    found: dict[str, list[str]] = {}
    for mutant, played in _plays(mutants, timeout, workers):
        assert mutant is not None
        lines = [f"(the hub) {played}"] if isinstance(played, str) else differences(clean, played)
        more = [f"... {len(lines) - _MAX_LINES} more"] if len(lines) > _MAX_LINES else []
        found[mutant] = lines[:_MAX_LINES] + more
        if say is not None and len(found) % 100 == 0:
            say(f"  probed {len(found)}/{len(mutants)} mutants")
    return {"steps": len(clean), "differences": {mutant: found[mutant] for mutant in mutants}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oxen_contract.mutants.probe",
        description="Play the differential probe against the clean hub and each mutant named; write the differences "
        "as JSON. Run with mutmut's mutated sources first on sys.path.",
    )
    parser.add_argument("--ids", type=Path, required=True, metavar="FILE", help="mutmut ids, one a line")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="where the JSON goes")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS", help="per mutant")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="mutants played at once")
    args = parser.parse_args(argv)
    mutants = [line.strip() for line in args.ids.read_text("utf-8").splitlines() if line.strip()]
    result = probe(mutants, args.timeout, say=lambda text: print(text, flush=True), workers=args.workers)  # noqa: T201
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
