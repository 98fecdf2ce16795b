"""nbgrader configuration for the course (the course directory is this folder).

solutions/<assignment>/ holds the instructor notebooks (solutions and hidden tests);
`nbgrader generate_assignment` writes the student versions to notebooks/<assignment>/.
Grading is hardened against the traps in the course's field notes: see tools/grading/
and the README's instructors' section.
"""
import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, GetGrades, LimitOutput, SaveAutoGrades

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # tools.grading, named below

from tools.grading.collect import LMS_PATTERN  # noqa: E402 (needs ROOT on sys.path)
from tools.grading.gradebook_lock import install_from_environment  # noqa: E402

install_from_environment()  # in the workers of a parallel `make autograde`: one gradebook writer at a time

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "xai-course")

# The student stub keeps the course's "YOUR CODE START / END" frame readable.
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (write your code here)\nraise NotImplementedError()",
}

# A deleted or edited test cell is restored from the gradebook and graded as released.
c.OverwriteCells.add_missing_cells = True

# Each grading kernel runs in a sandbox (no solutions/, gradebook, network or other submissions, no answers
# of this assignment or later ones), within memory, /tmp, output and CPU-time limits; the hidden tests are
# judged outside it, from the results they publish (tools/grading/execute.py, verdict.py). Only hidden-test
# cells carry points, and their outputs are replaced by the verdict: nothing else the kernel printed (a
# library's warning on stderr, which nbgrader would score 0) changes a score.
c.Autograde.autograde_preprocessors = [
    "tools.grading.execute.SandboxedExecute", ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.SandboxedExecute.memory_limit = 6 * 2**30     # address space beyond the kernel's start, shared memory included
c.SandboxedExecute.tmp_size = 256 * 2**20
c.SandboxedExecute.output_limit = 4 * 2**20    # bytes of output per cell
c.SandboxedExecute.cpu_limit = 1800
# Each cell gets at most this long when grading (the slowest course cell takes a few seconds);
# a cell over time is interrupted, scores 0, and grading goes on with the next cell.
c.Execute.timeout = 120

# Feedback for students: the hidden-test cells show the grader's verdict, without the test code.
c.GenerateFeedback.preprocessors = [
    GetGrades, "tools.grading.feedback.ClearHiddenTestsInTestCells", CSSHTMLHeaderPreprocessor,
]

# Submissions downloaded from an LMS (`make collect`, tools/grading/collect.py): files named as Blackboard names
# them, matched by a pattern that the name a student chose cannot steer (see LMS_PATTERN). For another LMS, set
# your own pattern here, keeping that property; of several attempts the latest is graded.
c.ZipCollectApp.collector_plugin = "tools.grading.collect.LmsFileNameCollector"
c.FileNameCollectorPlugin.named_regexp = LMS_PATTERN
