"""config.py: one RunConfig per session, each setting from the command line, else the environment, else ini.

Each test builds a real ``pytest.Config`` with the plugin's options (as a worker process would) in a folder of its
own, so the project's ini and the caller's ``OXEN_*`` environment play no part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from oxen_contract.checking.exchange import Credential
from oxen_contract.settings.config import LOCAL_FINE_TUNE, REPLAY_HUB_URL, FineTune, Mode, RunConfig, resolve

SECRET = "sk-oxen-config-test-0123456789"
Resolve = Callable[..., RunConfig]


@pytest.fixture
def resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Resolve:
    """Resolves a RunConfig from command-line ``args``, ``ini`` lines and ``env``, with no other OXEN_* variable."""
    for name in os.environ:
        if name.startswith("OXEN_"):
            monkeypatch.delenv(name)

    def run(*args: str, ini: str = "", env: dict[str, str] | None = None) -> RunConfig:
        (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n", encoding="utf-8")
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        # No capture and no assertion rewriting: parsing alone must not touch this session's file descriptors or hooks.
        config = pytest.Config.fromdictargs(
            {}, ["-s", "--assert=plain", "-p", "no:cacheprovider", *args, str(tmp_path)]
        )
        return resolve(config, rootdir=tmp_path)

    return run


def test_a_run_without_a_hub_replays_the_cassettes_as_they_were_recorded(resolved: Resolve) -> None:
    run = resolved()
    assert (run.mode, run.hub_url, run.live) == (Mode.REPLAY, REPLAY_HUB_URL, False)
    assert (str(run.deploy_source(shared=True)), run.namespace, run.ledger_path) == (LOCAL_FINE_TUNE, "alice", None)
    assert run.token.label == Credential.KEY


@pytest.mark.parametrize(
    ("option", "env", "ini", "expected"),
    [
        (None, None, None, 30.0),
        (None, None, "9", 9.0),
        (None, "7", "9", 7.0),
        ("5", "7", "9", 5.0),
    ],
    ids=["default", "ini", "env-over-ini", "option-over-env"],
)
def test_a_setting_comes_from_the_option_then_the_environment_then_ini_then_the_default(
    resolved: Resolve, option: str | None, env: str | None, ini: str | None, expected: float
) -> None:
    run = resolved(
        *(("--request-timeout", option) if option else ()),
        ini=f"oxen_request_timeout = {ini}" if ini else "",
        env={"OXEN_CONTRACT_REQUEST_TIMEOUT": env} if env else None,
    )
    assert run.request_timeout == expected


def test_a_live_run_holds_its_keys_behind_their_labels(resolved: Resolve, tmp_path: Path) -> None:
    run = resolved("--hub-url", "https://hub.test/", env={"OXEN_API_KEY": SECRET, "OXEN_API_KEY_OTHER": SECRET + "b"})
    assert (run.mode, run.hub_url) == (Mode.LIVE, "https://hub.test")
    assert (run.token.label, run.other_token.label if run.other_token else None) == (Credential.KEY, Credential.OTHER)
    assert SECRET not in repr(run)
    assert run.ledger_path == tmp_path / ".oxen-contract" / "ledger.jsonl"


def test_the_fine_tune_s_owner_is_the_namespace_unless_one_is_given(resolved: Resolve) -> None:
    live = ("--hub-url", "https://hub.test", "--fine-tune", "carol/sandbox/ft-9@2")
    assert resolved(*live, env={"OXEN_API_KEY": SECRET}).namespace == "carol"
    assert resolved(*live, "--namespace", "dave", env={"OXEN_API_KEY": SECRET}).namespace == "dave"


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (("--hub-url", "https://hub.test"), {}, "needs an API key: export OXEN_API_KEY"),
        (("--local-hub", "--hub-url", "https://hub.test"), {}, "--local-hub starts its own hub"),
        (("--record-mode=rewrite",), {}, "records from a live hub: add --hub-url URL or --local-hub"),
        (("--hub-url", "hub.test"), {"OXEN_API_KEY": SECRET}, "--hub-url expects an http(s) URL"),
        (("--hub-url", "https://hub.test", "--disposable-model", "m"), {"OXEN_API_KEY": SECRET}, "add --namespace NS"),
        (("--max-provisions", "many"), {}, "--max-provisions expects a whole number; got 'many'"),
        (("--request-timeout", "0"), {}, "--request-timeout must be positive; got '0'"),
        (("--fine-tune", "alice/ft-1"), {}, "--fine-tune expects OWNER/REPO/FT_ID or OWNER/REPO/FT_ID@STEP"),
        ((), {"OXEN_CONTRACT_STRICT": "maybe"}, "OXEN_CONTRACT_STRICT expects 1/true/yes or 0/false/no"),
    ],
    ids=[
        "no-key",
        "two-hubs",
        "record-from-nothing",
        "not-a-url",
        "no-namespace",
        "count",
        "timeout",
        "fine-tune",
        "flag",
    ],
)
def test_bad_input_is_a_usage_error_saying_what_is_accepted(
    resolved: Resolve, args: tuple[str, ...], env: dict[str, str], says: str
) -> None:
    with pytest.raises(pytest.UsageError, match=says.replace("(", r"\(").replace(")", r"\)")):
        resolved(*args, env=env)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--hub-url", f"https://user:{SECRET}@hub.test"), {"OXEN_API_KEY": "k"}),
        (("--hub-url", "https://hub.test"), {"OXEN_API_KEY": f"{SECRET}\u200b"}),
        (("--hub-url", "https://hub.test"), {"OXEN_API_KEY": "k", "OXEN_API_KEY_OTHER": f"{SECRET} x"}),
    ],
    ids=["password-in-url", "zero-width-in-key", "space-in-other-key"],
)
def test_a_refused_secret_is_never_echoed(resolved: Resolve, args: tuple[str, ...], env: dict[str, str]) -> None:
    with pytest.raises(pytest.UsageError) as refused:
        resolved(*args, env=env)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("alice/sandbox/ft-1", FineTune("alice", "sandbox", "ft-1")),
        (" alice/sandbox/ft-1@12 ", FineTune("alice", "sandbox", "ft-1", 12)),
    ],
)
def test_a_fine_tune_is_owner_repo_id_and_an_optional_checkpoint_step(text: str, parsed: FineTune) -> None:
    assert FineTune.parse(text) == parsed
    assert FineTune.parse(str(parsed)) == parsed


def test_local_hub_without_the_hub_extra_is_a_usage_error_naming_the_extra(
    resolved: Resolve, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    with pytest.raises(pytest.UsageError, match=r"uvicorn not installed.*oxen-contract\[hub\]"):
        resolved("--local-hub")


def test_fine_tune_given_twice_deploys_the_shared_model_from_the_first_and_deleted_models_from_the_second(
    resolved: Resolve,
) -> None:
    run = resolved(
        "--hub-url",
        "https://hub.test",
        "--fine-tune",
        "a/r/ft",
        "--fine-tune",
        "a/r/ft@2",
        env={"OXEN_API_KEY": SECRET},
    )
    assert (str(run.deploy_source(shared=True)), str(run.deploy_source(shared=False))) == ("a/r/ft", "a/r/ft@2")
    with pytest.raises(pytest.UsageError, match="give it once, or twice"):
        resolved(
            "--hub-url",
            "https://hub.test",
            env={"OXEN_API_KEY": SECRET, "OXEN_CONTRACT_FINE_TUNE": "a/r/x,a/r/y,a/r/z"},
        )


def test_an_older_environment_name_still_works_and_the_current_one_wins_when_both_agree(resolved: Resolve) -> None:
    assert resolved(env={"OXEN_HUB_URL": "https://old.test", "OXEN_API_KEY": SECRET}).hub_url == "https://old.test"
    both = {"OXEN_HUB_URL": "https://hub.test", "OXEN_CONTRACT_HUB_URL": "https://hub.test", "OXEN_API_KEY": SECRET}
    assert resolved(env=both).hub_url == "https://hub.test"


def test_the_older_plural_name_of_the_disposable_models_variable_still_works(resolved: Resolve) -> None:
    env = {"OXEN_CONTRACT_DISPOSABLE_MODELS": "a:b/c,a:b/d", "OXEN_CONTRACT_NAMESPACE": "a", "OXEN_API_KEY": SECRET}
    assert resolved("--hub-url", "https://hub.test", env=env).disposable_models == ("a:b/c", "a:b/d")


def test_the_current_and_the_older_environment_name_disagreeing_is_a_usage_error(resolved: Resolve) -> None:
    env = {"OXEN_HUB_URL": "https://old.test", "OXEN_CONTRACT_HUB_URL": "https://new.test", "OXEN_API_KEY": SECRET}
    with pytest.raises(pytest.UsageError, match="OXEN_CONTRACT_HUB_URL and OXEN_HUB_URL are both set and disagree"):
        resolved(env=env)


def test_every_setting_with_an_ini_key_can_live_in_an_ini_file(resolved: Resolve, tmp_path: Path) -> None:
    ini = "\n".join(
        [
            "oxen_local_hub = true",
            "oxen_strict_contract = yes",
            "oxen_allow_partial = 1",
            "oxen_max_requests = 500",
            "oxen_max_examples = 40",
            "oxen_seed = 9",
            "oxen_hub_label = laptop",
            f"oxen_contract_report = {tmp_path / 'r.md'}",
        ]
    )
    run = resolved(ini=ini)
    assert (run.local_hub, run.strict_contract, run.allow_partial) == (True, True, True)
    assert (run.max_requests, run.max_examples, run.seed, run.hub_label) == (500, 40, 9, "laptop")
    assert run.contract_report == tmp_path / "r.md"


def test_an_ini_file_may_lower_the_deploy_cap_but_never_raise_it(resolved: Resolve) -> None:
    live = ("--hub-url", "https://hub.test", "--fine-tune", "a/b/c")
    assert resolved(*live, ini="oxen_max_provisions = 1", env={"OXEN_API_KEY": SECRET}).max_provisions == 1
    with pytest.raises(pytest.UsageError, match="may only lower it"):
        resolved(*live, ini="oxen_max_provisions = 9", env={"OXEN_API_KEY": SECRET})
    # The command line and the environment may raise it.
    assert resolved(*live, "--max-provisions", "9", env={"OXEN_API_KEY": SECRET}).max_provisions == 9
    assert resolved(*live, env={"OXEN_API_KEY": SECRET, "OXEN_CONTRACT_MAX_PROVISIONS": "9"}).max_provisions == 9


def test_an_ini_file_cannot_allow_protection_probes_or_name_models_to_delete(resolved: Resolve) -> None:
    # Neither has an ini key: pytest ignores the lines (and --strict-config refuses them).
    run = resolved("--local-hub", ini="oxen_allow_protection_probes = 1\noxen_disposable_model = x")
    assert not run.allow_protection_probes and run.disposable_models == ()


def test_seed_and_max_examples_shape_a_live_run_s_draws(resolved: Resolve) -> None:
    run = resolved("--local-hub", "--seed", "42", "--max-examples", "30")
    assert (run.seed, run.max_examples) == (42, 30)
    drawn = resolved("--local-hub", "--seed", "random").seed
    assert isinstance(drawn, int) and drawn >= 0
    assert resolved("--local-hub").seed is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed", "5"), "a replay draws exactly the requests the cassettes hold"),
        (("--max-examples", "50"), "a replay draws exactly the requests the cassettes hold"),
        (("--local-hub", "--seed", "five"), "--seed expects a whole number or 'random'; got 'five'"),
        (("--local-hub", "--max-examples", "0"), "--max-examples must be at least 1"),
        (("--local-hub", "--hub-label", "https://staging.test"), "--hub-label expects a short name"),
    ],
    ids=["seed-in-replay", "max-examples-in-replay", "seed-not-a-number", "no-examples", "label-is-a-url"],
)
def test_bad_draws_or_label_are_usage_errors(resolved: Resolve, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(pytest.UsageError, match=re.escape(message)):
        resolved(*args)


def test_a_replay_ignores_a_seed_from_the_environment_or_an_ini_file(resolved: Resolve) -> None:
    run = resolved(ini="oxen_seed = 3", env={"OXEN_CONTRACT_MAX_EXAMPLES": "99"})
    assert (run.mode, run.seed, run.max_examples) == (Mode.REPLAY, None, 12)


def test_the_mode_is_named_in_words(resolved: Resolve) -> None:
    from oxen_contract.settings.config import mode_label

    assert mode_label(resolved()) == "replay of the recorded cassettes"
    assert mode_label(resolved("--local-hub")) == "live against the local reference hub"
    live = resolved("--hub-url", "https://hub.test", env={"OXEN_API_KEY": SECRET})
    assert mode_label(live) == "live against https://hub.test"
    labelled = resolved("--hub-url", "https://hub.test", "--hub-label", "staging", env={"OXEN_API_KEY": SECRET})
    assert mode_label(labelled) == "live against staging"


def test_a_live_run_sends_four_requests_at_once_unless_told_and_a_replay_or_recording_one(resolved: Resolve) -> None:
    assert resolved("--local-hub").concurrency == 4
    assert resolved("--local-hub", "--concurrency", "1").concurrency == 1
    assert resolved("--local-hub", ini="oxen_concurrency = 3").concurrency == 3
    assert resolved("--local-hub", ini="oxen_concurrency = 3", env={"OXEN_CONTRACT_CONCURRENCY": "2"}).concurrency == 2
    # Cassettes hold each test's exchanges in the order they were sent.
    assert resolved("--concurrency", "8").concurrency == 1
    assert resolved("--local-hub", "--record-mode=rewrite", "--concurrency", "8").concurrency == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "--concurrency must be at least 1"), ("17", "--concurrency expects 1 to 16"), ("x", "a whole number")],
    ids=["none-at-once", "more-than-a-shared-hub-should-take", "not-a-number"],
)
def test_a_concurrency_outside_one_to_sixteen_is_a_usage_error(resolved: Resolve, value: str, message: str) -> None:
    with pytest.raises(pytest.UsageError, match=re.escape(message)):
        resolved("--local-hub", "--concurrency", value)
