"""`python -m tools.grading.nbgrader_app ARGS` is `nbgrader ARGS`, started in half the time.

jsonschema (imported by nbformat) imports rfc3987_syntax where it is installed (jupyter-events asks
for it), and that module builds a parser for IRIs as it is imported: about 2.5 s of nbgrader's 5 s
start on a 2-core machine, paid by every nbgrader process (a parallel autograde starts several). No
notebook schema checks an IRI, so nbgrader runs here without it; the rest is nbgrader's own main.
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # its import now raises ImportError, which jsonschema expects

from nbgrader.apps.nbgraderapp import main  # noqa: E402 (after the line above, or it is too late)

if __name__ == "__main__":
    main()
