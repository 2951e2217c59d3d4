"""helsemeldinger: analysis of electronic messages on the Norwegian health network (helsenettet)."""

from analysis.errors import DataError

__version__ = "0.1.0"
__all__ = ["DataError", "__version__"]
