"""CPU cost of redacting one answer: every spelling of two keys in a 1 MB and a 10 MB body (redaction.py).

The transports redact every answer's body before anything else of the run reads it, so this is paid once per
answer. The bodies are model lists like the hub's (JSON with escapes, percent-encoded ids, non-ASCII text) and hold
no key, the usual case; ``--hostile`` adds bodies built to make the scan work hardest (a run of backslashes, of
"%25", of a key's first letter). Prints figures, asserts nothing. Usage:

    python benchmarks/redaction.py [--runs N] [--hostile]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time

from oxen_contract.http.redaction import ApiKey

KEYS = [
    ApiKey("sk-oxen-secret-0123456789abcdef", "$OXEN_API_KEY"),
    ApiKey("sk-oxen-other+fedcba/9876543", "$OXEN_API_KEY_OTHER"),
]
MB = 1024 * 1024


def _model_list(size: int) -> bytes:
    model = {
        "id": "alice:sandbox/ft-1-2",
        "object": "model",
        "created": 1767225602,
        "owned_by": "alice",
        "description": "A small chat model, fine-tuned on support tickets.\nIt answers in English \u2019 French.",
        "image_url": "https://hub.oxen.ai/images/alice%2Fsandbox/logo.png",
        "capabilities": {"input": ["text"], "output": ["text"]},
        "pricing": {"method": "token", "input_cost_per_token": 1e-6},
    }
    one = len(json.dumps(model))
    return json.dumps({"object": "list", "data": [model] * (size // one + 1)}).encode()[:size]


def _cpu_ms(body: bytes, runs: int) -> float:
    redactor = ApiKey.redactor(KEYS)
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        redactor.redact_bytes(body)
        best = min(best, time.process_time() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per body; the fastest counts")
    parser.add_argument("--hostile", action="store_true", help="also the bodies that make the scan work hardest")
    args = parser.parse_args()
    bodies = {f"model list, {size} MB": _model_list(size * MB) for size in (1, 10)}
    if args.hostile:
        bodies |= {
            "10 MB of base64": base64.b64encode(os.urandom(10 * MB * 3 // 4)),
            "10 MB of backslashes": b"\\" * (10 * MB),
            '10 MB of "%25"': b"%25" * (10 * MB // 3),
            "10 MB of a key's first letter": b"s" * (10 * MB),
        }
    for name, body in bodies.items():
        print(f"{name:32} {_cpu_ms(body, args.runs):8.1f} ms CPU (best of {args.runs})")


if __name__ == "__main__":
    main()
