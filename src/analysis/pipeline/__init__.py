"""The report pipeline: notebooks executed with papermill and written as self-contained HTML pages.

``python -m analysis.pipeline`` (the same as ``python -m analysis.pipeline.reports``) renders every notebook.
"""
