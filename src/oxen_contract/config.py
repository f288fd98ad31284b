"""One frozen RunConfig, resolved once per session from options, environment and ini.

Precedence, for every setting: command-line option > environment variable > ini key > default. This module is the
only place that applies it, and the only place that turns bad input into a ``pytest.UsageError`` that says what is
accepted and what was received (never with a token in it).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .exchange import Credential
from .provenance import DEFAULT_CLOCK_SKEW
from .transport import ApiKey

__all__ = ["FineTune", "Mode", "RunConfig", "resolve"]

# The base URL every cassette is recorded against, whatever hub answered: replays need no hub and no DNS.
REPLAY_HUB_URL = "http://oxen-hub.replay"
# Placeholder credentials for replay; the cassettes hold labels, never a key.
REPLAY_TOKEN = "replay-key"
REPLAY_OTHER_TOKEN = "replay-key-other"
# The local hub's namespaces and fine-tune (oxen-local-hub seeds NS/sandbox with ft-1 for each namespace).
LOCAL_TOKEN = "local-hub-key-alice"
LOCAL_OTHER_TOKEN = "local-hub-key-bob"
LOCAL_NAMESPACE = "alice"
LOCAL_OTHER_NAMESPACE = "bob"
LOCAL_FINE_TUNE = "alice/sandbox/ft-1"
# The local run deploys through both documented routes: the shared model through the fine-tune route, each model a
# test deletes through checkpoint 1 (the one the local hub seeds), so both deploy answers are checked on every run.
LOCAL_FINE_TUNES = (LOCAL_FINE_TUNE, f"{LOCAL_FINE_TUNE}@1")
# Deploys cost money on a real hub (default cap 3) and nothing on the local one, where every test that needs a fresh
# model gets one; replay mirrors the recording from the local hub.
DEFAULT_MAX_PROVISIONS = 3
LOCAL_MAX_PROVISIONS = 4

_FINE_TUNE = re.compile(r"^(?P<owner>[^/@\s]+)/(?P<repo>[^/@\s]+)/(?P<fine_tune>[^/@\s]+)(?:@(?P<step>\d+))?$")


class Mode:
    REPLAY = "replay"
    LIVE = "live"
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class FineTune:
    """``OWNER/REPO/FT_ID`` (deploy route) or ``OWNER/REPO/FT_ID@STEP`` (checkpoint deploy route)."""

    owner: str
    repo: str
    fine_tune_id: str
    step: int | None = None

    @classmethod
    def parse(cls, text: str) -> FineTune:
        match = _FINE_TUNE.match(text.strip())
        if not match:
            raise pytest.UsageError(
                "--fine-tune expects OWNER/REPO/FT_ID or OWNER/REPO/FT_ID@STEP (e.g. alice/sandbox/ft-1@1); "
                f"got {text!r}"
            )
        step = match["step"]
        return cls(match["owner"], match["repo"], match["fine_tune"], int(step) if step is not None else None)

    def __str__(self) -> str:
        base = f"{self.owner}/{self.repo}/{self.fine_tune_id}"
        return base if self.step is None else f"{base}@{self.step}"


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a run needs to know, resolved once; tokens are kept out of ``repr``."""

    mode: str
    hub_url: str
    local_hub: bool
    token: ApiKey = field(repr=False)
    other_token: ApiKey | None = field(repr=False)
    namespace: str | None
    # What deploys come from (--fine-tune, once or twice): the first for the shared model, the last for each model a
    # test deletes. Fixed by the model's use, not by the order of deploys, so a replay of any subset of the tests
    # meets the deploys it recorded.
    fine_tunes: tuple[FineTune, ...]
    disposable_models: tuple[str, ...]
    max_provisions: int
    allow_protection_probes: bool
    strict_contract: bool
    request_timeout: float
    ledger_path: Path | None
    cassette_dir: Path
    contract_report: Path | None = None
    max_requests: int | None = None
    allow_partial: bool = False
    # --baseline: last night's JSON report, read before the run (tonight's report may overwrite the same path).
    baseline: dict[str, Any] | None = field(default=None, repr=False)
    # --history: earlier JSON reports, oldest first, for the HTML report's chart; and the files that were skipped.
    history: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    history_skipped: tuple[str, ...] = ()
    # How far the hub's clock may be from itself (its Date header vs a model's `created`): see provenance.py.
    clock_skew: float = DEFAULT_CLOCK_SKEW
    # Settings a replay asked for explicitly (--replay) left unused, by name and where they came from: said in the run.
    ignored: tuple[str, ...] = ()
    # Local files that only shape the report (baseline, history) and could not be used: said in the run.
    setting_warnings: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        return self.mode != Mode.REPLAY

    def deploy_source(self, *, shared: bool) -> FineTune:
        """The fine-tune the shared model (``shared``) or a model a test deletes is deployed from."""
        return self.fine_tunes[0] if shared else self.fine_tunes[-1]

    @property
    def can_provision(self) -> bool:
        return bool(self.fine_tunes) or bool(self.disposable_models)


def _setting(config: pytest.Config, option: str, env: str | None, ini: str | None) -> Any:
    value = config.getoption(option, default=None)
    if value not in (None, [], ""):
        return value
    if env and os.environ.get(env):
        return os.environ[env]
    if ini:
        ini_value = config.getini(ini)
        if ini_value not in (None, [], ""):
            return ini_value
    return None


def _number(name: str, raw: Any, default: float, *, integer: bool = False, minimum: float = 0) -> float:
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number of seconds"
        raise pytest.UsageError(f"{name} expects {kind}; got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (not integer and value == 0):
        raise pytest.UsageError(f"{name} must be {'at least ' + str(minimum) if integer else 'positive'}; got {raw!r}")
    return value


def _flag(config: pytest.Config, option: str, env: str) -> bool:
    if config.getoption(option):
        return True
    raw = os.environ.get(env, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise pytest.UsageError(f"{env} expects 1/true/yes or 0/false/no; got {raw!r}")


def default_cassette_dir(rootdir: Path) -> Path:
    """The replay cassettes: the wheel's copy when installed, the repository's when run from a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_cassettes", package.parents[1] / "cassettes"):
        if (candidate / "session.yaml").is_file():
            return candidate
    return rootdir / "cassettes"


def _baseline_and_history(config: pytest.Config) -> dict[str, Any]:
    from .baseline import BaselineError, load_baseline, load_history

    found: dict[str, Any] = {}
    report = _setting(config, "contract_report", "OXEN_CONTRACT_REPORT", None)
    baseline = _setting(config, "baseline", "OXEN_CONTRACT_BASELINE", None)
    history = _setting(config, "history", "OXEN_CONTRACT_HISTORY", None)
    if (baseline or history) and not report:
        raise pytest.UsageError("--baseline and --history shape the report: add --contract-report PATH")
    # A baseline or history only shapes the report: one that cannot be read is said, and the run goes on without it,
    # so that one truncated file never keeps a nightly red (the nightly's baseline is last night's report).
    warnings: list[str] = []
    if baseline:
        try:
            found["baseline"] = load_baseline(baseline)
        except BaselineError as error:
            warnings.append(f"{error}; the report is written without a baseline")
    if history:
        if not Path(str(history)).is_dir():
            warnings.append(f"--history {history}: not a folder of earlier JSON reports; the report has no history")
        else:
            reports, skipped = load_history(history)
            found["history"], found["history_skipped"] = tuple(reports), tuple(skipped)
    found["setting_warnings"] = tuple(warnings)
    return found


def _report_path(raw: Any) -> Path | None:
    """--contract-report's path, checked writable now: a run must not fail at its very end for want of a folder."""
    if not raw:
        return None
    path = Path(str(raw))
    if path.suffix.lower() == ".json":
        raise pytest.UsageError(
            f"--contract-report {raw}: give the Markdown (.md) or HTML (.html) path; the JSON twin is written beside it"
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    twin = path.with_suffix(".json")
    problem = None
    if path.is_dir() or twin.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        problem = f"{folder} is not a writable folder"
    elif any(p.exists() and not os.access(p, os.W_OK) for p in (path, twin)):
        problem = "the file exists and is not writable"
    if problem:
        raise pytest.UsageError(f"--contract-report {raw}: cannot write the report there ({problem})")
    return path


def _header_safe(value: str) -> bool:
    return all(32 < ord(character) < 127 for character in value)


def _url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise pytest.UsageError(f"--hub-url expects an http(s) URL such as https://hub.oxen.ai; got {raw!r}")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # Not echoed: the URL holds a password. The key goes in OXEN_API_KEY, never in the URL.
        raise pytest.UsageError("--hub-url must not hold credentials (user:password@): put the key in OXEN_API_KEY")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise pytest.UsageError(f"--hub-url takes a base URL without a query or a fragment; got {raw!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise pytest.UsageError(f"--hub-url has a port that is not a number; got {raw!r}") from None
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments[-1:] == ["api"] or segments[-2:] == ["api", "ai"] or segments[-3:] == ["api", "ai", "models"]:
        # The OpenAI SDK's base URL (HUB/api/ai) is a natural thing to paste, and every route would then 404.
        root = url[: len(url) - len(parts.path)] + "/" + "/".join(segments[: segments.index("api")])
        raise pytest.UsageError(
            f"--hub-url takes the hub's root, the URL the API's paths (/api/ai/models, ...) are appended to; got "
            f"{raw!r}. Try {root.rstrip('/')!r}"
        )
    if any(segment in (".", "..") or "%" in segment for segment in segments):
        raise pytest.UsageError(f"--hub-url's path must be plain segments (no dot segments, no %-escapes); got {raw!r}")
    return url


def resolve(config: pytest.Config, *, rootdir: Path) -> RunConfig:
    """Read the session's settings and check them together; raise ``pytest.UsageError`` on bad input."""
    # An explicit --replay is replay, whatever an ini file or the environment says: nothing they hold turns it live.
    ignored = _replay_ignores(config) if config.getoption("replay", default=False) else None
    local_hub = ignored is None and _flag(config, "local_hub", "OXEN_CONTRACT_LOCAL_HUB")
    raw_url = None if ignored is not None else _setting(config, "hub_url", "OXEN_HUB_URL", "oxen_hub_url")
    if local_hub and raw_url:
        raise pytest.UsageError("--local-hub starts its own hub: drop --hub-url (or OXEN_HUB_URL), or drop --local-hub")
    record_mode = config.getoption("record_mode", default="none") or "none"
    recording_disabled = bool(config.getoption("disable_recording", default=False))
    live_target = local_hub or bool(raw_url)
    if not live_target:
        if record_mode != "none" and not recording_disabled:
            raise pytest.UsageError(
                f"--record-mode={record_mode} records from a live hub: add --hub-url URL or --local-hub"
            )
        mode = Mode.REPLAY
    else:
        mode = Mode.RECORD if record_mode != "none" and not recording_disabled else Mode.LIVE

    cassette_dir = Path(_setting(config, "cassette_dir", "OXEN_CONTRACT_CASSETTE_DIR", "oxen_cassette_dir") or "")
    cassette_dir = cassette_dir if str(cassette_dir) not in ("", ".") else default_cassette_dir(rootdir)
    if not cassette_dir.is_absolute():
        cassette_dir = rootdir / cassette_dir

    fine_tune_raw = (
        None if ignored is not None else _setting(config, "fine_tune", "OXEN_CONTRACT_FINE_TUNE", "oxen_fine_tune")
    )
    # The option may be repeated; the environment and ini give several separated by commas.
    raw_items = fine_tune_raw if isinstance(fine_tune_raw, list) else str(fine_tune_raw or "").split(",")
    fine_tunes = tuple(FineTune.parse(item) for item in raw_items if item.strip())
    if len(fine_tunes) > 2:
        raise pytest.UsageError(
            f"--fine-tune is given {len(fine_tunes)} times: give it once, or twice (the first deploys the model the "
            "tests share, the second each model a test deletes)"
        )
    disposable = tuple(config.getoption("disposable_models") or ())
    env_disposable = os.environ.get("OXEN_CONTRACT_DISPOSABLE_MODELS", "")
    disposable += tuple(
        item for item in env_disposable.split(",") if item.strip() and not config.getoption("disposable_models")
    )
    namespace = _setting(config, "namespace", "OXEN_CONTRACT_NAMESPACE", "oxen_namespace")

    other_token: str | None
    local_fine_tunes = tuple(map(FineTune.parse, LOCAL_FINE_TUNES))
    if mode == Mode.REPLAY:
        hub_url, token, other_token = REPLAY_HUB_URL, REPLAY_TOKEN, REPLAY_OTHER_TOKEN
        # The recorded run's provisioning is part of the cassettes: replay it as recorded.
        fine_tunes, disposable, namespace = local_fine_tunes, (), LOCAL_NAMESPACE
        allow_probes = True
    elif local_hub:
        missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(
                f"--local-hub needs the local hub's extra ({', '.join(missing)} not installed): "
                "pip install 'oxen-contract[hub]'"
            )
        hub_url, token, other_token = "", LOCAL_TOKEN, LOCAL_OTHER_TOKEN
        fine_tunes = fine_tunes or local_fine_tunes
        namespace = namespace or LOCAL_NAMESPACE
        allow_probes = _flag(config, "allow_protection_probes", "OXEN_CONTRACT_ALLOW_PROTECTION_PROBES")
    else:
        hub_url = _url(str(raw_url))
        token = os.environ.get("OXEN_API_KEY", "").strip()
        if not token:
            raise pytest.UsageError(
                f"live mode against {hub_url} needs an API key: export OXEN_API_KEY (and OXEN_API_KEY_OTHER, a second "
                "namespace's key, for the cross-namespace checks)"
            )
        other_token = os.environ.get("OXEN_API_KEY_OTHER", "").strip() or None
        for name, value in (("OXEN_API_KEY", token), ("OXEN_API_KEY_OTHER", other_token or "")):
            if not _header_safe(value):
                # Never echo the value: it is a secret, and a stray character in it is what is wrong.
                raise pytest.UsageError(
                    f"{name} is not a usable header value: it holds a character outside printable ASCII "
                    "(a stray space, newline or zero-width character?)"
                )
        allow_probes = _flag(config, "allow_protection_probes", "OXEN_CONTRACT_ALLOW_PROTECTION_PROBES")

    if namespace is None and fine_tunes:
        namespace = fine_tunes[0].owner
    if namespace is None and disposable:
        raise pytest.UsageError(
            "--disposable-model needs the key's namespace, to check that each model is yours before deleting it: "
            "add --namespace NS (env OXEN_CONTRACT_NAMESPACE)"
        )

    ledger_raw = _setting(config, "ledger", "OXEN_CONTRACT_LEDGER", "oxen_ledger")
    # A fresh in-memory local hub cannot hold leftovers, and a replay sends nothing: only a remote hub has a ledger.
    ledger_path = None
    if mode != Mode.REPLAY and not local_hub:
        ledger_path = Path(ledger_raw) if ledger_raw else rootdir / ".oxen-contract" / "ledger.jsonl"

    return RunConfig(
        mode=mode,
        hub_url=hub_url,
        local_hub=local_hub,
        token=ApiKey(token, Credential.KEY),
        other_token=ApiKey(other_token, Credential.OTHER) if other_token else None,
        namespace=namespace,
        fine_tunes=fine_tunes,
        disposable_models=disposable,
        max_provisions=int(
            _number(
                "--max-provisions",
                _setting(config, "max_provisions", "OXEN_CONTRACT_MAX_PROVISIONS", "oxen_max_provisions"),
                LOCAL_MAX_PROVISIONS if local_hub or mode == Mode.REPLAY else DEFAULT_MAX_PROVISIONS,
                integer=True,
            )
        ),
        allow_protection_probes=allow_probes,
        strict_contract=_flag(config, "strict_contract", "OXEN_CONTRACT_STRICT"),
        request_timeout=_number(
            "--request-timeout",
            _setting(config, "request_timeout", "OXEN_CONTRACT_REQUEST_TIMEOUT", "oxen_request_timeout"),
            30.0,
        ),
        ledger_path=ledger_path,
        cassette_dir=cassette_dir,
        contract_report=_report_path(_setting(config, "contract_report", "OXEN_CONTRACT_REPORT", None)),
        allow_partial=_flag(config, "allow_partial", "OXEN_CONTRACT_ALLOW_PARTIAL"),
        **_baseline_and_history(config),
        max_requests=(
            int(_number("--max-requests", raw_cap, 0, integer=True, minimum=1))
            if (raw_cap := _setting(config, "max_requests", "OXEN_CONTRACT_MAX_REQUESTS", None)) is not None
            else None
        ),
        clock_skew=_clock_skew(config),
        ignored=ignored or (),
    )


def _clock_skew(config: pytest.Config) -> float:
    raw = _setting(config, "clock_skew", "OXEN_CONTRACT_CLOCK_SKEW", "oxen_clock_skew")
    if raw is not None and str(raw).strip() in ("0", "0.0"):
        return 0.0  # no skew at all is a choice, not a mistake
    return _number("--clock-skew", raw, DEFAULT_CLOCK_SKEW)


# What a replay leaves unused wherever it comes from: each would turn the run live, spend or delete.
_LIVE_SETTINGS = (
    ("hub_url", "--hub-url", "OXEN_HUB_URL", "oxen_hub_url"),
    ("local_hub", "--local-hub", "OXEN_CONTRACT_LOCAL_HUB", None),
    ("fine_tune", "--fine-tune", "OXEN_CONTRACT_FINE_TUNE", "oxen_fine_tune"),
    ("disposable_models", "--disposable-model", "OXEN_CONTRACT_DISPOSABLE_MODELS", None),
    ("namespace", "--namespace", "OXEN_CONTRACT_NAMESPACE", "oxen_namespace"),
    ("ledger", "--ledger", "OXEN_CONTRACT_LEDGER", "oxen_ledger"),
    (None, None, "OXEN_API_KEY", None),
    (None, None, "OXEN_API_KEY_OTHER", None),
)


def _replay_ignores(config: pytest.Config) -> tuple[str, ...]:
    """What an explicit --replay leaves unused (ini files, pyproject, environment); a usage error for options given."""
    given = [
        option
        for dest, option, _, _ in _LIVE_SETTINGS
        if dest and option and config.getoption(dest, default=None) not in (None, False, [], "")
    ]
    if given:
        raise pytest.UsageError(f"--replay replays the cassettes: drop {', '.join(given)}")
    record_mode = config.getoption("record_mode", default="none") or "none"
    if record_mode != "none" and not config.getoption("disable_recording", default=False):
        raise pytest.UsageError(f"--replay replays the cassettes: drop --record-mode={record_mode}")
    ignored = []
    source = Path(str(config.inipath)).name if config.inipath else "the ini file"
    for _, _, env, ini in _LIVE_SETTINGS:
        if os.environ.get(env, "").strip():
            ignored.append(f"{env} (environment)")
        if ini and config.getini(ini) not in (None, [], ""):
            ignored.append(f"{ini} ({source})")
    return tuple(ignored)
