"""
Assignment 3 - NN from scratch (numpy)
"""
import numpy as np

np.set_printoptions(precision=4, suppress=True)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def softmax(Z):
    Z = Z - Z.max(axis=0, keepdims=True)
    expZ = np.exp(Z)
    return expZ / expZ.sum(axis=0, keepdims=True)


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
        self.nIn = num_input
        self.nHidden = num_hidden
        self.nOut = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        self.theta = {
            "W0": np.random.normal(0, 0.05, (self.nHidden, self.nIn)),
            "b0": np.random.normal(0, 0.05, (self.nHidden, 1)),
            "W1": np.random.normal(0, 0.05, (self.nOut, self.nHidden)),
            "b1": np.random.normal(0, 0.05, (self.nOut, 1)),
        }
        self.thetaPrev = None

    def feed_forward(self, x):
        return self.forwardPass(self.theta, x)["yHat"]

    def forwardPass(self, theta, x):
        Z1 = theta["W0"] @ x.T + theta["b0"]
        A1 = Z1 * sigmoid(Z1)
        Z2 = theta["W1"] @ A1 + theta["b1"]
        return {"Z1": Z1, "A1": A1, "Z2": Z2, "yHat": softmax(Z2)}

    def loss(self, x, y):
        yHat = self.feed_forward(x)
        S = len(y)
        return -np.sum(np.log(yHat[y, np.arange(S)])) / S

    def gradientAt(self, theta, x, y):
        S = len(y)
        cache = self.forwardPass(theta, x)
        Y = np.eye(self.nOut)[:, y]
        # derivative of the mean cross entropy w.r.t. Z2
        dZ2 = (cache["yHat"] - Y) / S
        dW1 = dZ2 @ cache["A1"].T / S
        db1 = np.mean(dZ2, axis=1, keepdims=True)
        sig = sigmoid(cache["Z1"])
        dZ1 = (theta["W1"].T @ dZ2) * (sig + cache["Z1"] * sig * (1 - sig))
        dW0 = dZ1 @ x / S
        db0 = np.mean(dZ1, axis=1, keepdims=True)
        return {"W0": dW0, "b0": db0, "W1": dW1, "b1": db1}

    def back_propagate(self, x, y):
        return self.gradientAt(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            self.theta = {k: self.theta[k] - self.lr * g[k] for k in self.theta}
        elif self.gradient_method == "NAG":
            if self.thetaPrev is None:
                self.thetaPrev = {k: v.copy() for k, v in self.theta.items()}
            yk = {k: self.theta[k] + self.momentum * (self.theta[k] - self.thetaPrev[k]) for k in self.theta}
            g = self.gradientAt(yk, x, y)
            self.thetaPrev = self.theta
            self.theta = {k: yk[k] - self.lr * g[k] for k in yk}
        else:
            raise ValueError("Unknown method " + str(self.gradient_method))

    def train(self, x, y, num_iterations):
        lossList = []
        for it in range(num_iterations):
            self.step(x, y)
            lossList.append(self.loss(x, y))
        return lossList


if __name__ == "__main__":
    model = NN(num_hidden=4)
    xTest = np.random.randn(6, 4)
    print(model.feed_forward(xTest))
    print(model.back_propagate(xTest, np.array([0, 1, 2, 0, 1, 2]))["b1"])
