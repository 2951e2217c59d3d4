"""Small result types shared by the analysis modules: language-free, in the statsmodels manner.

An analysis function returns numbers (pandas objects) and, where it has something to say about them, notes as
*codes with their values*: ``Note("model_point", {"printed": 1.8, "low": 1.83, "high": 1.85})``. The words for
a code live in the presentation layer's message catalogue (:mod:`analysis.present.catalogue`); an analysis
module never builds a sentence or formats a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Note:
    """Something to tell a reader about a result: a code and the values its message needs."""

    code: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    def __reduce__(self):  # MappingProxyType cannot be pickled: pickle the plain dict
        return (Note, (self.code, dict(self.values)))


def note(code: str, **values: object) -> Note:
    """Return ``Note(code, values)``: ``note("model_point", printed=1.8, low=1.83, high=1.85)``."""
    return Note(code, values)
