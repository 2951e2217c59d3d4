"""The interval convention: which true values a rounded, hedged published figure allows.

For a figure ``x`` printed with step ``u`` (the size of its last stated digit) the default convention is::

    exact      [x - u/2, x + u/2)     "193 millioner"
    about      [x - u/2, x + u/2]     "rundt 5 millioner"
    over       (x, x + u)             "over 63 millioner"
    almost     [x - u/2, x)           "nesten 3,4 millioner"
    just_over  (x, x + u/2]           "drøyt 40 000" (context figures only)

Other conventions are named presets (``"wide"``, ``"about_1step"``) or a relative tolerance added to the
default (``"rel:0.01"`` widens both ends by 1 % of ``x``); see :func:`get_convention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from analysis.errors import DataError

if TYPE_CHECKING:  # pandas is imported where a table is made: the report pipeline reads conventions without it
    import pandas as pd

QUALIFIERS = ("exact", "about", "over", "almost", "just_over")


@dataclass(frozen=True)
class Rule:
    """Offsets of an interval's ends from the stated value, in steps, and whether each end is closed."""

    low: float
    high: float
    low_closed: bool
    high_closed: bool


DEFAULT_RULES: Mapping[str, Rule] = {
    "exact": Rule(-0.5, 0.5, True, False),
    "about": Rule(-0.5, 0.5, True, True),
    "over": Rule(0.0, 1.0, False, False),
    "almost": Rule(-0.5, 0.0, True, False),
    "just_over": Rule(0.0, 0.5, False, True),
}


@dataclass(frozen=True)
class Convention:
    """A rule per qualifier plus an optional relative tolerance added to both ends."""

    name: str = "default"
    rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    rel_tol: float = 0.0

    def bounds(self, value: float, step: float, qualifier: str) -> tuple[float, float, bool, bool]:
        """Return (low, high, low_closed, high_closed) for one stated figure."""
        if qualifier not in self.rules:
            raise DataError(
                f"qualifier {qualifier!r} is not known to convention {self.name!r}; "
                f"use one of {sorted(self.rules)}"
            )
        if not step > 0:
            raise DataError(f"step must be a positive number, got {step!r}")
        rule = self.rules[qualifier]
        slack = self.rel_tol * abs(value)
        return (
            value + rule.low * step - slack,
            value + rule.high * step + slack,
            rule.low_closed,
            rule.high_closed,
        )

    def interval(self, qualifier: str) -> str:
        """The interval of `qualifier` as a code: "[x-0.5·u, x+0.5·u)" (x the stated value, u its step)."""
        r = self.rules[qualifier]
        lo = "[" if r.low_closed else "("
        hi = "]" if r.high_closed else ")"
        return f"{lo}x{r.low:+g}·u, x{r.high:+g}·u{hi}".replace("+0·u", "").replace("-0·u", "")

    def describe(self) -> pd.DataFrame:
        """Return the convention as a table: qualifier, interval in words, low and high offsets in steps."""
        import pandas as pd

        rows = []
        for q, r in self.rules.items():
            rows.append(
                {
                    "qualifier": q,
                    "interval": self.interval(q),
                    "low_steps": r.low,
                    "high_steps": r.high,
                    "relative_tolerance": self.rel_tol,
                }
            )
        return pd.DataFrame(rows)


DEFAULT = Convention()

_PRESETS: dict[str, Convention] = {
    "default": DEFAULT,
    # "rundt" read more loosely: one whole step either side.
    "about_1step": Convention("about_1step", {**DEFAULT_RULES, "about": Rule(-1.0, 1.0, True, True)}),
    # Every hedge read loosely: twice the default width.
    "wide": Convention(
        "wide",
        {
            "exact": Rule(-1.0, 1.0, True, False),
            "about": Rule(-1.0, 1.0, True, True),
            "over": Rule(0.0, 2.0, False, False),
            "almost": Rule(-1.0, 0.0, True, False),
            "just_over": Rule(0.0, 1.0, False, True),
        },
    ),
}


def get_convention(spec: str | Convention | None = None) -> Convention:
    """Return a Convention from a preset name, ``"rel:<fraction>"`` (default plus tolerance), or as given."""
    if spec is None:
        return DEFAULT
    if isinstance(spec, Convention):
        return spec
    if not isinstance(spec, str):
        raise DataError(f"convention must be a name or a Convention, got {type(spec).__name__}")
    text = spec.strip()
    if text in _PRESETS:
        return _PRESETS[text]
    if text.startswith("rel:"):
        try:
            tol = float(text[4:])
        except ValueError:
            tol = -1.0
        if not 0 <= tol < 1:
            raise DataError(f"convention {spec!r}: write the tolerance as a fraction, e.g. 'rel:0.01' for 1 %")
        return replace(DEFAULT, name=text, rel_tol=tol)
    raise DataError(
        f"convention {spec!r} is not known; use one of {sorted(_PRESETS)} or 'rel:<fraction>' (e.g. 'rel:0.01')"
    )


def add_bounds(frame: pd.DataFrame, convention: str | Convention | None = None) -> pd.DataFrame:
    """Return a copy of `frame` with `low`, `high`, `low_closed`, `high_closed` from value, step, qualifier."""
    import pandas as pd

    conv = get_convention(convention)
    out = frame.copy()
    bounds = [
        conv.bounds(float(v), float(s), str(q))
        for v, s, q in zip(out["value"], out["step"], out["qualifier"], strict=True)
    ]
    cols = ["low", "high", "low_closed", "high_closed"]
    parts = pd.DataFrame(bounds, columns=cols, index=out.index)
    for c in cols:
        out[c] = parts[c].astype(float if c in ("low", "high") else bool)
    return out
