"""`python -m tools.grading.nbgrader_app ARGS` is `nbgrader ARGS`, started in half the time, stopped cleanly by SIGTERM.

jsonschema (imported by nbformat) imports rfc3987_syntax where it is installed (jupyter-events asks
for it), and that module builds a parser for IRIs as it is imported: about 2.5 s of nbgrader's 5 s
start on a 2-core machine, paid by every nbgrader process (a parallel autograde starts several). No
notebook schema checks an IRI, so nbgrader runs here without it; the rest is nbgrader's own main.

A new gradebook is stamped with the version of nbgrader's database schema, which nbgrader gets by
running `alembic heads` in a new process; that process imports nbgrader all over again (4 s). Here
the same head revision is read from nbgrader's migration scripts in this process (0.2 s).

An interrupted parallel autograde stops its workers with SIGTERM (parallel.py), which would end
Python at once; here it raises KeyboardInterrupt, as Ctrl-C does, so nbgrader removes the half-graded
submission and the grader's own temporary files go too.

`autograde` grades with claims.ClaimingAutograde, which lets parallel workers share out the students.
"""
import signal
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # its import now raises ImportError, which jsonschema expects

import nbgrader.api  # noqa: E402 (after the line above, or it is too late)
import nbgrader.apps.autogradeapp  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from nbgrader.apps.nbgraderapp import main  # noqa: E402
from nbgrader.dbutil import ALEMBIC_DIR  # noqa: E402

from tools.grading.claims import ClaimingAutograde  # noqa: E402


def gradebook_schema_version():
    """What `alembic heads` prints first for nbgrader's migrations: the revision a new gradebook is stamped with."""
    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def stop_as_if_interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    nbgrader.api.get_alembic_version = gradebook_schema_version
    nbgrader.apps.autogradeapp.Autograde = ClaimingAutograde
    signal.signal(signal.SIGTERM, stop_as_if_interrupted)
    main()
