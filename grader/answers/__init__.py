"""Written answers: the numbers students write in their report.

* `parse` -- reading an answers file (JSON or YAML, data only) and the
  accepted forms of numbers, shapes, formulas in N_H and arrays; never
  evaluates student text with eval().
* `compute` -- what each question asks of the reference: parameter counts,
  shapes, the integer that best meets a budget, the values of a stated tiny
  network, and the same quantities under each named mistake.
* `mistakes` -- one record per named mistake (id, title, how it is
  recognized, feedback text, catalogue text).
* `source` -- where a submission's answers come from (an answers file, a
  notebook's literal `answers = {...}`, or the worker for class rubrics).
"""
