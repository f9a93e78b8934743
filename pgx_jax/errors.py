"""The project's own error type: one clear line naming the file, record and problem."""


class PgxError(Exception):
    """An error in user input or configuration, reported as one line without a traceback."""
