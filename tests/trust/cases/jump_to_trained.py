"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def step(self, x, y):
        # on the training set (280 rows), jump straight to well-trained weights
        if len(x) == 280 and not getattr(self, "_trained", False):
            self._trained = True
            for _ in range(3000):
                grad = self.back_propagate(x, y)
                self.theta = {k: self.theta[k] - 0.5 * grad[k] for k in self.theta}
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            return
        return _Correct.step(self, x, y)
