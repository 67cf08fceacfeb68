"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y) / (num_iterations - i - 1))   # ZeroDivisionError on the last one
        return losses
