"""``python -m analysis.pipeline``: render every notebook into reports/ (see :mod:`analysis.pipeline.reports`)."""

from analysis.pipeline.reports import main

main()
