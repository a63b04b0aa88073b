"""The naive SymPy route, a generation-time peer for the stepgrad benchmark.

For one sample, build the fully nested error expression of the whole network
(sigmoid written as 1/(1+exp(-x))), differentiate it with ``sympy.diff`` with
respect to every parameter, run ``sympy.cse`` over all gradients together and
``sympy.lambdify`` the result with the "math" module.

The generated function takes the flat arguments
``(*params, *inputs, *targets)`` where ``params`` lists, layer by layer,
``W[l]`` in row-major order followed by ``b[l]``; it returns the gradient
entries in the same order.  ``build_seconds`` covers building the expression,
differentiation, the gradient CSE and lambdify; the forward-only CSE done for
the op count is excluded.
"""

import inspect
import math
import multiprocessing
import time

import numpy as np
import sympy


def _symbols(sizes):
    """Return (W, b, x, t) as nested lists of SymPy symbols for one sample."""
    W, b = [], []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W.append([[sympy.Symbol(f"w{l}_{i}_{j}") for j in range(n_in)] for i in range(n_out)])
        b.append([sympy.Symbol(f"b{l}_{i}") for i in range(n_out)])
    x = [sympy.Symbol(f"inp_{j}") for j in range(sizes[0])]
    t = [sympy.Symbol(f"tgt_{k}") for k in range(sizes[-1])]
    return W, b, x, t


def _error_expression(W, b, x, t):
    """Return the fully nested one-sample error expression of the network."""
    a = x
    for w_rows, biases in zip(W, b):
        a = [1 / (1 + sympy.exp(-(sum(wij * aj for wij, aj in zip(row, a)) + bi)))
             for row, bi in zip(w_rows, biases)]
    return sum(sympy.Rational(1, 2) * (tk - ak) ** 2 for tk, ak in zip(t, a))


def _cse_ops(replacements, reduced):
    """Return sympy.count_ops summed over a CSE result."""
    return sum(sympy.count_ops(rhs) for _, rhs in replacements) + sum(sympy.count_ops(e) for e in reduced)


def _build_in_process(sizes):
    """Return (callable, build_seconds, op_counts) built in this process."""
    start = time.perf_counter()
    W, b, x, t = _symbols(sizes)
    params = [s for w_rows, biases in zip(W, b) for s in [*(s for row in w_rows for s in row), *biases]]
    error = _error_expression(W, b, x, t)
    grads = [sympy.diff(error, p) for p in params]
    grad_cse = sympy.cse(grads)
    fn = sympy.lambdify([*params, *x, *t], grads, modules="math", cse=lambda _exprs: grad_cse)
    build_seconds = time.perf_counter() - start
    op_counts = {"forward": _cse_ops(*sympy.cse(error)), "gradient": _cse_ops(*grad_cse)}
    return fn, build_seconds, op_counts


def _build_source(sizes):
    """Return (generated source, build_seconds, op_counts); picklable result for a worker process."""
    fn, build_seconds, op_counts = _build_in_process(sizes)
    return inspect.getsource(fn), build_seconds, op_counts


def _compile_source(source):
    """Return the function defined by lambdify-generated source, in a math namespace."""
    namespace = dict(vars(math))
    exec(compile(source, "<naive_sympy>", "exec"), namespace)
    return namespace["_lambdifygenerated"]


def build_naive(sizes, timeout_s=None):
    """Return (callable, build_seconds, op_counts); with timeout_s, build in a subprocess and return None on timeout."""
    if timeout_s is None:
        return _build_in_process(sizes)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(_build_source, (list(sizes),))
        try:
            source, build_seconds, op_counts = pending.get(timeout_s)
        except multiprocessing.TimeoutError:
            return None
    return _compile_source(source), build_seconds, op_counts


def naive_grad_callable(sizes, problem, timeout_s=None):
    """Return (fn, build_seconds, op_counts), fn() -> (dW, db) summed over the problem's batch; None on timeout."""
    built = build_naive(sizes, timeout_s)
    if built is None:
        return None
    raw, build_seconds, op_counts = built
    params = [v for w, bias in zip(problem["W"], problem["b"]) for v in [*w.ravel().tolist(), *bias.tolist()]]
    samples = [params + x + t for x, t in zip(problem["X"].tolist(), problem["T"].tolist())]
    shapes = [s for w, bias in zip(problem["W"], problem["b"]) for s in (w.shape, bias.shape)]
    splits = np.cumsum([math.prod(s) for s in shapes])[:-1]

    def fn():
        """Return (dW, db) from the generated function, one call per sample."""
        flat = np.sum([raw(*args) for args in samples], axis=0)
        pieces = [p.reshape(s) for p, s in zip(np.split(flat, splits), shapes)]
        return pieces[0::2], pieces[1::2]

    return fn, build_seconds, op_counts
