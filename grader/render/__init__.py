"""Renderers for result documents: HTML report, class summary, Gradescope JSON, gradebook CSV."""
