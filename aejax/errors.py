"""Why a run ended early, and the exit status each reason gives.

0: finished; 1: a bug (traceback); 2: bad input (a flag, a file, a workdir);
3: interrupted by SIGTERM or SIGINT, with a checkpoint written to resume from;
4: the loss or the parameters became NaN or infinite;
5: a run of several processes lost a peer, a peer never joined, or it ended on an
unexpected error (after its traceback), skipping a shutdown that would wait for its peers.
The command line prints the message as one line, never a traceback.
"""


import os
import sys


def describe(error):
  """The one line a script prints for a RunError: `prog: error: message` for bad
  input, `prog: <reason>: message` otherwise."""
  prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "aejax"
  kind = "error" if isinstance(error, UserError) else type(error).__name__.lower()
  return f"{prog}: {kind}: {error}"


def abandon(error):
  """Prints `error` and ends the process at once with its status, skipping the
  distributed runtime's shutdown, which would wait for (or abort on) a dead peer."""
  print(describe(error), file=sys.stderr, flush=True)
  os._exit(error.exit_status)  # pylint: disable=protected-access


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


class PeerError(RunError):
  """Another process of a multi-process run did not join, or died (or this one
  met an unexpected error: `parallel.watching_peers`). Ends the process with
  `abandon`: the runtime's orderly shutdown cannot complete."""
  exit_status = 5
