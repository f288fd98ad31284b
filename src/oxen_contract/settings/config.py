"""One frozen RunConfig, resolved once per session from options, environment and ini.

Precedence, for every setting: command-line option > environment variable (its current name, else an older alias) >
ini key > default. Where each setting is found is the one table of ``table.py``; this module is the only place that
applies the precedence, and the only place that turns bad input into a ``pytest.UsageError`` that says what is
accepted and what was received (never with a token in it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..checking.exchange import Credential
from ..http.redaction import ApiKey
from .reading import checked_hub_url, env_value, flag, header_safe, ini_value, number, raw_setting, report_path
from .table import DEFAULT_CLOCK_SKEW, DEFAULT_CONCURRENCY, DEFAULT_MAX_EXAMPLES, MAX_CONCURRENCY, SETTINGS

__all__ = ["FineTune", "Mode", "RunConfig", "draws_label", "mode_label", "resolve"]

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
LOCAL_MAX_PROVISIONS = 5
# Where an xdist worker finds the controller's seed: workers parse the command line anew, and --seed random would
# otherwise draw one seed per worker.
WORKER_SEED = "oxen_contract_seed"

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
    # Requests sent at once (--concurrency); 1 in a replay and a recording, whose cassettes keep their order.
    concurrency: int = 1
    allow_partial: bool = False
    # --baseline: last night's JSON report, read before the run (tonight's report may overwrite the same path).
    baseline: dict[str, Any] | None = field(default=None, repr=False)
    # --history: earlier JSON reports, oldest first, for the HTML report's chart; and the files that were skipped.
    history: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    history_skipped: tuple[str, ...] = ()
    # How far the hub's clock may be from itself (its Date header vs a model's `created`): see provenance.py.
    clock_skew: float = DEFAULT_CLOCK_SKEW
    # --max-examples and --seed: the fuzzed operations' draws (a replay and a recording draw as the cassettes hold).
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    # --hub-label: the hub's name in what a run publishes (report, JSON, step summary) instead of its URL.
    hub_label: str | None = None
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


def default_cassette_dir(rootdir: Path) -> Path:
    """The replay cassettes: the wheel's copy when installed, the repository's when run from a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_cassettes", package.parents[1] / "cassettes"):
        if (candidate / "session.yaml").is_file():
            return candidate
    return rootdir / "cassettes"


def _baseline_and_history(config: pytest.Config) -> dict[str, Any]:
    from ..reporting.baseline import BaselineError, load_baseline, load_history

    found: dict[str, Any] = {}
    report = raw_setting(config, "contract_report")
    baseline = raw_setting(config, "baseline")
    history = raw_setting(config, "history")
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


def resolve(config: pytest.Config, *, rootdir: Path) -> RunConfig:
    """Read the session's settings and check them together; raise ``pytest.UsageError`` on bad input."""
    # An explicit --replay is replay, whatever an ini file or the environment says: nothing they hold turns it live.
    ignored = _replay_ignores(config) if flag(config, "replay") else None
    mode, local_hub, raw_url = _mode(config, ignored)
    cassette_dir = _cassette_dir(config, rootdir)
    fine_tunes, disposable, namespace = _provisioning(config, ignored)
    hub_url, token, other_token = _hub_and_keys(config, mode, local_hub, raw_url)
    # A replay plays the recorded probes back: they delete nothing.
    allow_probes = mode == Mode.REPLAY or flag(config, "allow_protection_probes")
    local_fine_tunes = tuple(map(FineTune.parse, LOCAL_FINE_TUNES))
    if mode == Mode.REPLAY:
        # The recorded run's provisioning is part of the cassettes: replay it as recorded.
        fine_tunes, disposable, namespace = local_fine_tunes, (), LOCAL_NAMESPACE
    elif local_hub:
        fine_tunes = fine_tunes or local_fine_tunes
        namespace = namespace or LOCAL_NAMESPACE
    if namespace is None and fine_tunes:
        namespace = fine_tunes[0].owner
    if namespace is None and disposable:
        raise pytest.UsageError(
            "--disposable-model needs the key's namespace, to check that each model is yours before deleting it: "
            "add --namespace NS (env OXEN_CONTRACT_NAMESPACE)"
        )
    ledger_raw = raw_setting(config, "ledger")
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
        max_provisions=_max_provisions(config, local_hub or mode == Mode.REPLAY),
        allow_protection_probes=allow_probes,
        strict_contract=flag(config, "strict_contract"),
        request_timeout=number("--request-timeout", raw_setting(config, "request_timeout"), 30.0),
        ledger_path=ledger_path,
        cassette_dir=cassette_dir,
        contract_report=report_path(raw_setting(config, "contract_report")),
        allow_partial=flag(config, "allow_partial"),
        **_baseline_and_history(config),
        max_requests=_max_requests(config),
        clock_skew=_clock_skew(config, local_hub),
        concurrency=_concurrency(config, mode),
        **_draws(config, mode),
        hub_label=_hub_label(config),
        ignored=ignored or (),
    )


def _mode(config: pytest.Config, ignored: tuple[str, ...] | None) -> tuple[str, bool, str | None]:
    """Replay, live or record, whether the local hub runs, and the hub URL asked for (None: replay ignores it)."""
    local_hub = ignored is None and flag(config, "local_hub")
    raw_url = None if ignored is not None else raw_setting(config, "hub_url")
    if local_hub and raw_url:
        raise pytest.UsageError(
            "--local-hub starts its own hub: drop --hub-url (or OXEN_CONTRACT_HUB_URL, OXEN_HUB_URL), "
            "or drop --local-hub"
        )
    record_mode = config.getoption("record_mode", default="none") or "none"
    recording_disabled = bool(config.getoption("disable_recording", default=False))
    if local_hub or raw_url:
        return (Mode.RECORD if record_mode != "none" and not recording_disabled else Mode.LIVE), local_hub, raw_url
    if record_mode != "none" and not recording_disabled:
        raise pytest.UsageError(
            f"--record-mode={record_mode} records from a live hub: add --hub-url URL or --local-hub"
        )
    return Mode.REPLAY, local_hub, raw_url


def _cassette_dir(config: pytest.Config, rootdir: Path) -> Path:
    cassette_dir = Path(raw_setting(config, "cassette_dir") or "")
    cassette_dir = cassette_dir if str(cassette_dir) not in ("", ".") else default_cassette_dir(rootdir)
    return cassette_dir if cassette_dir.is_absolute() else rootdir / cassette_dir


def _provisioning(
    config: pytest.Config, ignored: tuple[str, ...] | None
) -> tuple[tuple[FineTune, ...], tuple[str, ...], str | None]:
    """The fine-tunes to deploy, the models given to delete, and the key's namespace, as asked for."""
    fine_tune_raw = None if ignored is not None else raw_setting(config, "fine_tune")
    # The option may be repeated; the environment and ini give several separated by commas.
    raw_items = fine_tune_raw if isinstance(fine_tune_raw, list) else str(fine_tune_raw or "").split(",")
    fine_tunes = tuple(FineTune.parse(item) for item in raw_items if item.strip())
    if len(fine_tunes) > 2:
        raise pytest.UsageError(
            f"--fine-tune is given {len(fine_tunes)} times: give it once, or twice (the first deploys the model the "
            "tests share, the second each model a test deletes)"
        )
    # Never from an ini file (table.py): the option, else the environment's comma list.
    disposable_raw = raw_setting(config, "disposable_models")
    disposable_items = disposable_raw if isinstance(disposable_raw, list) else str(disposable_raw or "").split(",")
    disposable = tuple(item.strip() for item in disposable_items if item.strip())
    return fine_tunes, disposable, raw_setting(config, "namespace")


def _hub_and_keys(
    config: pytest.Config, mode: str, local_hub: bool, raw_url: str | None
) -> tuple[str, str, str | None]:
    """The hub's URL (empty for the local hub, known once it starts), the run's key and the second namespace's."""
    if mode == Mode.REPLAY:
        return REPLAY_HUB_URL, REPLAY_TOKEN, REPLAY_OTHER_TOKEN
    if local_hub:
        missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(
                f"--local-hub needs the local hub's extra ({', '.join(missing)} not installed): "
                "pip install 'oxen-contract[hub]'"
            )
        return "", LOCAL_TOKEN, LOCAL_OTHER_TOKEN
    hub_url = checked_hub_url(str(raw_url))
    token = (env_value("api_key") or ("", ""))[1]
    if not token:
        raise pytest.UsageError(
            f"live mode against {hub_url} needs an API key: export OXEN_API_KEY (and OXEN_API_KEY_OTHER, a second "
            "namespace's key, for the cross-namespace checks)"
        )
    other_token = (env_value("api_key_other") or ("", ""))[1] or None
    for name, value in (("OXEN_API_KEY", token), ("OXEN_API_KEY_OTHER", other_token or "")):
        if not header_safe(value):
            # Never echo the value: it is a secret, and a stray character in it is what is wrong.
            raise pytest.UsageError(
                f"{name} is not a usable header value: it holds a character outside printable ASCII "
                "(a stray space, newline or zero-width character?)"
            )
    return hub_url, token, other_token


def _max_requests(config: pytest.Config) -> int | None:
    raw = raw_setting(config, "max_requests")
    return int(number("--max-requests", raw, 0, integer=True, minimum=1)) if raw is not None else None


def _max_provisions(config: pytest.Config, free: bool) -> int:
    """The deploy cap: an ini file may lower the default, never raise it (a committed file must not spend more)."""
    default = LOCAL_MAX_PROVISIONS if free else DEFAULT_MAX_PROVISIONS
    option = config.getoption("max_provisions", default=None)
    env = env_value("max_provisions")
    if option not in (None, ""):
        return int(number("--max-provisions", option, default, integer=True))
    if env is not None:
        return int(number(env[0], env[1], default, integer=True))
    raw = ini_value(config, "max_provisions")
    cap = int(number("oxen_max_provisions", raw, default, integer=True))
    if raw is not None and cap > default:
        raise pytest.UsageError(
            f"oxen_max_provisions = {raw} in an ini file would raise the deploy cap above its default of {default}: a "
            "committed file may only lower it. Raise it with --max-provisions N or OXEN_CONTRACT_MAX_PROVISIONS."
        )
    return cap


def _concurrency(config: pytest.Config, mode: str) -> int:
    """--concurrency, checked in every mode; a replay and a recording send one request at a time whatever it says."""
    raw = raw_setting(config, "concurrency")
    value = int(number("--concurrency", raw, DEFAULT_CONCURRENCY, integer=True, minimum=1))
    if value > MAX_CONCURRENCY:
        raise pytest.UsageError(
            f"--concurrency expects 1 to {MAX_CONCURRENCY} (requests in flight at once against a hub others share); "
            f"got {raw!r}"
        )
    # A cassette holds a test's exchanges in the order they were sent, and a replay answers them in that order.
    return value if mode == Mode.LIVE else 1


def _draws(config: pytest.Config, mode: str) -> dict[str, Any]:
    """--max-examples and --seed: a live run's draws. A replay (and a recording) draws what the cassettes hold."""
    if mode != Mode.LIVE:
        given = [
            option
            for name, option in (("max_examples", "--max-examples"), ("seed", "--seed"))
            if config.getoption(name, default=None) not in (None, "")
        ]
        if given:
            raise pytest.UsageError(
                f"{' and '.join(given)}: a {mode} draws exactly the requests the cassettes hold, and these would draw "
                "others; use them in a live run (--local-hub or --hub-url URL)"
            )
        # From the environment or an ini file they shape live runs only; a replay leaves them be, silently.
        return {}
    max_examples = int(
        number("--max-examples", raw_setting(config, "max_examples"), DEFAULT_MAX_EXAMPLES, integer=True, minimum=1)
    )
    raw_seed = raw_setting(config, "seed")
    seed: int | None = getattr(config, "workerinput", {}).get(WORKER_SEED)
    if seed is None and raw_seed is not None:
        text = str(raw_seed).strip().lower()
        if text == "random":
            seed = secrets.randbits(32)
        else:
            try:
                seed = int(text)
            except ValueError:
                raise pytest.UsageError(f"--seed expects a whole number or 'random'; got {raw_seed!r}") from None
            if seed < 0:
                raise pytest.UsageError(f"--seed expects a whole number from 0; got {raw_seed!r}")
    return {"max_examples": max_examples, "seed": seed}


def _hub_label(config: pytest.Config) -> str | None:
    raw = raw_setting(config, "hub_label")
    if raw is None:
        return None
    label = str(raw).strip()
    if not label or not label.isprintable() or "://" in label or len(label) > 80:
        raise pytest.UsageError(
            "--hub-label expects a short name such as 'staging' (printable, no URL, at most 80 characters); "
            f"got {raw!r}"
        )
    return label


def mode_label(run: RunConfig) -> str:
    """The run's mode in a few words, for the header, the summary line and the report: what answered it."""
    if run.mode == Mode.REPLAY:
        return "replay of the recorded cassettes"
    hub = run.hub_label or ("the local reference hub" if run.local_hub else run.hub_url)
    return f"recording from {hub}" if run.mode == Mode.RECORD else f"live against {hub}"


def draws_label(run: RunConfig) -> str:
    """The header's note on a live run's fuzzed draws: its seed, or that they are the same every run."""
    if not run.live:
        return ""
    seed = f"seed {run.seed}" if run.seed is not None else "derandomized (no --seed)"
    return f"; fuzzing {run.max_examples} examples per operation, {seed}"


def _clock_skew(config: pytest.Config, local_hub: bool) -> float:
    raw = raw_setting(config, "clock_skew")
    if raw is not None and str(raw).strip() in ("0", "0.0"):
        return 0.0  # no skew at all is a choice, not a mistake
    # The local hub dates everything from one clock, which ticks a second per request: no skew to allow for, and a
    # few minutes of it would be a few hundred requests, inside which a colleague's model could pass for the run's.
    return number("--clock-skew", raw, 0.0 if local_hub and raw is None else DEFAULT_CLOCK_SKEW)


def _replay_ignores(config: pytest.Config) -> tuple[str, ...]:
    """What an explicit --replay leaves unused (ini files, pyproject, environment); a usage error for options given.

    Those are the settings that would turn the run live, spend or delete (``Setting.arms``).
    """
    arming = [setting for setting in SETTINGS if setting.arms]
    given = [
        setting.option
        for setting in arming
        if setting.option and config.getoption(setting.name, default=None) not in (None, False, [], "")
    ]
    if given:
        raise pytest.UsageError(f"--replay replays the cassettes: drop {', '.join(given)}")
    record_mode = config.getoption("record_mode", default="none") or "none"
    if record_mode != "none" and not config.getoption("disable_recording", default=False):
        raise pytest.UsageError(f"--replay replays the cassettes: drop --record-mode={record_mode}")
    ignored = []
    source = Path(str(config.inipath)).name if config.inipath else "the ini file"
    for setting in arming:
        ignored += [f"{variable} (environment)" for variable in setting.envs if os.environ.get(variable, "").strip()]
        if setting.ini and config.getini(setting.ini) not in (None, [], ""):
            ignored.append(f"{setting.ini} ({source})")
    return tuple(ignored)
