"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
_Correct = NN


class NN(_Correct):
    def back_propagate(self, x, y):
        """Central differences of my own loss (slow but simple)."""
        h = 1e-6
        grads = {}
        for key, value in self.theta.items():
            g = np.zeros_like(value)
            for i in range(value.size):
                old = value.flat[i]
                value.flat[i] = old + h
                up = self.loss(x, y)
                value.flat[i] = old - h
                down = self.loss(x, y)
                value.flat[i] = old
                g.flat[i] = (up - down) / (2 * h)
            grads[key] = g
        return grads
