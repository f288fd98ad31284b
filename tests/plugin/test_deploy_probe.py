"""The deploy probe (a missing fine-tune answers 404) spends only a deploy the run's own models leave, else skips."""

from __future__ import annotations

from .conftest import Runner

_PROBE = "fine_tune_that_does_not_exist"


def test_with_a_deploy_to_spare_the_probe_is_sent_and_the_local_hub_answers_404(run_suite: Runner) -> None:
    result = run_suite("tests/contract/test_errors.py", "--local-hub", "--allow-partial", "-k", _PROBE, "-rs")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed" in result.stdout
    assert "(a probe) of alice/sandbox/oxen-contract-no-such-fine-tune: 404" in result.stdout


def test_when_the_run_s_own_models_need_every_deploy_the_probe_skips_saying_why(run_suite: Runner) -> None:
    # The fuzzed delete after it needs a model of its own: with one deploy allowed, none is left for the probe.
    result = run_suite(
        "tests/contract/test_errors.py",
        "tests/contract/test_operations.py",
        *("--local-hub", "--allow-partial", "--max-provisions", "1", "-rs"),
        *("-k", f"{_PROBE} or fuzzed_delete"),
    )
    output = result.stdout
    assert "deploy probe: --max-provisions 1 leaves no deploy once the run's 1 later model(s) are made" in output
    assert "raise it to 2" in output
    assert "(a probe)" not in output
