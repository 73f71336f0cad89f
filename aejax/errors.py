"""The one exception type for a user's mistake (a flag, a file, a workdir).

The command line prints its message as one line and exits with status 2.
"""


class UserError(ValueError):
  """Bad input from the user; the message names what is wrong."""
