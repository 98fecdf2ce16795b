"""Students handed to parallel graders one at a time: the worker that claims a student first grades them.

parallel.py starts its workers, nbgrader processes, all over the same students, with CLAIMS_VARIABLE
naming one folder. Before a worker grades a submission, it claims the student by creating a file of
that name there (O_CREAT | O_EXCL: of two workers trying at once, exactly one succeeds); a student
another worker has claimed is passed over. So a free worker always takes the next student, and a slow
submission (an endless loop waiting for its cell's timeout) delays no batch behind it; and each worker
starts nbgrader, and loads the grader's models, once per run instead of once per batch.

nbgrader_app.py puts ClaimingAutograde in the place of nbgrader's Autograde; without the variable (a
plain `nbgrader autograde`) it grades exactly as Autograde does, and so it does for a lone worker, whose
every claim succeeds.
"""
import os
from pathlib import Path

from nbgrader.converters import Autograde

CLAIMS_VARIABLE = "XAI_GRADING_CLAIMS"


def claim(folder, student):
    """True if this call claimed `student` in `folder`, False if someone had already."""
    try:
        os.close(os.open(Path(folder) / student, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


class ClaimingAutograde(Autograde):
    """nbgrader's Autograde, which leaves out the students another worker of the same run has claimed."""

    def init_destination(self, assignment_id, student_id):
        # Claimed before nbgrader looks at the destination: with --force it deletes what is there, and that
        # may be the notebook another worker is grading.
        folder = os.environ.get(CLAIMS_VARIABLE)
        if folder and not claim(folder, student_id):
            self.log.debug("%s is graded by another worker", student_id)
            return False
        return super().init_destination(assignment_id, student_id)
