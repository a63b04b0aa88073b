"""The symbolic model: a SymPy symbol for every named quantity, and its definition.

``net_h1 := w1*i1 + w2*i2 + b1``, ``out_h1 := sigmoid(net_h1)``,
``E_o1 := 1/2 (target_o1 - out_o1)^2``, ``E_total := E_o1 + E_o2``.  The
intermediate quantities stay symbols: nothing here flattens the network into
one expression (:func:`expanded_error` does, for tests only).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import naming
from .functions import ACTIVATIONS, ERRORS
from .spec import Spec, Weight


@functools.lru_cache(maxsize=None)
def symbol(name: str) -> sp.Symbol:
    """Return the real symbol for a canonical quantity name (the same object every time)."""
    return sp.Symbol(name, real=True)


ETA = symbol("eta")


@dataclass(frozen=True)
class Model:
    """A spec's quantities as symbols with definitions, in evaluation order."""

    spec: Spec

    # -- structure
    @cached_property
    def incoming(self) -> dict[str, tuple[Weight, ...]]:
        """The weights into each neuron, in spec order."""
        out: dict[str, list[Weight]] = {n: [] for layer in self.spec.layers for n in layer.neurons}
        for w in self.spec.weights:
            out[w.dst].append(w)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def outgoing(self) -> dict[str, tuple[Weight, ...]]:
        """The weights out of each neuron, in spec order."""
        out: dict[str, list[Weight]] = {n: [] for layer in self.spec.layers for n in layer.neurons}
        for w in self.spec.weights:
            out[w.src].append(w)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def bias_of(self) -> dict[str, str]:
        """The bias name feeding each neuron that has one."""
        return {n: b.name for b in self.spec.biases for n in b.neurons}

    @cached_property
    def layer_of(self) -> dict[str, int]:
        return {n: k for k, layer in enumerate(self.spec.layers) for n in layer.neurons}

    def activation(self, layer: int):
        return ACTIVATIONS[self.spec.layers[layer].activation]

    def act_params(self, layer: int) -> dict:
        return {"slope": self.spec.layers[layer].slope}

    @property
    def error_function(self):
        return ERRORS[self.spec.error]

    @property
    def error_params(self) -> dict:
        return dict(self.spec.error_params)

    @property
    def softmax_output(self) -> bool:
        return self.spec.layers[-1].activation == "softmax"

    # -- symbols
    def out_symbol(self, n: str) -> sp.Symbol:
        """The output of neuron n; an input neuron's output is the input itself."""
        return symbol(n) if self.layer_of[n] == 0 else symbol(naming.out(n))

    @cached_property
    def input_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(symbol(n) for n in self.spec.inputs)

    @cached_property
    def target_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(symbol(naming.target(o)) for o in self.spec.outputs)

    @cached_property
    def param_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(symbol(p) for p in self.spec.parameters)

    # -- definitions
    def net_definition(self, n: str, evaluate: bool = True) -> sp.Expr:
        """net_n = sum of weight * source output (+ bias * 1), in the post's order."""
        with sp.evaluate(evaluate):
            terms = [symbol(w.name) * self.out_symbol(w.src) for w in self.incoming[n]]
            if n in self.bias_of:
                terms.append(symbol(self.bias_of[n]) * sp.Integer(1) if not evaluate
                             else symbol(self.bias_of[n]))
            return sp.Add(*terms)

    def out_definition(self, n: str) -> sp.Expr:
        """out_n as a function of net_n (for softmax, of the layer's nets)."""
        k = self.layer_of[n]
        net = symbol(naming.net(n))
        if self.spec.layers[k].activation == "softmax":
            nets = [symbol(naming.net(m)) for m in self.spec.layers[k].neurons]
            return sp.exp(net) / sp.Add(*[sp.exp(m) for m in nets])
        return self.activation(k).forward(net, self.act_params(k))

    def error_definition(self, o: str, evaluate: bool = True) -> sp.Expr:
        """E_o as a function of target_o and out_o."""
        with sp.evaluate(evaluate):
            return self.error_function.forward(symbol(naming.target(o)), symbol(naming.out(o)),
                                               self.error_params)

    @cached_property
    def forward(self) -> tuple[tuple[sp.Symbol, sp.Expr], ...]:
        """Every forward definition, in evaluation order, ending with E_total."""
        defs = []
        for k in range(1, len(self.spec.layers)):
            layer = self.spec.layers[k].neurons
            defs += [(symbol(naming.net(n)), self.net_definition(n)) for n in layer]
            defs += [(symbol(naming.out(n)), self.out_definition(n)) for n in layer]
        defs += [(symbol(naming.err(o)), self.error_definition(o)) for o in self.spec.outputs]
        defs.append((symbol(naming.E_TOTAL), sp.Add(*[symbol(naming.err(o)) for o in self.spec.outputs])))
        return tuple(defs)

    def expanded_error(self, down_to: str = "params") -> sp.Expr:
        """E_total with every definition substituted, down to inputs and parameters.

        The flattened tree: for tests that differentiate it with SymPy on small networks.
        stepgrad itself never builds it (verification uses dual numbers, symbolic.verify).
        """
        if down_to != "params":
            raise ValueError("expanded_error expands down to the parameters only")
        expr = symbol(naming.E_TOTAL)
        for sym, definition in reversed(self.forward):
            expr = expr.xreplace({sym: definition})
        return expr
