"""Every path the package uses, derived from the project root, so code works from any working directory."""

from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJ_ROOT / "data"
PUBLISHED_DIR = DATA_DIR / "published"
PUBLISHED_CSV = PUBLISHED_DIR / "ehelsemonitor_2021.csv"
CONTEXT_CSV = DATA_DIR / "context" / "context_figures.csv"
SOURCES_CSV = DATA_DIR / "sources.csv"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
REPORTS_DIR = PROJ_ROOT / "reports"
BUILD_DIR = PROJ_ROOT / "build"
EXECUTED_DIR = BUILD_DIR / "executed"
KERNEL_NAME = "helsemeldinger"


def resolve(path: str | Path) -> Path:
    """Return `path` as an absolute path; a relative path is taken from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJ_ROOT / p
