"""``oxen-contract``: the contract suite's own front door, then pytest with the suite's options.

``oxen-contract`` (or ``oxen-contract --replay``) replays the packaged cassettes with the network blocked;
``oxen-contract --local-hub`` runs live against the local reference hub; ``oxen-contract --hub-url URL --fine-tune
OWNER/REPO/FT_ID`` runs live against a hub (key in OXEN_API_KEY). It is ``pytest --pyargs oxen_contract.suite``
underneath, which works too.

The front door is click's (already installed with schemathesis, and what schemathesis's ``st`` is built on): a help of
its own with the suite's options grouped (from the one table, ``table.py``), ``--version`` naming the contract's
digest, "did you mean" for a near miss of the suite's options, and exit status 4 (pytest's usage error) for bad input.
Every other argument is pytest's and passes through unchanged (``-x``, ``-k EXPR``, ``-W error``, ``--lf``); ``--``
ends the suite's options explicitly. pytest's cache and Hypothesis's files live in the user's cache folder, one per
working directory, so ``--lf`` works and a run leaves nothing in the working directory.

The target comes from the command line or the environment, never from an ini file alone: a run without a live
option or variable is a replay, asked for explicitly (``--replay``), so a project's ``pytest.ini`` naming a hub URL
and a fine-tune cannot turn it into live, paid deploys.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from .settings.table import GROUPS, Setting, by_name, options

__all__ = ["local_hub_main", "main"]

SUITE = "oxen_contract.suite"
PROG = "oxen-contract"
# pytest's own usage-error status: the suite's usage errors (config.py) end with it too, so bad input is 4 either way.
USAGE_ERROR = 4
# A near miss of one of the suite's options: close enough that it is a typo, not some other plugin's option.
_NEAR_MISS = 0.8
# oxen-local-hub's status for bad input (hub/__main__.py): one line on stderr, exit 2, as argparse does.
HUB_USAGE_ERROR = 2
_LIVE = ("hub_url", "local_hub")
# The help's option column: a longer option and metavar go on a line of their own.
_LABEL_WIDTH = 22

_INTRO = (
    "Check a hub against the Oxen.ai models API contract; without --hub-url or --local-hub, replay the packaged "
    "cassettes offline. Other arguments go to pytest (-x, -k EXPR, -W error, --lf); '--' ends the suite's options. "
    "Each option: [environment variable; ini key; default]."
)
_EPILOG = (
    "Exit status: 0 held or partial pass, 1 contract violations, 2 interrupted, 4 usage error, 70 suite error, "
    "75 hub unavailable, 78 setup error. pytest --help lists pytest's options."
)


class _SuiteCommand(click.Command):
    """A click command whose help lists the suite's options by group, each with its env var, ini key and default."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for group in GROUPS:
            rows = [(setting.label(), _row(setting)) for setting in options() if setting.group == group]
            with formatter.section(group.capitalize()):
                formatter.write_dl(rows, col_max=_LABEL_WIDTH)
        with formatter.section("Other"):
            formatter.write_dl(
                [("--version", "The version, the contract's digest and what it runs on."), ("-h, --help", "This.")],
                col_max=_LABEL_WIDTH,
            )


def _row(setting: Setting) -> str:
    """An option's help: its sentence, then [environment variable; ini key; default]."""
    env = setting.env + "".join(f" or {alias}" for alias in setting.aliases)
    return f"{setting.help} [{env}; {setting.ini or 'no ini key'}; {setting.default}]"


def _versions() -> str:
    found = []
    for package in ("schemathesis", "hypothesis", "pytest"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


def _version_text() -> str:
    from . import __version__
    from .checking.contracts import contract_digest

    return f"{PROG} {__version__}\ncontract sha256:{contract_digest()}\n{_versions()}"


def _show_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit(0)


def _click_option(setting: Setting) -> click.Option:
    assert setting.option is not None
    if setting.flag:
        return click.Option([setting.option, setting.name], is_flag=True, default=False)
    return click.Option(
        [setting.option, setting.name], multiple=setting.repeatable, metavar=setting.metavar, default=None
    )


def _command() -> click.Command:
    params: list[click.Parameter] = [_click_option(setting) for setting in options()]
    params.append(click.Option(["--version"], is_flag=True, expose_value=False, is_eager=True, callback=_show_version))
    return _SuiteCommand(
        PROG,
        params=params,
        help=_INTRO,
        epilog=_EPILOG,
        options_metavar="[OPTIONS] [PYTEST ARGS]... [-- PYTEST ARGS...]",
        # Values are checked where they are used (config.py), so that bad input gets one message whatever its source.
        context_settings={
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "help_option_names": ["--help"],
            "max_content_width": 100,
        },
        # The suite's options by name, and the rest of the command line, which is pytest's.
        callback=lambda **given: (given, list(click.get_current_context().args)),
        add_help_option=True,
    )


def _suite_arguments(given: dict[str, Any]) -> list[str]:
    """The suite's options as pytest's command line spells them (the plugin parses them again, and checks them)."""
    arguments: list[str] = []
    for name, value in given.items():
        option = by_name(name).option
        assert option is not None
        if value is True:
            arguments.append(option)
        elif isinstance(value, tuple):
            for item in value:
                arguments += [option, item]
        elif value not in (None, False):
            arguments += [option, str(value)]
    return arguments


def _near_miss(word: str) -> str | None:
    """The suite's option ``word`` is probably a typo of, if it is no option of the suite's."""
    if not word.startswith("--"):
        return None
    name = word.split("=", 1)[0]
    known = [setting.option for setting in options() if setting.option is not None]
    if name in known:
        return None
    close = difflib.get_close_matches(name, known, n=1, cutoff=_NEAR_MISS)
    return close[0] if close else None


def _pytest_knows(option: str) -> bool:
    """Whether pytest (or a plugin of it here) has ``option``: asked only for a near miss, so it costs nothing else."""
    found = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"{option} " in found.stdout or f"{option}=" in found.stdout or f"{option}," in found.stdout


def _cache_folder() -> Path:
    """Pytest's cache and Hypothesis's files for runs from this working directory, in the user's cache folder.

    One per working directory, as pytest keeps one per rootdir: ``--lf`` in a project remembers that project's run.
    """
    from platformdirs import user_cache_path

    where = os.environ.get("OXEN_CONTRACT_CACHE_DIR") or str(user_cache_path("oxen-contract", appauthor=False))
    key = hashlib.sha256(str(Path.cwd().resolve()).encode()).hexdigest()[:16]
    return Path(where) / key


def _live(given: dict[str, Any]) -> bool:
    if any(given.get(name) for name in _LIVE):
        return True
    return any(os.environ.get(variable, "").strip() for name in _LIVE for variable in by_name(name).envs)


def _usage_error(message: str) -> int:
    click.echo(f"Usage: {PROG} [OPTIONS] [PYTEST ARGS]... [-- PYTEST ARGS]\nTry '{PROG} --help' for help.\n", err=True)
    click.echo(f"Error: {message}", err=True)
    return USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the contract suite with ``argv`` (default: the command line); the run's exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    head, tail = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    # -h is pytest's short help too, but click would also take an h inside a cluster (-kheavy) for it: only alone.
    head = ["--help" if word == "-h" else word for word in head]
    try:
        parsed = _command().main(head, prog_name=PROG, standalone_mode=False)
    except click.UsageError as error:
        return _usage_error(error.format_message())
    if isinstance(parsed, int):  # --help or --version: said, and done
        return parsed
    given, passed_on = parsed
    for word in passed_on:
        typo = _near_miss(word)
        if typo is not None and not _pytest_knows(word.split("=", 1)[0]):
            return _usage_error(f"No such option: {word.split('=', 1)[0]} (Did you mean {typo}?)")
    replay = bool(given.get("replay"))
    if replay and any(given.get(name) for name in _LIVE):
        return _usage_error("--replay replays the packaged cassettes: drop --hub-url / --local-hub")
    # A replay is explicit for the plugin too: it then ignores (and names) a hub URL, fine-tune or key that an ini
    # file or the environment holds, and the network stays blocked.
    mode = [] if _live(given) and not replay else ["--replay", "--block-network"]
    given.pop("replay", None)
    cache = _cache_folder()
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache / "hypothesis"))
    # Ours first: a -o cache_dir or -r of the caller's comes later on the command line, and the last one wins. With the
    # cache plugin off, cache_dir is an unknown ini key, a warning that -W error makes an INTERNALERROR: not set then.
    cache_off = (
        any(
            word == "no:cacheprovider" and previous == "-p"
            for previous, word in zip([""] + passed_on, passed_on, strict=False)
        )
        or "-pno:cacheprovider" in passed_on
    )
    defaults = ([] if cache_off else ["-o", f"cache_dir={cache / 'pytest'}"]) + ["-ra"]
    import pytest

    return int(pytest.main(["--pyargs", SUITE, *defaults, *mode, *_suite_arguments(given), *passed_on, *tail]))


def local_hub_main(argv: Sequence[str] | None = None) -> int:
    """``oxen-local-hub``: the local reference hub's command, or one line naming the extra it needs."""
    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        sys.stderr.write(
            f"oxen-local-hub: the local reference hub needs the [hub] extra ({', '.join(missing)} not installed): "
            "pip install 'oxen-contract[hub]'\n"
        )
        # The hub's own status for a setup it cannot start with (a bad option is one line and exit 2 as well).
        return HUB_USAGE_ERROR
    from .hub.__main__ import main as hub_main

    return hub_main(argv)


if __name__ == "__main__":
    sys.exit(main())
