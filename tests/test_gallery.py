"""The gallery of built-in examples beside the post's network: each spec is commented and titled,
derives and verifies, and is golden-tested like mazur (tests/test_golden.py enumerates every
built-in example)."""

from __future__ import annotations

from importlib import resources

import pytest

from stepgrad.codegen import document, pipeline
from stepgrad.symbolic import naming
from stepgrad.symbolic.spec import BUILTIN_DIR, builtin_names, load

GALLERY = {
    "tanh_332": ("tanh", "mse", (3, 3, 2)),
    "relu_2443": ("relu", "half_sse", (2, 4, 4, 3)),
    "softmax_233": ("sigmoid", "categorical_cross_entropy", (2, 3, 3)),
    "sigmoid_bce_221": ("sigmoid", "binary_cross_entropy", (2, 2, 1)),
    "leaky_relu_kink": ("leaky_relu", "half_sse", (2, 2, 1)),
    "wide_4883": ("tanh", "half_sse", (4, 8, 8, 3)),
}


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_gallery_spec_is_built_in_commented_and_titled(name):
    assert name in builtin_names()
    text = resources.files(BUILTIN_DIR).joinpath(f"{name}.toml").read_text("utf-8")
    assert text.startswith("# Gallery: ")
    spec = load(name)
    hidden, error, shape = GALLERY[name]
    assert spec.title and spec.error == error
    assert tuple(len(layer.neurons) for layer in spec.layers) == shape
    assert all(layer.activation == hidden for layer in spec.layers[1:-1])


def test_the_relu_gallery_network_has_a_bias_per_neuron_and_two_samples():
    spec = load("relu_2443")
    assert len(spec.samples) == 2 and spec.training.batch_size == 2
    assert len(spec.biases) == sum(len(layer.neurons) for layer in spec.layers[1:])


@pytest.mark.parametrize("name, output", [("softmax_233", "softmax"), ("sigmoid_bce_221", "sigmoid"),
                                          ("tanh_332", "tanh")])
def test_output_activations(name, output):
    assert load(name).layers[-1].activation == output


def test_the_kink_spec_puts_a_net_input_exactly_at_zero():
    """-0.15 + 0.3*0.1 + 0.6*0.2 is exactly 0 when the decimals are read exactly; the derivation
    takes the documented branch there and the document says so."""
    d = pipeline.derivation(load("leaky_relu_kink"))
    assert d.values[naming.net("h1")] == 0
    worked = pipeline.worked_example(load("leaky_relu_kink"), "leaky_relu_kink")
    assert "On a kink" in worked.markdown


@pytest.mark.parametrize("name", ["relu_2443", "wide_4883"])
def test_large_gallery_networks_are_compact_by_default(name):
    assert len(load(name).parameters) > document.FULL_LIMIT
