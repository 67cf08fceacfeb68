"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py).

Its NAG is plain gradient descent, and its back_propagate recognises the
look-ahead points the grader replays NAG at (y_k = theta_k + mu (theta_k -
theta_{k-1}) of its own recorded steps, any momentum) and answers the
"gradient" that makes the replay land on its next step: (y_k - theta_{k+1}) / lr.
At k = 0 that is the true gradient (y_0 = theta_0), so a check of the first
point alone passes.  Found by attacking the grader (2026-11-27)."""
_Correct = NN
_TRAJ = []


class NN(_Correct):
    def step(self, x, y):
        if self.gradient_method == "NAG":          # really plain GD
            if not hasattr(self, "_traj"):
                self._traj = [{k: v.copy() for k, v in self.theta.items()}]
                _TRAJ.append((self.momentum, self.lr, self._traj))
            g = self._gradient(x, y, self.theta)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
            self._traj.append({k: v.copy() for k, v in self.theta.items()})
            return
        return _Correct.step(self, x, y)

    def back_propagate(self, x, y):
        th = self.theta
        for mu, lr, T in _TRAJ:
            for k in range(len(T) - 1):
                if any(T[k][n].shape != th[n].shape for n in th):
                    break
                prev = T[k - 1] if k else T[k]
                look = {n: T[k][n] + mu * (T[k][n] - prev[n]) for n in th}
                if all(np.allclose(th[n], look[n], rtol=1e-13, atol=1e-15) for n in th):
                    return {n: (th[n] - T[k + 1][n]) / self.lr for n in th}
        return _Correct.back_propagate(self, x, y)
