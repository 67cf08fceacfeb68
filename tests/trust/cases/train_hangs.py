"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def train(self, x, y, num_iterations):
        losses = []
        while True:   # forgot to count the iterations
            losses.append(self.loss(x, y))
            self.step(x, y)
            losses = losses[-10:]
