"""The one exception type for mistakes a user can fix."""


class HailongError(Exception):
    """A user error: the message is one line that says what is wrong and how to fix it.

    The CLI prints it on stderr without a traceback and exits with status 1.
    """
