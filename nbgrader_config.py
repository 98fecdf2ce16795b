"""nbgrader configuration for the course (the course directory is this folder).

solutions/<assignment>/ holds the instructor notebooks (solutions and hidden tests);
`nbgrader generate_assignment` writes the student versions to notebooks/<assignment>/.
Grading is hardened against the traps in the course's field notes: see tools/grading/
and the README's instructors' section.
"""
import os
import sys

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, GetGrades,
                                    IgnorePattern, LimitOutput, SaveAutoGrades)

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # tools.grading, named below

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "xai-course")

# The student stub keeps the course's "YOUR CODE START / END" frame readable.
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (write your code here)\nraise NotImplementedError()",
}

# Output on stderr must not zero a correct answer: library warnings, log lines and progress
# bars do not all say "warn". A failing test raises (an error output), which is never dropped.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"

# A deleted or edited test cell is restored from the gradebook and graded as released.
c.OverwriteCells.add_missing_cells = True

# Each grading kernel runs in a sandbox (no solutions/, gradebook, network or other submissions),
# under memory and CPU-time limits, with a guard around test cells; see tools/grading/.
c.Autograde.autograde_preprocessors = [
    "tools.grading.execute.SandboxedExecute", IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.SandboxedExecute.memory_limit = 6 * 2**30
c.SandboxedExecute.cpu_limit = 1800
# Each cell gets at most this long when grading (the slowest course cell takes a few seconds);
# a cell over time is interrupted, scores 0, and grading goes on with the next cell.
c.Execute.timeout = 120

# Feedback for students: hidden tests' code, and anything in an output that quotes it, removed.
c.GenerateFeedback.preprocessors = [
    GetGrades, "tools.grading.feedback.RedactHiddenTests", ClearHiddenTests, CSSHTMLHeaderPreprocessor,
]

# Submissions downloaded from an LMS (`make collect`, tools/grading/collect.py): files named
# <anything>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<notebook>.ipynb, as Blackboard names them.
# Change this pattern to your LMS's names; of several attempts the latest is graded.
c.ZipCollectApp.collector_plugin = "tools.grading.collect.LmsFileNameCollector"
c.FileNameCollectorPlugin.named_regexp = (
    r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>[^/]+)\.ipynb$")
