"""The report pipeline: notebooks executed with papermill and written as self-contained HTML pages.

``python -m analysis.pipeline`` (the same as ``python -m analysis.pipeline.reports``) renders every notebook.
"""

import sys

# nbformat validates notebooks with jsonschema, whose format checkers import rfc3987_syntax when installed
# (jupyterlab pulls it in): it compiles some 35 grammars at import, 1-3 s of CPU in every process that reads a
# notebook, for an "iri" format no notebook schema uses (python-jsonschema/jsonschema#1428). Leaving it out
# makes jsonschema skip that one checker.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
