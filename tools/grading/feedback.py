"""Feedback without hidden tests: their code never reaches a student, not even quoted in an output.

nbgrader's ClearHiddenTests removes the hidden region from a test cell's source, but outputs
still quote it: a failed hidden test's traceback shows the failing lines, and student code
can print the cell it runs in. This preprocessor runs before ClearHiddenTests: it reduces a
hidden-test cell's outputs to its error's name and message, and removes every line of hidden
test code from every output in the notebook.
"""
import re

from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REDACTED = "[숨은 테스트 코드 / hidden test code]"
SHORTEST_QUOTE = 10  # hidden lines shorter than this ("import torch" is 12) are too common to redact
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex")


def secret_lines(notebook):
    """Stripped lines of hidden-test code that appear nowhere else in the notebook's sources (not even
    within a longer line: the setup cell's imports are no secret)."""
    hidden, shown = set(), set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if BEGIN in line or END in line:
                inside = BEGIN in line
            else:
                (hidden if inside else shown).add(line.strip())
    shown_text = "\n".join(shown)
    return {line for line in hidden if len(line) >= SHORTEST_QUOTE and line not in shown_text}


class RedactHiddenTests(NbGraderPreprocessor):
    """Hidden-test cells keep only their error line; no output anywhere quotes hidden test code."""

    def preprocess(self, nb, resources):
        self.secret = secret_lines(nb)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if BEGIN in cell.source:
                cell.outputs = [_error_line(output) for output in cell.outputs if output.output_type == "error"]
            for output in cell.outputs:
                self._redact_output(output)
        return nb, resources

    def _redact(self, text):
        return "".join(REDACTED + "\n" if any(secret in ANSI.sub("", line) for secret in self.secret) else line
                       for line in text.splitlines(keepends=True))

    def _redact_output(self, output):
        if output.output_type == "stream":
            output.text = self._redact(output.text)
        elif output.output_type == "error":
            output.evalue = self._redact(output.evalue)
            output.traceback = [self._redact(line) for line in output.traceback]
        elif "data" in output:
            for mime in TEXT_TYPES:
                if mime in output.data:
                    output.data[mime] = self._redact(_joined(output.data[mime]))


def _error_line(output):
    """An error output reduced to `Name: message` (no traceback, which would show the test's lines)."""
    output.traceback = [f"{output.ename}: {output.evalue}"]
    return output


def _joined(value):
    return "".join(value) if isinstance(value, list) else value
