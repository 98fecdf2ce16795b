"""nbgrader configuration for the course (the course directory is this folder).

solutions/<assignment>/ holds the instructor notebooks (solutions and hidden tests);
`nbgrader generate_assignment` writes the student versions to notebooks/<assignment>/.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# The student stub keeps the course's "YOUR CODE START / END" frame readable.
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (write your code here)\nraise NotImplementedError()",
}

# Library warnings on stderr must not zero a correct answer: drop them before scoring.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(Warning|warn)"

# A deleted or edited test cell is restored from the gradebook and graded as released.
c.OverwriteCells.add_missing_cells = True

# Each cell gets at most this long when grading (the slowest course cell takes a few seconds).
c.Execute.timeout = 120
