"""Every path the package uses, derived from the project root, so code works from any working directory."""

from pathlib import Path

from analysis.errors import DataError

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
CACHE_DIR = BUILD_DIR / "cache" / "results"  # analysis.cache: results computed once, kept by content
KERNEL_NAME = "helsemeldinger"


def resolve(path: str | Path) -> Path:
    """Return `path` as an absolute path; a relative path is taken from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJ_ROOT / p


def resolve_existing(path: str | Path, what: str = "data file") -> Path:
    """Return the file a relative `path` names, taken from the project root, else (when it is not there) from the
    current folder, which in JupyterLab is the notebook's folder; raise a DataError naming both when neither has
    it. An absolute path is returned as it is (the loader says if it is missing)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    from_root, from_here = PROJ_ROOT / p, Path.cwd() / p
    if from_root.exists():
        return from_root
    if from_here.exists():
        return from_here.resolve()
    raise DataError(
        f"{path}: file not found ({what}); a relative path is taken from the project root ({PROJ_ROOT}) or "
        f"from the notebook's (current) folder ({Path.cwd()}); tried {from_root} and {from_here}"
    )
