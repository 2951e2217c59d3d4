"""The message catalogue: every word a reader reads, one catalogue per language, keyed by message id.

Each language has a folder ``messages/<lang>/`` of TOML files; a file is a section of the catalogue, and a
message's id is ``<file stem>.<key>`` with nested tables joined by dots (``labels.measure.sysvak`` is the key
``sysvak`` of the table ``[measure]`` in ``labels.toml``). A message is a template with named placeholders in
Python's format syntax (``"{value} millioner i {year}"``); numbers are formatted *before* they are put in
(:mod:`analysis.present.formatting`), so a template never carries a number format.

Why TOML files and not gettext ``.po``: the messages here are keyed by id rather than by their English text,
many are paragraphs of Markdown that read better as multi-line strings, and TOML needs no compile step
(``tomllib`` is in the standard library). Babel provides the locale rules for numbers
(:mod:`analysis.present.formatting`). ``tests/test_catalogue.py`` checks that both languages have the same ids
and, for each id, the same placeholders, and that every id the code asks for exists.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from analysis.errors import DataError

LANGS = ("nb", "en")
MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


class MessageError(KeyError):
    """A message id that the catalogue of a language does not have, or a placeholder left without a value."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


def check_lang(lang: str) -> str:
    """Return `lang` if it is a supported language code, else raise a DataError naming the choices."""
    if lang not in LANGS:
        raise DataError(f"parameter 'lang': {lang!r} is not supported; use one of {list(LANGS)}")
    return lang


def _flatten(table: Mapping[str, object], prefix: str, out: dict[str, str], source: Path) -> None:
    for key, value in table.items():
        msgid = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            _flatten(value, msgid, out, source)
        elif isinstance(value, str):
            out[msgid] = value
        else:
            raise MessageError(f"{source}: message {msgid!r} is {type(value).__name__}, not text")


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Return the whole catalogue of `lang`: message id -> template."""
    folder = MESSAGES_DIR / check_lang(lang)
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(tomllib.load(fh), path.stem, out, path)
    return out


def placeholders(template: str) -> set[str]:
    """Return the names of the placeholders in `template` ("{year} og {value}" -> {"year", "value"})."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template)
            if field is not None and field != ""}


def has(lang: str, msgid: str) -> bool:
    """True when the catalogue of `lang` has the message `msgid`."""
    return msgid in catalogue(lang)


def text(lang: str, msgid: str, /, **values: object) -> str:
    """Return message `msgid` in `lang` with its placeholders filled from `values`."""
    try:
        template = catalogue(lang)[msgid]
    except KeyError:
        raise MessageError(f"no message {msgid!r} in the {lang} catalogue ({MESSAGES_DIR / lang})") from None
    try:
        return template.format(**values)
    except KeyError as exc:
        raise MessageError(f"message {msgid!r} ({lang}) needs a value for {{{exc.args[0]}}}") from None


def label(lang: str, group: str, code: str) -> str:
    """Return the label of a data code (`group` "measure", "party", "qualifier", "kind", "unit"), or the code
    itself when the catalogue has none."""
    msgid = f"labels.{group}.{code}"
    return text(lang, msgid) if has(lang, msgid) else str(code)


def section(lang: str, prefix: str) -> dict[str, str]:
    """Return every message whose id starts with `prefix` + "." as {rest of the id: template}."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in catalogue(lang).items() if k.startswith(head)}
