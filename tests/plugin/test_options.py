"""Options, their environment fallbacks, and the usage errors bad input gets."""

from __future__ import annotations

import pytest

from .conftest import Runner

OPTIONS = (
    "--replay",
    "--hub-label",
    "--cassette-dir",
    "--max-examples",
    "--seed",
    "--hub-url",
    "--local-hub",
    "--fine-tune",
    "--disposable-model",
    "--max-provisions",
    "--allow-protection-probes",
    "--strict-contract",
    "--request-timeout",
    "--namespace",
    "--ledger",
)


def test_help_lists_every_option_in_the_oxen_contract_group(run_suite: Runner) -> None:
    result = run_suite("--help")
    assert result.returncode == 0
    assert "Oxen hub models API contract suite" in result.stdout
    for option in OPTIONS:
        assert option in result.stdout
    # Each names its environment variable, on the one scheme; --ledger's named neither it nor its default.
    flat = " ".join(result.stdout.split())
    assert "env OXEN_CONTRACT_LEDGER, ini oxen_ledger; default: .oxen-contract/ledger.jsonl" in flat
    assert "env OXEN_CONTRACT_HUB_URL (or OXEN_HUB_URL), ini oxen_hub_url" in flat


def test_a_live_run_prints_its_seed_and_the_line_that_replays_its_draws(run_suite: Runner) -> None:
    args = ("tests/contract/test_operations.py", "--local-hub", "--allow-partial", "--clock-skew", "100000000")
    result = run_suite(*args, "--seed", "random", "-q")
    assert result.returncode == 0, result.stdout[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if "replay these draws with:" in line]
    seed = line.split(", seed ", 1)[1].split(";", 1)[0]
    assert line.endswith(f"--seed {seed}") and "--seed random" not in line
    # The line replays the draws: the same seed, the same answers checked.
    again = run_suite(*args, "--seed", seed, "-q")
    checked = [next(x for x in r.stdout.splitlines() if "PARTIAL PASS" in x).split("(", 2)[2] for r in (result, again)]
    assert checked[0].split(";")[0] == checked[1].split(";")[0]


def test_the_summary_line_names_the_mode(run_suite: Runner) -> None:
    result = run_suite("tests/contract/test_errors.py", "--local-hub", "--allow-partial", "--clock-skew", "100000000")
    summary = [line for line in result.stdout.splitlines() if line.startswith("[oxen-contract] PARTIAL PASS")]
    assert summary and "[live against the local reference hub] (exit status 0)" in summary[0]
    assert "oxen-contract: live against the local reference hub" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--hub-url", "http://127.0.0.1:9"], {}, "needs an API key: export OXEN_API_KEY"),
        ([], {"OXEN_HUB_URL": "http://127.0.0.1:9"}, "needs an API key: export OXEN_API_KEY"),
        (["--hub-url", "ftp://hub"], {"OXEN_API_KEY": "k"}, "--hub-url expects an http(s) URL"),
        (["--local-hub", "--hub-url", "http://127.0.0.1:9"], {}, "--local-hub starts its own hub"),
        (["--record-mode=rewrite"], {}, "records from a live hub: add --hub-url URL or --local-hub"),
        (["--local-hub", "--fine-tune", "alice/sandbox"], {}, "--fine-tune expects OWNER/REPO/FT_ID"),
        (["--local-hub", "--max-provisions", "many"], {}, "--max-provisions expects a whole number; got 'many'"),
        (["--local-hub", "--max-provisions", "-1"], {}, "--max-provisions must be at least 0"),
        (["--local-hub", "--request-timeout", "0"], {}, "--request-timeout must be positive"),
        ([], {"OXEN_CONTRACT_STRICT": "maybe"}, "OXEN_CONTRACT_STRICT expects 1/true/yes or 0/false/no"),
        (["--local-hub", "--request-timeout", "nan"], {}, "--request-timeout must be positive; got 'nan'"),
        (["--local-hub", "--request-timeout", "inf"], {}, "--request-timeout must be positive; got 'inf'"),
        (["--hub-url", "http://user:pw@127.0.0.1:9"], {"OXEN_API_KEY": "k"}, "must not hold credentials"),
        (["--hub-url", "http://127.0.0.1:9?x=1"], {"OXEN_API_KEY": "k"}, "without a query or a fragment"),
        (["--hub-url", "http://127.0.0.1:9"], {"OXEN_API_KEY": "k\u200b"}, "OXEN_API_KEY is not a usable header"),
        (
            ["--hub-url", "http://127.0.0.1:9", "--fine-tune", "a/b/c", "-n", "2"],
            {"OXEN_API_KEY": "k"},
            "runs in one process",
        ),
        (
            # xdist's workers without -n (the outsider attack on issue 18, finding 6a): as refused as -n.
            ["--hub-url", "http://127.0.0.1:9", "--fine-tune", "a/b/c", "--dist", "load", "--tx", "2*popen"],
            {"OXEN_API_KEY": "k"},
            "runs in one process",
        ),
        (
            ["--hub-url", "http://127.0.0.1:9/api/ai"],
            {"OXEN_API_KEY": "k"},
            "--hub-url takes the hub's root",
        ),
        (
            ["--hub-url", "http://127.0.0.1:9", "--disposable-model", "a:b/c"],
            {"OXEN_API_KEY": "k"},
            "--disposable-model needs the key's namespace",
        ),
    ],
    ids=[
        "live-without-key",
        "env-hub-url-without-key",
        "not-an-http-url",
        "local-hub-and-hub-url",
        "record-without-a-hub",
        "bad-fine-tune",
        "max-provisions-not-a-number",
        "max-provisions-negative",
        "timeout-zero",
        "bad-boolean-env",
        "timeout-nan",
        "timeout-inf",
        "url-with-credentials",
        "url-with-query",
        "key-not-ascii",
        "xdist-against-a-remote-hub",
        "xdist-workers-without-n",
        "url-of-the-sdk-not-the-hub",
        "disposable-model-without-namespace",
    ],
)
def test_bad_input_is_a_one_line_usage_error_without_traceback(
    run_suite: Runner, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_suite("tests/contract", *args, env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_usage_error_never_shows_the_key(run_suite: Runner) -> None:
    secret = "sk-very-secret-oxen-key-123456"
    result = run_suite("tests/contract", "--hub-url", "nope", env={"OXEN_API_KEY": secret})
    assert result.returncode == 4
    assert secret not in result.stdout + result.stderr


def test_replay_is_the_default_and_says_so_in_the_header(run_suite: Runner) -> None:
    result = run_suite("tests/contract/test_models.py", "--block-network", "-q", "--allow-partial")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "oxen-contract: replay against cassettes" in result.stdout or "passed" in result.stdout


def test_a_second_run_against_a_held_ledger_stops_with_a_usage_error(run_suite: Runner, tmp_path) -> None:
    from oxen_contract.disposables.ledger import Ledger

    held = Ledger(tmp_path / "held.jsonl", "http://127.0.0.1:9")
    held.acquire()
    try:
        result = run_suite(
            "tests/contract",
            *("--hub-url", "http://127.0.0.1:9", "--ledger", str(held.path)),
            env={"OXEN_API_KEY": "k"},
        )
    finally:
        held.release()
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"is in use by run {held.run_id}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
