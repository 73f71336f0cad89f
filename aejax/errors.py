"""Why a run ended early, and the exit status each reason gives.

0: finished; 1: a bug (traceback); 2: bad input (a flag, a file, a workdir);
3: interrupted by SIGTERM or SIGINT, with a checkpoint written to resume from;
4: the loss or the parameters became NaN or infinite.
The command line prints the message as one line, never a traceback.
"""


class RunError(Exception):
  """A run that ended early for a reason its message explains."""
  exit_status = 1


class UserError(RunError, ValueError):
  """Bad input from the user; the message names what is wrong."""
  exit_status = 2


class Interrupted(RunError):
  """A signal stopped the run after the epoch in flight and its checkpoint."""
  exit_status = 3


class Diverged(RunError):
  """Non-finite training; nothing non-finite was written as a checkpoint."""
  exit_status = 4
