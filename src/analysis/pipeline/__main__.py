"""``python -m analysis.pipeline``: render every notebook into reports/ (see :mod:`analysis.pipeline.reports`)."""

import atexit
import os
import sys

from analysis.pipeline.reports import run

# A build has loaded pandas, nbconvert, papermill and their imports by its end; the interpreter's own teardown
# of those modules took about half a second and writes nothing. So the exit handlers run and the streams are
# flushed, as at a normal exit, and then the process ends without the teardown.
try:
    code = run()
except SystemExit as stop:  # argparse's usage errors and the one-line user errors keep their own exit codes
    code = stop.code
atexit._run_exitfuncs()
if isinstance(code, str):
    print(code, file=sys.stderr)
    code = 1
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (OSError, ValueError):
        pass
os._exit(code or 0)
