"""ONE table of the suite's settings: option, environment variable, ini key, type, default and help, per setting.

Written out once here, it drives everything that names a setting: the pytest options and ini keys
(``options.add_options``), the lookup of each value in precedence order (``config.py``), the ``oxen-contract``
command's grouped help (``cli.py``) and the README's option table (``markdown_table``; a test holds the README to it).
Three hand-kept copies of one list drifted apart: help naming the wrong variable, an option with no ini key.

Naming follows one scheme, so a reader can guess a name from another: the option ``--some-thing`` reads the
environment variable ``OXEN_CONTRACT_SOME_THING`` (the word "contract" is not repeated: ``--strict-contract`` is
``OXEN_CONTRACT_STRICT``) and the ini key ``oxen_some_thing``. Older names still work as documented aliases. The two
keys keep their names (``OXEN_API_KEY``, ``OXEN_API_KEY_OTHER``): they are the hub's keys, not the suite's settings.

What a committed file may hold: every setting has an ini key except those that permit deleting or spending beyond the
defaults (``--allow-protection-probes``, ``--disposable-model``) and the keys; ``oxen_max_provisions`` may lower the
deploy cap, never raise it. So a ``pyproject.toml`` can never arm a plain ``pytest`` run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_EXAMPLES",
    "GROUPS",
    "MAX_CONCURRENCY",
    "SETTINGS",
    "Setting",
    "by_name",
    "env_name",
    "markdown_table",
]

# The groups of the help and of the README's table, in the order they are shown.
TARGET = "target"
SAFETY = "safety and spending"
CONTRACT = "contract"
REPORTS = "reports"
FUZZING = "fuzzing"
GROUPS = (TARGET, SAFETY, CONTRACT, REPORTS, FUZZING)

# Types: how a value is read, and what the README's table says it is.
FLAG = "flag"  # an option without a value; env and ini take 1/true/yes/on or 0/false/no/off
TEXT = "text"
URL = "URL"
PATH = "path"
COUNT = "integer"
SECONDS = "seconds"
LIST = "list"  # the option repeats; env and ini take a comma-separated list

# Examples schemathesis draws per fuzzed operation (--max-examples): enough to meet every documented status of the six
# operations in seconds; the cassettes are recorded with it, so a replay draws exactly these.
DEFAULT_MAX_EXAMPLES = 12

# Requests a live run sends at once (--concurrency): enough to hide most of a distant hub's latency, few enough for a
# shared staging hub to notice no more than a handful of users. Replay and recording send one at a time.
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16

# How far the hub's clock may be from itself (--clock-skew): a few minutes, as the hub's clock (behind a load balancer,
# several hosts) and the Date it sends may disagree by that much with each other; a month-old model answered by an
# idempotent deploy is far outside it. See disposables/provenance.py.
DEFAULT_CLOCK_SKEW = 180.0

ENV_PREFIX = "OXEN_CONTRACT_"
INI_PREFIX = "oxen_"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting, as every place that names it sees it."""

    name: str  # the pytest option's dest, and RunConfig's field where there is one
    option: str | None  # None: only in the environment (the keys)
    env: str
    ini: str | None  # None: never from a file (it would arm a run: deleting, spending, a key)
    type: str
    default: str  # how the default reads in the help and the README
    help: str  # one sentence
    group: str
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # older environment names, still read
    # Turns a run live, deploys or deletes: an explicit --replay leaves it unused, wherever it comes from.
    arms: bool = False
    # The ini value may lower the default and never raise it (the deploy cap).
    ini_lowers_only: bool = False

    @property
    def flag(self) -> bool:
        return self.type == FLAG

    @property
    def repeatable(self) -> bool:
        return self.type == LIST

    @property
    def envs(self) -> tuple[str, ...]:
        """The environment names read, the current one first."""
        return (self.env, *self.aliases)

    def label(self) -> str:
        """How the option is written with its value: ``--hub-url URL``; the variable for an env-only setting."""
        if self.option is None:
            return self.env
        return f"{self.option} {self.metavar}" if self.metavar else self.option


def env_name(option: str) -> str:
    """The scheme: ``--max-provisions`` -> ``OXEN_CONTRACT_MAX_PROVISIONS``; "contract" is not said twice."""
    words = [word for word in option.removeprefix("--").split("-") if word != "contract"]
    return ENV_PREFIX + "_".join(words).upper()


def _ini(option: str) -> str:
    return INI_PREFIX + option.removeprefix("--").replace("-", "_")


def _setting(
    option: str, type_: str, default: str, help_text: str, group: str, *, file: bool = True, **extra: object
) -> Setting:
    """A setting named by the scheme from its option; ``file=False`` keeps it out of ini files."""
    name = str(extra.pop("name", option.removeprefix("--").replace("-", "_")))
    return Setting(
        name=name,
        option=option,
        env=env_name(option),
        ini=_ini(option) if file else None,
        type=type_,
        default=default,
        help=help_text,
        group=group,
        **extra,  # type: ignore[arg-type]
    )


SETTINGS: tuple[Setting, ...] = (
    # -- target: which hub answers, or which cassettes ------------------------------------------------------------
    _setting(
        "--replay",
        FLAG,
        "off",
        "Replay the cassettes, whatever ini files or the environment say.",
        TARGET,
    ),
    _setting(
        "--hub-url",
        URL,
        "none: replay",
        "Run live against the hub at this URL (its root: /api/ai/models is appended).",
        TARGET,
        metavar="URL",
        aliases=("OXEN_HUB_URL",),
        arms=True,
    ),
    _setting(
        "--local-hub",
        FLAG,
        "off",
        "Start the local reference hub and run live against it.",
        TARGET,
        arms=True,
    ),
    _setting(
        "--hub-label",
        TEXT,
        "its URL",
        "Name the hub so in the report and step summary, never by its URL.",
        TARGET,
        metavar="NAME",
    ),
    _setting(
        "--namespace",
        TEXT,
        "the fine-tune's owner",
        "The namespace OXEN_API_KEY belongs to (checked against owned_by).",
        TARGET,
        metavar="NS",
        arms=True,
    ),
    _setting(
        "--cassette-dir",
        PATH,
        "the packaged cassettes",
        "Where cassettes are read (replay) and written (--record-mode).",
        TARGET,
        metavar="PATH",
    ),
    Setting(
        name="api_key",
        option=None,
        env="OXEN_API_KEY",
        ini=None,
        type=TEXT,
        default="none (live runs need it)",
        help="The key of the namespace the run provisions into; only live runs read it, and nothing shows it.",
        group=TARGET,
        arms=True,
    ),
    Setting(
        name="api_key_other",
        option=None,
        env="OXEN_API_KEY_OTHER",
        ini=None,
        type=TEXT,
        default="none: the cross-namespace probes skip",
        help="A second namespace's key, for the cross-namespace checks.",
        group=TARGET,
        arms=True,
    ),
    # -- safety and spending: what the run may deploy and delete ----------------------------------------------------
    _setting(
        "--fine-tune",
        LIST,
        "none (local: its own)",
        "Deploy disposable models from this fine-tune (or checkpoint STEP); given twice, the first for the shared "
        "model, the second for each model a test deletes.",
        SAFETY,
        metavar="OWNER/REPO/FT_ID[@STEP]",
        arms=True,
    ),
    _setting(
        "--disposable-model",
        LIST,
        "none",
        "An existing model the run may delete once verified as a custom model of --namespace.",
        SAFETY,
        file=False,
        name="disposable_models",
        metavar="ID",
        aliases=("OXEN_CONTRACT_DISPOSABLE_MODELS",),
        arms=True,
    ),
    _setting(
        "--max-provisions",
        COUNT,
        "3 (local, replay: 5)",
        "Deploy at most N models per run (they cost money); an ini file may only lower it.",
        SAFETY,
        metavar="N",
        ini_lowers_only=True,
    ),
    _setting(
        "--allow-protection-probes",
        FLAG,
        "off live, on in replay",
        "Try to delete a base model, and your model with the other key: a broken hub really deletes.",
        SAFETY,
        file=False,
    ),
    _setting(
        "--max-requests",
        COUNT,
        "no cap",
        "Send at most N requests; the tests past the cap skip, saying so.",
        SAFETY,
        metavar="N",
    ),
    _setting(
        "--concurrency",
        COUNT,
        f"{DEFAULT_CONCURRENCY} (replay, record: 1)",
        "Send at most N requests at once (independent reads side by side); a 429 lowers it for the rest of the run.",
        SAFETY,
        metavar="N",
    ),
    _setting(
        "--ledger",
        PATH,
        ".oxen-contract/ledger.jsonl",
        "Where a live run records its deploys, for cleanup; locked while it runs.",
        SAFETY,
        metavar="PATH",
        arms=True,
    ),
    _setting(
        "--clock-skew",
        SECONDS,
        "180",
        "How long before its deploy (the hub's clock) a model's created may be and still be that deploy's.",
        SAFETY,
        metavar="SECONDS",
    ),
    # -- contract: what counts as a violation -----------------------------------------------------------------------
    _setting(
        "--strict-contract",
        FLAG,
        "off",
        "The strict variant: no field the contract does not name; warnings fail the run.",
        CONTRACT,
    ),
    _setting(
        "--request-timeout",
        SECONDS,
        "30",
        "Fail a request whose whole answer has not come by then.",
        CONTRACT,
        metavar="SECONDS",
    ),
    _setting(
        "--allow-partial",
        FLAG,
        "off",
        "Pass a run whose delete 200 and 404 went unchecked (else a setup error).",
        CONTRACT,
    ),
    # -- reports ----------------------------------------------------------------------------------------------------
    _setting(
        "--contract-report",
        PATH,
        "none",
        "Write the report here (.md or .html), and its JSON twin beside it.",
        REPORTS,
        metavar="PATH",
    ),
    _setting(
        "--baseline",
        PATH,
        "none",
        "An earlier JSON report: the report opens with what is new since it.",
        REPORTS,
        metavar="PREV.json",
    ),
    _setting(
        "--history",
        PATH,
        "none",
        "A folder of earlier JSON reports, charted in the HTML report.",
        REPORTS,
        metavar="DIR",
    ),
    # -- fuzzing ----------------------------------------------------------------------------------------------------
    _setting(
        "--max-examples",
        COUNT,
        str(DEFAULT_MAX_EXAMPLES),
        "Examples drawn per fuzzed operation in a live run (a replay draws as recorded).",
        FUZZING,
        metavar="N",
    ),
    _setting(
        "--seed",
        TEXT,
        "none: the same every run",
        "Seed a live run's draws with this integer, or 'random'; the run prints the line that replays them.",
        FUZZING,
        metavar="S",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def by_name(name: str) -> Setting:
    return _BY_NAME[name]


def options() -> Iterator[Setting]:
    """The settings that are command-line options, in the table's order."""
    return (setting for setting in SETTINGS if setting.option is not None)


def markdown_table() -> str:
    """The README's option table: every setting, grouped, with its environment variable, ini key and default."""
    lines = ["| option | environment (older name) | ini key | type | default | what |", "|---|---|---|---|---|---|"]
    for group in GROUPS:
        lines.append(f"| **{group}** | | | | | |")
        for setting in (s for s in SETTINGS if s.group == group):
            option = f"`{setting.label()}`" if setting.option else ""
            env = f"`{setting.env}`" + "".join(f" (`{alias}`)" for alias in setting.aliases)
            ini = f"`{setting.ini}`" if setting.ini else "none: command line or environment only"
            if setting.ini_lowers_only:
                ini += " (may only lower it)"
            lines.append(f"| {option} | {env} | {ini} | {setting.type} | {setting.default} | {setting.help} |")
    return "\n".join(lines) + "\n"
