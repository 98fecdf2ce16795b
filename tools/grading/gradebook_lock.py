"""One writer at a time in the gradebook, across the processes of a parallel `make autograde`.

SQLite lets one process write at a time, and a transaction that reads and then writes while
another process writes fails at once with "database is locked" (its busy timeout does not help
there). nbgrader's gradebook transactions are short (a student's record before grading, the
scores after it), so every worker takes an exclusive lock on a file for each transaction. The
grading itself, minutes of work per student, runs in parallel; only these moments queue.
nbgrader_config.py installs this in every nbgrader process started with LOCK_VARIABLE set.
"""
import fcntl
import os

LOCK_VARIABLE = "XAI_GRADEBOOK_LOCK"  # path of the lock file, set by autograde.py for its workers


class TransactionLock:
    """An exclusive file lock held from a transaction's begin to its commit or rollback (re-entrant in a process)."""

    def __init__(self, path):
        self.path, self.depth, self.file = path, 0, None

    def acquire(self, *args):
        if self.depth == 0:
            self.file = open(self.path, "a")
            fcntl.flock(self.file, fcntl.LOCK_EX)
        self.depth += 1

    def release(self, *args):
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


_installed = []  # nbgrader may read its config file twice: one lock per process, or it would wait for itself


def install_from_environment():
    """Serialise this process's database transactions if LOCK_VARIABLE names a lock file; return the lock or None."""
    path = os.environ.get(LOCK_VARIABLE)
    if not path or _installed:
        return _installed[0] if _installed else None
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    lock = TransactionLock(path)
    event.listen(Engine, "begin", lock.acquire)
    event.listen(Engine, "commit", lock.release)
    event.listen(Engine, "rollback", lock.release)
    _installed.append(lock)
    return lock
