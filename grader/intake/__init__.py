"""Intake: from what an LMS or a folder holds to the list of submissions to grade.

* `choose`  -- which file of a submission is graded (one documented rule);
* `layouts` -- LMS downloads recognized by their naming (Canvas, Moodle,
  Gradescope) and grouped per student, with the layout's own submission time
  or late marker;
* `roster`  -- the class list (CSV) that maps submissions to students;
* `late`    -- due date and late penalty;
* `plan`    -- all of it together: one entry per submission, one row per
  roster student (missing, not gradable, late).
"""
