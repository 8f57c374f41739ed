"""Look-alike hosts: targets whose host imitates another, shown in ASCII with a warning.

``https://apple.com/`` spelled with a Cyrillic ``a`` (U+0430) is a legal target and is kept,
but a person reading it on the dashboard sees ``apple.com``. Browsers show such hosts in
their ASCII (punycode) form; so does the dashboard, and the API flags them
(``target_lookalike``), by this rule, which follows the spirit of Unicode's "highly
restrictive" level (UTS #39, 5.2) and Chromium's IDN policy:

- **mixed scripts**: a label whose letters come from more than one script, except the
  combinations real writing uses (Latin with Han, Hiragana and Katakana for Japanese, with
  Han and Bopomofo for Chinese, with Han and Hangul for Korean);
- **whole-script confusables**: a label entirely in Cyrillic or Greek made only of letters
  that look like Latin ones ("apple" spelled in Cyrillic: ``xn--80ak6aa92e``), unless the
  top-level label is in that script too (``.xn--p1ai``, Russia's), where readers expect it.

A letter's script is the first word of its Unicode name (``CYRILLIC SMALL LETTER A``);
digits, hyphens, marks and other non-letters belong to no script. Labels are read as
browsers map them (``scanlet.hosts``: case folded, ``xn--`` decoded), so capitals and
punycode spellings are judged like the plain form. Ordinary IDNs (``bücher.de``,
``例え.jp``, ``пример.рф``) are not look-alikes and stay in Unicode.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from scanlet.hosts import HostLabel, host_labels

__all__ = ("is_lookalike_host", "shown_target", "target_is_lookalike")

# First words of letter names that are not a script's own name, and the script they mean
# (None: a letter of no particular script).
_ALIASES: dict[str, str | None] = {
    "CJK": "HAN",
    "IDEOGRAPHIC": "HAN",  # 々, 〆
    "KATAKANA-HIRAGANA": "KATAKANA",  # ー, used with both kana
    "MODIFIER": None,  # MODIFIER LETTER ...: spacing marks used by many scripts
}
# Scripts that real names mix within one label (UTS #39, "highly restrictive").
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Lower-case letters that look like Latin ones in common fonts, escaped (they are the point)
# and named by the Latin letter each imitates.
_LATIN_LOOKALIKES = {
    "CYRILLIC": frozenset(
        "\u0430\u0441\u0501\u0435\u04bb\u0456\u0458\u04cf\u043e\u0440"  # a c d e h i j l o p
        "\u051b\u0455\u051d\u0445\u0443\u04af\u044c\u04bd\u043f\u0433"  # q s w x y y b e n r
        "\u0475\u0461"  # v w
    ),
    "GREEK": frozenset(
        "\u03b1\u03b3\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7"  # a y i k v o p t u x
        "\u03c9\u03f2\u03f3\u03b7"  # w c j n
    ),
}
_PORT = re.compile(r":\d*$")


def _script(char: str) -> str | None:
    if not unicodedata.category(char).startswith("L"):
        return None
    word = unicodedata.name(char, "").split(" ", 1)[0]
    return _ALIASES.get(word, word) if word else None


def _scripts(text: str) -> set[str]:
    return {script for script in map(_script, text) if script is not None}


def _mixes_scripts(scripts: set[str]) -> bool:
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED_MIXES)


def _imitates_latin(label: str, scripts: set[str], top_scripts: set[str]) -> bool:
    if len(scripts) != 1:
        return False
    (script,) = scripts
    lookalikes = _LATIN_LOOKALIKES.get(script)
    if lookalikes is None or script in top_scripts:
        return False
    return all(char in lookalikes for char in label if _script(char) is not None)


def _judge(labels: list[HostLabel]) -> bool:
    top_scripts = _scripts(labels[-1].text) if labels else set()
    for label in labels:
        scripts = _scripts(label.text)
        if _mixes_scripts(scripts) or _imitates_latin(label.text, scripts, top_scripts):
            return True
    return False


def is_lookalike_host(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit(...).hostname`` gives it) has a label that mixes
    scripts or imitates Latin letters in another script. IP literals never do."""
    if ":" in host or not host:
        return False
    return _judge(host_labels(host))


def target_is_lookalike(target: str) -> bool:
    """Whether the host of the URL ``target`` is a look-alike (see ``is_lookalike_host``)."""
    return is_lookalike_host(urlsplit(target).hostname or "")


def shown_target(target: str) -> str:
    """``target`` as the dashboard shows it: exactly as stored, except that a look-alike
    host is written in its ASCII (punycode) form: ``apple.com`` with a Cyrillic ``a`` becomes
    ``https://xn--pple-43d.com/x``; the scheme, port, path, query and fragment stay."""
    parts = urlsplit(target)
    host = parts.hostname or ""
    if not is_lookalike_host(host):
        return target
    labels = host_labels(host)
    ascii_host = ".".join(label.ascii or label.text for label in labels)
    if host.endswith("."):
        ascii_host += "."
    userinfo, at, hostport = parts.netloc.rpartition("@")
    port = _PORT.search(hostport)
    netloc = userinfo + at + ascii_host + (port.group() if port else "")
    start = target.find(parts.netloc)
    return target[:start] + netloc + target[start + len(parts.netloc) :]
