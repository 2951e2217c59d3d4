"""The presentation layer: reader text, tables and figures made from the analysis modules' results.

Every word a reader reads comes from the message catalogue (:mod:`analysis.present.catalogue`, one folder of
TOML files per language under ``messages/``); numbers are written by :mod:`analysis.present.formatting`.
"""
