"""Errors the package raises for problems a user can fix."""


class DataError(ValueError):
    """A data file or table is not in the documented form; the message says where and what to do."""
