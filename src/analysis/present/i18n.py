"""Labels in Norwegian (bokmål, ``nb``) and English (``en``) for tables, figures and generated text."""

from __future__ import annotations

from collections.abc import Mapping

from analysis.errors import DataError

LANGS = ("nb", "en")

MEASURES = {
    "total": {"nb": "Alle medisinske meldinger", "en": "All medical messages"},
    "sysvak": {"nb": "SYSVAK (vaksinasjonsregisteret)", "en": "SYSVAK (vaccination register)"},
    "svarrapporter": {"nb": "Svarrapporter (inkl. laboratoriesvar)", "en": "Result reports (incl. lab results)"},
    "frikort_egenandel": {"nb": "Frikort/egenandel (NAV, HELFO)", "en": "Exemption card/co-payment (NAV, HELFO)"},
    "plo": {"nb": "Pleie- og omsorgsmeldinger", "en": "Care messages (PLO)"},
    "other": {"nb": "Øvrige meldinger", "en": "Other messages"},
}
PARTIES = {
    "all": {"nb": "alle", "en": "all"},
    "fastlege": {"nb": "fastlege", "en": "GP"},
    "kommune": {"nb": "kommune", "en": "municipality"},
    "helseforetak": {"nb": "helseforetak", "en": "hospital trust"},
    "helseforetak_og_private_sykehus": {
        "nb": "helseforetak og private sykehus",
        "en": "hospital trusts and private hospitals",
    },
}
QUALIFIERS = {
    "exact": {"nb": "(uten forbehold)", "en": "(no hedge word)"},
    "about": {"nb": "rundt", "en": "about"},
    "over": {"nb": "over", "en": "over"},
    "almost": {"nb": "nesten", "en": "almost"},
    "just_over": {"nb": "drøyt", "en": "just over"},
}
KINDS = {
    "level": {"nb": "nivå", "en": "level"},
    "change": {"nb": "endring", "en": "change"},
    "growth_percent": {"nb": "vekst i prosent", "en": "growth in percent"},
}
UNITS = {
    "million messages": {"nb": "millioner meldinger", "en": "million messages"},
    "percent": {"nb": "prosent", "en": "percent"},
    "messages": {"nb": "meldinger", "en": "messages"},
}


def check_lang(lang: str) -> str:
    """Return `lang` if it is a supported language code, else raise a DataError naming the choices."""
    if lang not in LANGS:
        raise DataError(f"parameter 'lang': {lang!r} is not supported; use one of {list(LANGS)}")
    return lang


def pick(texts: Mapping[str, str], lang: str) -> str:
    """Return the text for `lang` from a {"nb": ..., "en": ...} mapping."""
    return texts[check_lang(lang)]


def label(table: Mapping[str, Mapping[str, str]], key: str, lang: str) -> str:
    """Return the label of `key` in `lang` from one of the tables above, or `key` itself if unknown."""
    entry = table.get(key)
    return entry[check_lang(lang)] if entry else key
