"""The graded-file rule (grader/intake/choose.py)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from grader.intake.choose import choose_code_file, resubmission_base

NN = "import numpy as np\n\nclass NN:\n    pass\n"


def test_conventional_name_wins_and_is_not_ambiguous() -> None:
    choice = choose_code_file({"hw3_final.py": NN, "nn.py": NN, "utils.py": "x = 1\n"}, "NN")
    assert choice.graded == "nn.py" and not choice.ambiguous and choice.others == ("hw3_final.py", "utils.py")


def test_draft_and_final_final_is_graded_and_flagged() -> None:
    choice = choose_code_file({"hw3_draft.py": NN, "hw3_final.py": NN}, "NN")
    assert choice.graded == "hw3_final.py" and choice.ambiguous
    assert choice.as_dict()["not_graded"] == ["hw3_draft.py"]


def test_only_file_defining_the_class() -> None:
    choice = choose_code_file({"a_helpers.py": "def f(): pass\n", "network.py": NN}, "NN")
    assert choice.graded == "network.py" and not choice.ambiguous


def test_other_classes_do_not_count() -> None:
    choice = choose_code_file({"a.py": "class Helper:\n    pass\n", "b.py": NN}, "NN")
    assert choice.graded == "b.py" and not choice.ambiguous


def test_no_class_anywhere_first_file_flagged() -> None:
    choice = choose_code_file({"b.py": "x = 1\n", "a.py": "y = 2\n"}, "NN")
    assert choice.graded == "a.py" and choice.ambiguous
    assert choose_code_file({"notes.txt": "hi"}, "NN") is None


def test_resubmission_suffix() -> None:
    assert resubmission_base("nn-2.py") == ("nn.py", 2) and resubmission_base("nn.py") == ("nn.py", 0)
    choice = choose_code_file({"nn-1.py": NN, "nn-2.py": NN}, "NN")
    assert choice.graded == "nn-2.py"


names = st.lists(st.from_regex(r"[a-z_]{1,12}\.py", fullmatch=True), min_size=1, max_size=6, unique=True)


@given(names, st.randoms())
@settings(max_examples=100, deadline=None)
def test_choice_depends_on_the_files_not_their_order(files: list[str], rnd) -> None:
    contents = {f: NN if i % 2 == 0 else "x = 1\n" for i, f in enumerate(files)}
    shuffled = list(contents.items())
    rnd.shuffle(shuffled)
    first, second = choose_code_file(contents, "NN"), choose_code_file(dict(shuffled), "NN")
    assert first == second and first.graded in files
    defining = [f for f in files if contents[f] == NN]
    assert first.ambiguous == (len(defining) > 1 and not any(f in ("nn.py", "solution.py", "main.py") for f in files)) \
        or (not defining and len(files) > 1)
