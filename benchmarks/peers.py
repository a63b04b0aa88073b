"""Peer gradient implementations (NumPy, JAX, PyTorch) for the stepgrad benchmark.

Network family: fully connected feedforward net with layer sizes
``sizes = [n0, ..., nL]``, a sigmoid on every non-input layer, one bias per
neuron, and error ``E = sum over batch and outputs of 1/2 (target - out)^2``.
Everything is float64.

Layout: ``W[l]`` has shape ``(sizes[l+1], sizes[l])``, ``b[l]`` has shape
``(sizes[l+1],)``, ``X`` has shape ``(batch, sizes[0])`` and ``T`` has shape
``(batch, sizes[-1])``.  A layer computes ``a_next = sigmoid(a @ W[l].T + b[l])``.

``PEERS`` maps a peer name to a factory ``factory(problem) -> fn`` where
``fn()`` computes the gradient once and returns ``(dW, db)`` as lists of NumPy
arrays.  Factories convert the problem to the framework's arrays and warm up
(JIT-compile) before returning, so calling ``fn()`` times only the gradient
computation plus the (zero-copy or near zero-copy) hand-back as NumPy arrays.
Torch and JAX are imported lazily inside their factories; a factory raises
``ImportError`` when its framework is missing, which ``build_peers`` reports
as "not installed".

Run this file to check that all peers agree and to print rough timings.
"""

import statistics
import timeit

import numpy as np


def make_problem(sizes, batch, seed=0):
    """Return a random problem dict with float64 W, b, X, T for the given layer sizes."""
    rng = np.random.default_rng(seed)
    W, b = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)
        W.append(rng.uniform(-bound, bound, size=(n_out, n_in)))
        b.append(rng.uniform(-bound, bound, size=n_out))
    X = rng.uniform(-1.0, 1.0, size=(batch, sizes[0]))
    T = rng.uniform(0.05, 0.95, size=(batch, sizes[-1]))
    return {"sizes": list(sizes), "W": W, "b": b, "X": X, "T": T}


def _sigmoid(z):
    """Return the logistic sigmoid of a NumPy array."""
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_activations(W, b, X):
    """Return the list of layer activations, input first, output last."""
    acts = [X]
    for w, bias in zip(W, b):
        acts.append(_sigmoid(acts[-1] @ w.T + bias))
    return acts


def numpy_error(W, b, X, T):
    """Return the summed half squared error of the network on the batch."""
    out = _numpy_activations(W, b, X)[-1]
    return 0.5 * np.sum((T - out) ** 2)


def numpy_grad(W, b, X, T):
    """Return (dW, db), the gradient of the error, by hand-written backpropagation."""
    acts = _numpy_activations(W, b, X)
    out = acts[-1]
    delta = (out - T) * out * (1.0 - out)
    n_layers = len(W)
    dW, db = [None] * n_layers, [None] * n_layers
    for l in range(n_layers - 1, -1, -1):
        dW[l] = delta.T @ acts[l]
        db[l] = delta.sum(axis=0)
        if l > 0:
            a = acts[l]
            delta = (delta @ W[l]) * a * (1.0 - a)
    return dW, db


def make_jax_grad(W, b, X, T):
    """Return a jitted, blocking f(W, b, X, T) -> (dW, db) compiled for these shapes."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(W, b, X, T):
        """Return the summed half squared error."""
        a = X
        for w, bias in zip(W, b):
            a = jax.nn.sigmoid(a @ w.T + bias)
        return 0.5 * jnp.sum((T - a) ** 2)

    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))

    def f(W, b, X, T):
        """Return the gradient, blocking until it is computed."""
        return jax.block_until_ready(grad(W, b, X, T))

    f(W, b, X, T)
    return f


def make_torch_grad(W, b, X, T):
    """Return an eager-autograd f(W, b, X, T) -> (dW, db) over torch tensors (W, b leaves with requires_grad)."""
    import torch
    import torch.nn.functional as F

    def f(W, b, X, T):
        """Return the gradient by building the graph and running autograd once."""
        a = X
        for w, bias in zip(W, b):
            a = torch.sigmoid(F.linear(a, w, bias))
        loss = 0.5 * torch.sum((T - a) ** 2)
        grads = torch.autograd.grad(loss, [*W, *b])
        return grads[: len(W)], grads[len(W):]

    f(W, b, X, T)
    return f


def _numpy_factory(problem):
    """Return fn() computing the NumPy gradient of the problem."""
    W, b, X, T = problem["W"], problem["b"], problem["X"], problem["T"]
    return lambda: numpy_grad(W, b, X, T)


def _jax_factory(problem):
    """Return fn() computing the JAX gradient; arrays are moved to JAX once, outside fn."""
    import jax

    jax.config.update("jax_enable_x64", True)
    args = [jax.device_put(problem[k]) for k in ("W", "b", "X", "T")]
    f = make_jax_grad(*args)

    def fn():
        """Return the JAX gradient as NumPy arrays."""
        dW, db = f(*args)
        return [np.asarray(g) for g in dW], [np.asarray(g) for g in db]

    return fn


def _torch_factory(problem):
    """Return fn() computing the PyTorch gradient; tensors are made once, outside fn."""
    import torch

    W = [torch.from_numpy(w).requires_grad_(True) for w in problem["W"]]
    b = [torch.from_numpy(v).requires_grad_(True) for v in problem["b"]]
    X, T = torch.from_numpy(problem["X"]), torch.from_numpy(problem["T"])
    f = make_torch_grad(W, b, X, T)

    def fn():
        """Return the PyTorch gradient as NumPy arrays (zero-copy views)."""
        dW, db = f(W, b, X, T)
        return [g.numpy() for g in dW], [g.numpy() for g in db]

    return fn


PEERS = {"numpy": _numpy_factory, "jax": _jax_factory, "torch": _torch_factory}


def build_peers(problem, names=None):
    """Return ({name: fn} for installed peers, {name: "not installed"} for missing ones)."""
    ready, missing = {}, {}
    for name in names or PEERS:
        try:
            ready[name] = PEERS[name](problem)
        except ImportError:
            missing[name] = "not installed"
    return ready, missing


def max_rel_diff(grad, ref):
    """Return the largest per-array max|grad - ref| / max|ref| over all dW and db arrays."""
    worst = 0.0
    for g, r in zip([*grad[0], *grad[1]], [*ref[0], *ref[1]]):
        g, r = np.asarray(g), np.asarray(r)
        if g.shape != r.shape:
            raise AssertionError(f"shape mismatch {g.shape} vs {r.shape}")
        scale = max(np.max(np.abs(r)), np.finfo(np.float64).tiny)
        worst = max(worst, float(np.max(np.abs(g - r)) / scale))
    return worst


def finite_difference_check(problem, n_coords=6, h=1e-5, seed=1):
    """Return the worst relative error of numpy_grad against central differences on random coordinates."""
    W = [w.copy() for w in problem["W"]]
    b = [v.copy() for v in problem["b"]]
    X, T = problem["X"], problem["T"]
    dW, db = numpy_grad(W, b, X, T)
    params, grads = [*W, *b], [*dW, *db]
    scale = max(np.max(np.abs(g)) for g in grads)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_coords):
        k = rng.integers(len(params))
        idx = tuple(rng.integers(n) for n in params[k].shape)
        orig = params[k][idx]
        params[k][idx] = orig + h
        e_plus = numpy_error(W, b, X, T)
        params[k][idx] = orig - h
        e_minus = numpy_error(W, b, X, T)
        params[k][idx] = orig
        fd = (e_plus - e_minus) / (2 * h)
        worst = max(worst, abs(fd - grads[k][idx]) / scale)
    return worst


def check_agreement(problem, rtol=1e-10, fd_rtol=1e-6):
    """Assert all installed peers match numpy_grad and numpy_grad matches finite differences; return a report dict."""
    ready, missing = build_peers(problem)
    ref = numpy_grad(problem["W"], problem["b"], problem["X"], problem["T"])
    report = dict(missing)
    for name, fn in ready.items():
        diff = max_rel_diff(fn(), ref)
        assert diff <= rtol, f"{name} disagrees with numpy: max rel diff {diff:.3g} > {rtol}"
        report[name] = diff
    fd = finite_difference_check(problem)
    assert fd <= fd_rtol, f"numpy_grad disagrees with finite differences: {fd:.3g} > {fd_rtol}"
    report["finite_difference"] = fd
    return report


def median_time(fn, repeat=300):
    """Return the median wall time in seconds of single calls to fn."""
    return statistics.median(timeit.repeat(fn, number=1, repeat=repeat))


def _format_seconds(t):
    """Return a short human-readable duration."""
    return f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.3f} ms"


def _self_check():
    """Check agreement and print rough timings for the reference configurations."""
    for sizes, batch in (([2, 2, 2], 1), ([4, 8, 8, 3], 1), ([784, 30, 10], 10)):
        problem = make_problem(sizes, batch)
        report = check_agreement(problem)
        print(f"sizes={sizes} batch={batch}")
        for name, value in report.items():
            shown = value if isinstance(value, str) else f"max rel diff {value:.2e}"
            print(f"  {name:18s} {shown}")
        ready, _ = build_peers(problem)
        for name, fn in ready.items():
            print(f"  time {name:13s} {_format_seconds(median_time(fn))}")

    try:
        from naive_sympy import naive_grad_callable
    except ImportError:
        print("naive_sympy: not installed (needs sympy)")
        return
    sizes = [2, 2, 2]
    problem = make_problem(sizes, 1)
    built = naive_grad_callable(sizes, problem, timeout_s=120)
    if built is None:
        print(f"naive sympy {sizes}: timed out")
        return
    fn, build_seconds, op_counts = built
    ref = numpy_grad(problem["W"], problem["b"], problem["X"], problem["T"])
    diff = max_rel_diff(fn(), ref)
    assert diff <= 1e-10, f"naive sympy disagrees with numpy: {diff:.3g}"
    print(f"naive sympy sizes={sizes} batch=1")
    print(f"  build {build_seconds:.3f} s, op counts {op_counts}, max rel diff vs numpy {diff:.2e}")
    print(f"  time naive_sympy   {_format_seconds(median_time(fn))}")


if __name__ == "__main__":
    _self_check()
