"""What was handed in cannot be graded as it is (file, archive, notebook, encoding).

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "intake"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'missing', FAMILY,
        title='Submission not found',
        explanation='The grader found no file to grade: the path does not exist, or it is not a .py, .ipynb or .zip.',
        fix='Hand in nn.py (or nn.ipynb), or a folder or .zip containing it.',
        recognized="the submission's path does not exist",
    ),
    Mistake(
        'bad-archive', FAMILY,
        title='Unusable zip file',
        explanation='The .zip could not be opened safely: it is corrupt, too large, or has paths that point outside its folder.',
        fix='Zip the folder that contains nn.py again (right-click > compress), without absolute paths.',
        recognized='a .zip that cannot be opened safely (corrupt, encrypted, too large, links or absolute paths)',
    ),
    Mistake(
        'notebook-unreadable', FAMILY,
        title='Notebook file is not a readable notebook',
        explanation='A .ipynb file is JSON written by Jupyter; this one could not be read as a notebook (it was cut short, edited as text, or is another kind of file renamed to .ipynb), so no cell could be run.',
        fix='Open it in Jupyter (or VS Code) and save it again (File > Save), check that it opens, then hand it in; or hand in your code as nn.py (File > Download as > Python).',
        recognized='a .ipynb that is not valid notebook JSON',
    ),
    Mistake(
        'not-utf8', FAMILY,
        title='File is not UTF-8 text',
        explanation='Python reads source files as UTF-8 unless the first or second line declares another encoding; your file has a byte (often an accented letter saved by an editor in Latin-1 or Windows-1252) that cannot be read that way, so none of it could be run.',
        fix="Save the file as UTF-8 in your editor (e.g. 'Save with Encoding > UTF-8'), or declare its encoding on the first line, e.g. # -*- coding: latin-1 -*-; the message names the line and column.",
        recognized='a code file whose bytes are not UTF-8 (after a coding cookie or BOM is honoured)',
    ),
    Mistake(
        'no-code-file', FAMILY,
        title='No Python code handed in',
        explanation='What was handed in holds no .py file and no notebook (.ipynb): a PDF, a text file or other documents cannot be run, so nothing could be graded.',
        fix='Hand in your code as nn.py or nn.ipynb (alone, or in the folder or .zip you hand in); if your code sits in a .txt file, rename it to nn.py. A written report goes in addition to the code, not instead.',
        recognized='a folder or archive without a .py or .ipynb file',
    ),
    Mistake(
        'empty-file', FAMILY,
        title='Empty file',
        explanation='The file handed in is empty (or holds only blank lines and comments): perhaps it was not saved before it was uploaded, so there was nothing to run.',
        fix='Save your work, check that the file you upload has your code in it (open it again from the upload folder), then hand it in again.',
        recognized='a code file with no code in it',
    ),
    Mistake(
        'symlink', FAMILY,
        title='Submission is a symbolic link',
        explanation='What was handed in is a symbolic link (a shortcut to a file elsewhere), not a file: the grader never follows it.',
        fix='Hand in the file itself (nn.py, nn.ipynb, a folder or a .zip), not a link to it.',
        recognized='the submission itself is a symbolic link (never followed)',
    ),
)
