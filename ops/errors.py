"""The one exception the operator CLI turns into a one-line message and a non-zero exit."""


class OpsError(Exception):
    """An operation failed in a way the user can act on. ``str(error)`` is the message to show."""
