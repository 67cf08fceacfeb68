"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def train(self, x, y, num_iterations):
        first = self.loss(x, y)
        for _ in range(num_iterations):
            self.step(x, y)
        return [first] * num_iterations   # the same stale value every time
