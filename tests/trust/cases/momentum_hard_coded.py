"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def step(self, x, y):
        if self.gradient_method == "NAG":
            saved, self.momentum = self.momentum, 0.9   # "the handout says 0.9"
            try:
                return _Correct.step(self, x, y)
            finally:
                self.momentum = saved
        return _Correct.step(self, x, y)
