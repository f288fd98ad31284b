r"""The one redactor: every spelling of the run's keys in a text becomes the key's label (``$OXEN_API_KEY``).

A hub can say a key back in more ways than the literal one: a JSON encoder writes ``/`` as ``\/`` or any character
as ``\u00XX``, a URL percent-encodes some characters (or all, or twice: ``%252F``), and HTTP Basic credentials hide
it in base64 (``Basic base64(user:key)``) at any alignment, in the standard or the URL-safe alphabet. A plain
``str.replace`` misses all of these, so the transports (every answer's body, headers and reason, before anything else
of the run sees them) and the cassettes (both sides of every recorded exchange) go through ``Redactor`` instead.

How: each key becomes one regular expression in which every character may be spelled as itself, JSON-escaped
(``\/``, ``\u00XX`` in either hex case, through up to four rounds of JSON encoding) or percent-encoded (either hex
case, through up to eight rounds: ``%25`` once more for each), in any mix. Base64 is matched by the stretch of the
encoding that only the key's own bytes decide (its "core", one per alignment and alphabet, spelled the same flexible
way); a match there stands for the whole base64 token around it, which is replaced whole. Every alternative starts
with one literal character, so ``re`` skips, in C, each position where no spelling can start: a text that holds no
key costs one scan (about 10 ms a MB; ``benchmarks/redaction.py``).

We know of no library that does this (secret scanners look for the shapes of secrets, not for a known value in its
encodings), so it is written here; ``tests/unit/test_redaction.py`` holds every spelling. ``ApiKey`` lives here too:
the credential and the one way to hide it. This module imports nothing of the package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html.entities
import re
from collections.abc import Iterable

__all__ = ["ApiKey", "Redactor"]

# A shorter base64 core could turn up in unrelated base64 (an image) by chance; keys are far longer than this.
_MIN_CORE = 8
# How many rounds of JSON escaping (1, 3, 7, 15 backslashes) and of percent-encoding (%XX, %25XX, %2525XX...) a
# spelling may have been through. Bounded, so that a long run of backslashes or of "%25" costs a bounded amount at
# each position instead of its whole length again (which would make such a text quadratic).
_RUN = r"\\\\{0,14}"  # one backslash, then up to 14 more: led by a literal
# The same, possessive: it never gives a backslash back, so a long run of them costs one attempt per position. Only a
# spelling whose next character is itself a backslash needs the run that backtracks.
_RUN_ONCE = r"\\\\{0,14}+"
_ROUNDS = r"%(?:25){0,7}"
# One unit of a base64 token, as it may be spelled in JSON or a URL: the alphabet, then its escapes of + / =.
_TOKEN_UNIT = r"[A-Za-z0-9+/_-]|\\+/|%(?:25)*2[bBfF]|\\+u002[bBfF]"
_TOKEN_PAD = r"=|%(?:25)*3[dD]|\\+u003[dD]"
# The token's rest after a match (units, then padding) and, read backwards from the match's start, its beginning.
_TOKEN_AFTER = re.compile(f"(?:{_TOKEN_UNIT})*(?:{_TOKEN_PAD})*")
_TOKEN_BEFORE_REVERSED = re.compile(r"(?:[A-Za-z0-9+/_-]|/\\+|[bBfF]2(?:52)*%|[bBfF]200u\\+)*")


def _hex(code: int) -> str:
    """A regex for the two hex digits of ``code``, in either case."""
    return "".join(f"[{digit}{digit.upper()}]" if digit.isalpha() else digit for digit in f"{code:02x}")


def _entities(char: str) -> list[str]:
    """Regexes for ``char`` as an HTML character reference: decimal, hex (either case), and any named one."""
    code = ord(char)
    found = [rf"&\#0*{code};?", rf"&\#[xX]0*{_hex(code).lstrip('0') or '0'};?"]
    names = sorted(name for name, value in html.entities.html5.items() if value == char and name.endswith(";"))
    if names:
        found.append("&(?:" + "|".join(re.escape(name) for name in names) + ")")
    return found


def _spellings(char: str) -> str:
    """A regex for one character as itself, escaped or encoded: JSON, C and JavaScript escapes, percent, hex, HTML."""
    code = _hex(ord(char))
    found = [
        re.escape(char),
        rf"{_RUN_ONCE}(?:u00{code}|x{code}|{ord(char):03o})",  # \u00XX, \xXX, \OOO
        rf"{_ROUNDS}(?:u00)?{code}",  # %XX, %25XX..., %u00XX
        code,  # bare hex: a key written as hex digits
        *_entities(char),
    ]
    if char in '/"\\':
        # JSON's \/, \" and \\ (and escaped again): the backslash itself may stand doubled, tripled...
        found.append((_RUN if char == "\\" else _RUN_ONCE) + re.escape(char))
    return f"(?:{'|'.join(found)})"


def _alternatives(texts: list[str]) -> list[str]:
    """Alternatives that together match every spelling of every text in ``texts``, each led by one literal character.

    The first character's spellings are put together across texts (one backslash run, one percent prefix, one
    ampersand, for all): in a long run of backslashes, of "%25" or of "&", each position then costs one attempt, not
    one per text.
    """
    literal, escaped, octal, special, hexed, entities = [], [], [], [], [], []
    for text in texts:
        first, rest = text[0], "".join(_spellings(char) for char in text[1:])
        literal.append(re.escape(first) + rest)
        escaped.append(_hex(ord(first)) + rest)
        octal.append(f"{ord(first):03o}" + rest)
        # Bare hex starts with a digit for every printable ASCII character (0x20 to 0x7e): a literal lead too.
        hexed.append(_hex(ord(first)) + rest)
        entities += [entity.removeprefix("&") + rest for entity in _entities(first)]
        if first in '/"\\':
            special.append(re.escape(first) + rest)
    # One alternative for every spelling a backslash leads ("u", "x", an octal digit or the character right after
    # the run lets re back out of a long run in one C loop): a run of backslashes is then scanned once per position.
    escapes = [f"(?:u00|x)(?:{'|'.join(escaped)})", *octal, *(text for text in special if not text.startswith("\\\\"))]
    found = [
        *literal,
        *hexed,
        rf"{_RUN_ONCE}(?:{'|'.join(escapes)})",
        rf"{_ROUNDS}(?:u00)?(?:{'|'.join(escaped)})",
        rf"&(?:{'|'.join(entities)})",
    ]
    backslashed = [text for text in special if text.startswith("\\\\")]
    if backslashed:
        found.append(rf"{_RUN}(?:{'|'.join(backslashed)})")
    return found


def _base64_cores(secret: bytes) -> set[str]:
    """The stretches of base64 that only ``secret``'s bytes decide, at each of the three alignments, both alphabets."""
    cores = set()
    for align in range(3):
        encoded = base64.b64encode(bytes(align) + secret + bytes(2)).decode("ascii")
        # Character i holds bits [6i, 6i+6): keep those that lie wholly within the secret's bytes.
        start, end = -(-8 * align // 6), 8 * (align + len(secret)) // 6
        core = encoded[start:end]
        if len(core) >= _MIN_CORE:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return cores


class Redactor:
    """Replaces every spelling of each secret in a text with its label; ``secrets`` are (secret, label) pairs.

    Secrets are printable ASCII. Labels should be JSON-safe (``$OXEN_API_KEY`` is), so that a JSON body stays JSON.
    """

    __slots__ = ("_direct", "_labels", "_pattern")

    def __init__(self, secrets: Iterable[tuple[str, str]] = ()) -> None:
        texts: list[str] = []
        # Which secret a match spelled, and whether as base64 (then the whole token goes): asked only on a match.
        self._direct: list[tuple[re.Pattern[str], str]] = []
        self._labels: list[tuple[re.Pattern[str], str]] = []
        # Longest first: a key that holds another key is replaced whole.
        for secret, label in sorted({pair for pair in secrets if pair[0]}, key=lambda pair: -len(pair[0])):
            texts.append(secret)
            self._direct.append((re.compile("|".join(_alternatives([secret]))), label))
            for core in sorted(_base64_cores(secret.encode("ascii", "surrogateescape"))):
                texts.append(core)
                self._labels.append((re.compile("|".join(_alternatives([core]))), label))
        # No group around the alternatives: re skips ahead by the first characters only when each alternative starts
        # with a literal.
        alternatives = _alternatives(texts) if texts else []
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """``text`` with every spelling of a secret replaced by its label (base64: the whole token)."""
        if self._pattern is None:
            return text
        spans: list[tuple[int, int, str]] = []
        for match in self._pattern.finditer(text):
            start, end = match.span()
            label = self._direct_label(match.group())
            if label is None:
                label = self._base64_label(match.group())
                # The whole token goes: its characters before the match (read backwards) and after it.
                before = _TOKEN_BEFORE_REVERSED.match(text[start - 1 :: -1] if start else "")
                after = _TOKEN_AFTER.match(text, end)
                start, end = start - (before.end() if before else 0), after.end() if after else end
            while spans and start < spans[-1][1]:
                # Overlaps an earlier match (a token that holds a key twice, or two keys): one label for both.
                earlier = spans.pop()
                start, end, label = min(start, earlier[0]), max(end, earlier[1]), earlier[2]
            spans.append((start, end, label))
        if not spans:
            return text
        pieces, done = [], 0
        for start, end, label in spans:
            pieces += [text[done:start], label]
            done = end
        pieces.append(text[done:])
        return "".join(pieces)

    def redact_bytes(self, data: bytes) -> bytes:
        """The same for bytes in any ASCII-compatible encoding (UTF-8 above all): every other byte is kept as it was."""
        if self._pattern is None:
            return data
        # latin-1 maps each byte to one character and back, so nothing but the spellings changes.
        text = data.decode("latin-1")
        redacted = self.redact(text)
        return data if redacted is text else redacted.encode("latin-1")

    def _direct_label(self, found: str) -> str | None:
        for pattern, label in self._direct:
            if pattern.fullmatch(found):
                return label
        return None

    def _base64_label(self, found: str) -> str:
        for pattern, label in self._labels:
            if pattern.fullmatch(found):
                return label
        raise AssertionError("a match of the redactor's pattern that none of its parts matches")  # pragma: no cover


class ApiKey:
    """A credential that never shows itself: ``repr`` and ``str`` give its label (``$OXEN_API_KEY``), not the key."""

    __slots__ = ("_redactor", "_secret", "label")

    def __init__(self, secret: str, label: str) -> None:
        self._secret = secret
        self.label = label
        self._redactor: Redactor | None = None

    def __repr__(self) -> str:
        return f"ApiKey({self.label})"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._secret)

    def authorization(self, scheme: str = "Bearer") -> str:
        """The header value; call it only where the header is set."""
        return f"{scheme} {self._secret}"

    def seal(self, data: bytes) -> str:
        """An HMAC-SHA256 of ``data`` under this key, which shows nothing of the key.

        Who holds the key can write it, nobody else can: the provisioning ledger signs its entries with it.
        """
        return hmac.new(b"oxen-contract ledger v1\x00" + self._secret.encode(), data, hashlib.sha256).hexdigest()

    def appears_in(self, text: str) -> bool:
        """Whether ``text`` holds this key in any spelling ``Redactor`` knows."""
        return self.redact(text) != text

    def redact(self, text: str) -> str:
        """``text`` with every spelling of this key replaced by its label."""
        if self._redactor is None:
            # Built on first use: compiling the key's spellings is worth it only for a key that redacts something.
            self._redactor = Redactor([(self._secret, self.label)])
        return self._redactor.redact(text)

    @staticmethod
    def redactor(keys: Iterable[ApiKey]) -> Redactor:
        """One redactor for all of ``keys``: a text is scanned once, whatever the number of keys."""
        return Redactor((key._secret, key.label) for key in keys)
