"""Exercise sets (stepgrad.symbolic.exercise): variants, keys, rounded givens, good-variant rules, rosters.

Every key is checked against a second route written here from the math: the network evaluated at
40 digits with mpmath from the spec's numbers (forward pass and error), and every derivative by a
central finite difference at 40 digits.  Keys from rounded givens are recomputed with the textbook
backpropagation formulas from the rounded values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import mpmath
import pytest
import sympy as sp

from stepgrad.codegen.cli import main
from stepgrad.symbolic import exercise as ex
from stepgrad.symbolic import naming
from stepgrad.symbolic.exercise import Exercise, make_variants
from stepgrad.symbolic.spec import SpecError, load, parse

from .check_support import _act

ROOT = Path(__file__).resolve().parent.parent
MAZUR_TEXT = (ROOT / "symbolic" / "examples" / "mazur.toml").read_text()

# -- the independent route: the network written from the math, at 40 digits ---------------------

DIGITS = 40
STEP = mpmath.mpf("1e-12")


def _mp(x) -> mpmath.mpf:
    x = sp.Rational(x)
    return mpmath.mpf(int(x.p)) / int(x.q)


def _error(name: str, n_out: int, t, y):
    if name == "half_sse":
        return (t - y) ** 2 / 2
    if name == "mse":
        return (t - y) ** 2 / n_out
    if name == "binary_cross_entropy":
        return -(t * mpmath.log(y) + (1 - t) * mpmath.log(1 - y))
    if name == "categorical_cross_entropy":
        return -t * mpmath.log(y)
    raise AssertionError(name)


def network(spec, params: dict, sample: int, shift: dict | None = None) -> dict:
    """Every net input, output and error of one sample; *shift* adds to a net_ or out_ value."""
    shift = shift or {}
    v = {n: _mp(x) for n, x in spec.samples[sample].inputs}
    out = {naming.out(n): x for n, x in v.items()}
    bias = {n: b.name for b in spec.biases for n in b.neurons}
    for k in range(1, len(spec.layers)):
        layer = spec.layers[k]
        nets = {}
        for n in layer.neurons:
            total = sum((params[w.name] * out[naming.out(w.src)] for w in spec.weights if w.dst == n), mpmath.mpf(0))
            if n in bias:
                total += params[bias[n]]
            nets[n] = total + shift.get(naming.net(n), 0)
            out[naming.net(n)] = nets[n]
        if layer.activation == "softmax":
            top = sum(mpmath.exp(x) for x in nets.values())
            for n in layer.neurons:
                out[naming.out(n)] = mpmath.exp(nets[n]) / top + shift.get(naming.out(n), 0)
        else:
            slope = _mp(layer.slope) if layer.slope is not None else None
            for n in layer.neurons:
                out[naming.out(n)] = _act(layer.activation, nets[n], slope) + shift.get(naming.out(n), 0)
    targets = dict(spec.samples[sample].targets)
    total = mpmath.mpf(0)
    for o in spec.outputs:
        e = _error(spec.error, len(spec.outputs), _mp(targets[o]), out[naming.out(o)])
        out[naming.err(o)] = e
        total += e
    out[naming.E_TOTAL] = total
    return out


def reference_value(spec, name: str):
    """The value of canonical *name* for the first batch, from the math (40 digits)."""
    with mpmath.workdps(DIGITS):
        params = {n: _mp(x) for n, x in spec.initial}
        base, sample = naming.split_sample(name)
        batch = range(spec.training.batch_size)
        if sample is not None:
            return _quantity(spec, params, sample - 1, base)
        if base.endswith("+"):
            p = base[:-1]
            trainable = p in spec.trainable
            grad = _batch(spec, params, batch, naming.d(naming.E_TOTAL, p))
            return params[p] - _mp(spec.training.learning_rate) * grad if trainable else params[p]
        if len(batch) > 1:
            return _batch(spec, params, batch, base)
        return _quantity(spec, params, 0, base)


def _batch(spec, params, batch, name):
    values = [_quantity(spec, params, s, name) for s in batch]
    total = sum(values, mpmath.mpf(0))
    return total / len(values) if spec.training.reduction == "mean" else total


def _quantity(spec, params, s, name):
    parts = naming.split_d(name)
    if name.startswith("delta_"):
        parts = (naming.E_TOTAL, naming.net(name[len("delta_"):]))
    if parts is None:
        return network(spec, params, s)[name]
    num, den = parts
    if den in params:  # a parameter: move it
        up = network(spec, {**params, den: params[den] + STEP}, s)[num]
        down = network(spec, {**params, den: params[den] - STEP}, s)[num]
    else:  # a net input or an output: shift it where it is computed
        up = network(spec, params, s, {den: STEP})[num]
        down = network(spec, params, s, {den: -STEP})[num]
    return (up - down) / (2 * STEP)


def assert_key_matches(variant) -> None:
    """Every key value agrees with the math to the key's 15 significant digits."""
    assert variant.key, "an empty key checks nothing"
    for entry in variant.key:
        want = reference_value(variant.spec, entry.name)
        got = mpmath.mpf(entry.value)
        scale = max(abs(want), mpmath.mpf("1e-10"))
        assert abs(got - want) <= scale * mpmath.mpf("1e-14"), (variant.number, entry.name, entry.value, want)


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mazur():
    return load("mazur")


@pytest.fixture(scope="module")
def mazur_set(mazur):
    return make_variants(mazur, Exercise(), count=30, seed=7)


# -- keys by an independent route ------------------------------------------------------------

def test_every_key_of_thirty_mazur_variants_matches_the_math(mazur_set):
    """All 30 variants of the post's exercise: each key value equals the 40-digit math (finite differences)."""
    assert len(mazur_set) == 30
    for v in mazur_set:
        assert_key_matches(v)
    names = [e.name for e in mazur_set[0].key]
    assert "dE_total/dw1" in names and "w8+" in names and "delta_h2" in names
    assert "b1+" not in names  # the post's biases are frozen: nothing to compute


@pytest.mark.parametrize("builtin, exercise", [
    ("relu_2443", Exercise(ask=("forward", "errors", "output_deltas"), update=("w1", "w30"))),
    ("tanh_332", Exercise()), ("softmax_233", Exercise()), ("sigmoid_bce_221", Exercise()),
    ("softmax_batch", Exercise(ask=("errors", "gradients")))])
def test_keys_of_other_networks_match_the_math(builtin, exercise):
    """ReLU with a two-sample batch, tanh with MSE, softmax with cross-entropy, sigmoid with BCE."""
    spec = load(builtin)
    for v in make_variants(spec, exercise, count=2, seed=3):
        assert_key_matches(v)
        assert v.spec.initial != spec.initial  # drawn, not the spec's own values


def test_key_values_have_fifteen_significant_digits(mazur_set):
    """Key values are positional decimals with 15 significant digits; the tolerance is half of 1e-4."""
    for e in mazur_set[0].key:
        digits = Decimal(e.value).as_tuple().digits
        assert len(digits) == 15 or Decimal(e.value) == 0, e
        assert "e" not in e.value.lower()
        assert e.tolerance == "0.00005"


def test_values_are_drawn_rounded_to_value_decimals(mazur, mazur_set):
    """Drawn weights, biases, inputs and targets have at most two decimals, shown with two."""
    for v in mazur_set[:5]:
        for name, text in v.givens:
            assert len(text.split(".")[1]) == 2 or name == "eta", (name, text)
        for _, x in v.spec.initial:
            assert (x * 100).is_Integer
    assert dict(mazur_set[0].givens)["eta"] == "0.5"


def test_variant_one_is_not_the_spec(mazur, mazur_set):
    """Every variant is drawn from the seed, the first included; reference figures are dropped."""
    assert mazur_set[0].spec.initial != mazur.initial
    assert mazur_set[0].spec.reference == ()


# -- rounded givens ---------------------------------------------------------------------------

def _textbook_backprop(spec, given: dict) -> dict:
    """Backpropagation by the textbook formulas for sigmoid layers and the halved squared error,
    from the given (rounded) forward values, as a student computes it."""
    p = {n: _mp(x) for n, x in spec.initial}
    t = {naming.target(n): _mp(x) for n, x in spec.samples[0].targets}
    i = {n: _mp(x) for n, x in spec.samples[0].inputs}
    out = {naming.out(n): x for n, x in i.items()}
    out.update({k: _mp(sp.Rational(x)) for k, x in given.items()})
    values = {}
    L = len(spec.layers) - 1
    delta = {}
    for o in spec.outputs:
        y = out[naming.out(o)]
        values[naming.err(o)] = (t[naming.target(o)] - y) ** 2 / 2
        delta[o] = (y - t[naming.target(o)]) * y * (1 - y)
    values[naming.E_TOTAL] = sum(values[naming.err(o)] for o in spec.outputs)
    for k in range(L - 1, 0, -1):
        for h in spec.layers[k].neurons:
            y = out[naming.out(h)]
            delta[h] = sum(delta[w.dst] * p[w.name] for w in spec.weights if w.src == h) * y * (1 - y)
    eta = _mp(spec.training.learning_rate)
    for w in spec.weights:
        g = delta[w.dst] * out[naming.out(w.src)]
        values[naming.d(naming.E_TOTAL, w.name)] = g
        values[naming.updated(w.name)] = p[w.name] - eta * g
    values.update({naming.delta(n): x for n, x in delta.items()})
    return values


def test_keys_from_rounded_givens_are_recomputed_from_the_rounded_values(mazur):
    """With the forward pass given to 4 decimals, the key is computed from those rounded numbers."""
    exercise = Exercise(given=("forward",), given_decimals=4)
    variants = make_variants(mazur, exercise, count=5, seed=11)
    for v in variants:
        given = dict(v.rounded)
        assert list(given) == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2"]
        assert all(len(text.split(".")[1]) == 4 for text in given.values())
        with mpmath.workdps(DIGITS):
            exact = {n: reference_value(v.spec, n) for n in given}
            for n, text in given.items():  # each given is the exact value rounded to 4 decimals
                assert abs(_mp(sp.Rational(text)) - exact[n]) <= mpmath.mpf("0.00005") + mpmath.mpf("1e-30")
            want = _textbook_backprop(v.spec, given)
            keyed = {e.name: mpmath.mpf(e.value) for e in v.key}
            checked = 0
            for name, x in want.items():
                if name in keyed:
                    assert abs(keyed[name] - x) <= max(abs(x), mpmath.mpf("1e-10")) * mpmath.mpf("1e-14"), name
                    checked += 1
        assert checked >= 20
        assert "net_h1" not in keyed and "out_o1" not in keyed  # a given is not asked
    # the rounded key differs from the exact one: the givens really are carried
    exact_key = {e.name: e.value for e in ex.variant_of(variants[0].spec, Exercise()).key}
    assert any(exact_key[e.name] != e.value for e in variants[0].key)


def test_derivation_of_marks_the_given_steps(mazur):
    """derivation_of replaces each given step by its rounded value, noted, and its values follow."""
    v = make_variants(mazur, Exercise(given=("forward",)), count=1, seed=2)[0]
    d = ex.derivation_of(v)
    step = next(s for s in d.steps if s.name == "out_h1")
    assert step.rhs == sp.Rational(dict(v.rounded)["out_h1"]) and "rounded to 4 decimals" in step.note
    with mpmath.workdps(50):
        assert d.values["out_h1"] == _mp(sp.Rational(dict(v.rounded)["out_h1"]))
    assert ex.key_document(v)["rounded_givens"] == {"decimals": 4, "names": [n for n, _ in v.rounded]}


def test_derivation_without_givens_is_the_specs_own(mazur):
    """Without givens, derivation_of has derive()'s steps and values for the variant's spec."""
    from stepgrad.symbolic.derive import derive
    v = make_variants(mazur, Exercise(), count=1, seed=4)[0]
    mine, theirs = ex.derivation_of(v), derive(v.spec)
    assert [s.name for s in mine.steps] == [s.name for s in theirs.steps]
    assert all(mine.values[k] == theirs.values[k] for k in theirs.values)


# -- what is asked ---------------------------------------------------------------------------

def test_chosen_updates_ask_only_their_gradients_and_updates(mazur):
    """update = [w1, w6]: the key has dE/dw and w+ of those two only, and the deltas asked that they need."""
    v = make_variants(mazur, Exercise(ask=("forward", "hidden_deltas"), update=("w1", "w6")), count=1, seed=5)[0]
    names = [e.name for e in v.key]
    assert [n for n in names if n.endswith("+")] == ["w6+", "w1+"]
    assert [n for n in names if n.startswith("dE_total/dw")] == ["dE_total/dw6", "dE_total/dw1"]
    assert "delta_h1" in names and "delta_h2" not in names  # w1 needs h1's delta, not h2's
    assert "delta_o1" not in names  # output deltas were not asked
    assert_key_matches(v)
    plain = make_variants(mazur, Exercise(ask=("forward",), update=("w3",)), count=1, seed=5)[0]
    assert [e.name for e in plain.key][8:] == ["dnet_h2/dw3", "dE_total/dw3", "w3+"]


def test_forward_only_exercise_gives_no_targets_or_learning_rate(mazur):
    """A forward-pass exercise shows neither targets nor the learning rate."""
    v = make_variants(mazur, Exercise(ask=("forward",)), count=1, seed=1)[0]
    names = [n for n, _ in v.givens]
    assert "eta" not in names and not any(n.startswith("target_") for n in names)
    assert [e.name for e in v.key] == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2"]
    errors_only = make_variants(mazur, Exercise(ask=("errors",)), count=1, seed=1)[0]
    names = [n for n, _ in errors_only.givens]
    assert "target_o1" in names and "eta" not in names


# -- determinism -----------------------------------------------------------------------------

def _documents(variants) -> str:
    return json.dumps([ex.key_document(v) for v in variants], sort_keys=True)


def test_same_seed_same_documents_different_seed_different(mazur):
    """The same seed gives the same key documents (also in a fresh interpreter); another seed does not."""
    exercise = Exercise(ask=("forward", "output_deltas"), update=("w5",))
    first = _documents(make_variants(mazur, exercise, count=3, seed=9))
    assert first == _documents(make_variants(mazur, exercise, count=3, seed=9))
    assert first != _documents(make_variants(mazur, exercise, count=3, seed=10))
    code = ("import json; from stepgrad.symbolic.spec import load; from stepgrad.symbolic import exercise as ex;"
            "vs = ex.make_variants(load('mazur'), ex.Exercise(ask=('forward', 'output_deltas'), update=('w5',)),"
            " count=3, seed=9); print(json.dumps([ex.key_document(v) for v in vs], sort_keys=True))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert fresh.stdout.strip() == first


def test_roster_gives_one_variant_per_student(mazur):
    """A roster's IDs become the variants' students, in order."""
    vs = make_variants(mazur, Exercise(ask=("forward",)), roster=["s1", "s2", "s3"], seed=1)
    assert [(v.number, v.of, v.student) for v in vs] == [(1, 3, "s1"), (2, 3, "s2"), (3, 3, "s3")]
    assert ex.key_document(vs[1])["student"] == "s2"


# -- the good-variant rules --------------------------------------------------------------------

RELU_TEXT = """
title = "relu 2-2-1"
[[layers]]
neurons = ["i1", "i2"]
[[layers]]
neurons = ["h1", "h2"]
activation = "relu"
[[layers]]
neurons = ["o1"]
activation = "sigmoid"
[parameters]
w1 = {w1}
w2 = {w2}
w3 = 0.3
w4 = -0.4
w5 = 0.5
w6 = 0.6
b_h1 = {b}
b_h2 = 0.1
b_o1 = 0.2
[[samples]]
inputs = [{i1}, 0.5]
targets = [0.3]
[training]
learning_rate = 0.5
steps = 10
"""


def _relu(w1="0.4", w2="-0.2", b="0.1", i1="0.5"):
    return parse(RELU_TEXT.format(w1=w1, w2=w2, b=b, i1=i1), "relu.toml")


def _rules(variant, others=()):
    return {rule for rule, _ in ex.problems(variant, others)}


def test_a_good_variant_breaks_no_rule(mazur_set):
    """The drawn variants pass every rule, though dnet_o1/dw5 equals out_h1 by the network's form."""
    v = mazur_set[0]
    assert ex.problems(v, mazur_set[1:4]) == []
    key = {e.name: e.value for e in v.key}
    assert key["dnet_o1/dw5"] == key["out_h1"]


def test_kink_rule(monkeypatch):
    """A ReLU net input on (or near) the kink is refused; a set that cannot avoid it fails in one line."""
    on_kink = ex.variant_of(_relu(w1="0.4", w2="-0.2", b="-0.1"), Exercise())  # net_h1 = 0.2 - 0.1 - 0.1 = 0
    assert "kink" in _rules(on_kink)
    assert "kink" not in _rules(ex.variant_of(_relu(), Exercise()))
    monkeypatch.setattr(ex, "MAX_DRAWS", 5)
    zero = (sp.Integer(0), sp.Integer(0))
    with pytest.raises(SpecError, match=r"no good variant in 5 draws \(rejected for: kink") as err:
        make_variants(_relu(), Exercise(weights=zero, biases=zero), count=1, seed=0)
    assert "\n" not in str(err.value)


def test_saturation_rule(mazur):
    """A logistic output above 0.98 is refused."""
    big = [(n, sp.Integer(3)) for n, _ in mazur.initial]
    assert "saturated" in _rules(ex.variant_of(mazur.__class__(**{**mazur.__dict__, "initial": tuple(big)}),
                                               Exercise()))
    assert "saturated" not in _rules(ex.variant_of(mazur, Exercise()))


def test_coincidence_rule(mazur):
    """Two asked quantities equal to the decimals asked are refused (here net_h1 = net_h2)."""
    same = dict(mazur.initial)
    same.update(w3=same["w1"], w4=same["w2"])
    twin = mazur.__class__(**{**mazur.__dict__, "initial": tuple(same.items())})
    found = ex.problems(ex.variant_of(twin, Exercise(ask=("forward",))))
    assert ("coincide", "net_h1 and net_h2 agree to 4 decimals") in found


def test_equals_given_rule():
    """An asked quantity equal to a given value is refused (net_h1 = w1 when i1 = 1, w2 = 0 and b = 0)."""
    v = ex.variant_of(_relu(w1="0.4", w2="0", b="0", i1="1"), Exercise(ask=("forward",)))
    assert ("equals_given", "net_h1 and w1 agree to 4 decimals") in ex.problems(v)


def test_zero_gradient_rule(mazur):
    """A gradient asked that is 0 to the decimals asked is refused (i1 = 0 makes dE/dw1 zero)."""
    s = mazur.samples[0]
    zero_input = mazur.__class__(**{**mazur.__dict__, "samples": (s.__class__(
        (("i1", sp.Integer(0)), s.inputs[1]), s.targets),)})
    found = ex.problems(ex.variant_of(zero_input, Exercise()))
    assert any(rule == "zero_gradient" and "dE_total/dw1" in words for rule, words in found)


def test_copy_rule(mazur):
    """A variant too close to an earlier one is refused: a copied answer would not show."""
    a = ex.variant_of(mazur, Exercise(), number=1)
    close = dict(mazur.initial)
    close["w8"] += sp.Rational(1, 100)
    b = ex.variant_of(mazur.__class__(**{**mazur.__dict__, "initial": tuple(close.items())}), Exercise(), number=2)
    assert "copyable" in _rules(b, [a])
    assert "copyable" not in _rules(b, [])


def test_pairs_of_drawn_variants_differ_enough(mazur_set):
    """In the drawn set, every pair differs in at least half the asked quantities by 10 tolerances."""
    for i, a in enumerate(mazur_set):
        for b in mazur_set[i + 1:]:
            far = sum(1 for x, y in zip(a.key, b.key) if abs(Decimal(x.value) - Decimal(y.value)) > Decimal("0.0005"))
            assert far * 2 >= len(a.key), (a.number, b.number)


# -- rosters -----------------------------------------------------------------------------------

def test_roster_file_reading(tmp_path):
    """The 'student' column is read when a header names it; IDs are stripped."""
    roster = tmp_path / "class.csv"
    roster.write_text("name,Student\nAnn, s1 \nBo,s2\n\n")
    assert ex.read_roster(roster) == ["s1", "s2"]
    plain = tmp_path / "plain.csv"
    plain.write_text("a17\nb18\n")
    assert ex.read_roster(plain) == ["a17", "b18"]


@pytest.mark.parametrize("text, message", [
    ("id\ns1\ns2\ns1\n", r"roster.csv:4: student ID 's1' is already on line 2"),
    ("id\ns1\n,x\n", r"roster.csv:3: empty student ID"),
    ("id\n" + "x" * 65 + "\n", r"roster.csv:2: student ID 'x+…' is longer than 64 characters"),
    ("id\ns1\n\"s\x1b[2Jx\"\n", r"roster.csv:3: student ID .* must be ASCII letters"),
    ("id\nbad id\n", r"roster.csv:2: student ID 'bad id' must be ASCII"),
    ("id\n", r"roster.csv: no student IDs"),
])
def test_roster_errors(tmp_path, text, message):
    """Duplicate, empty, over-long and unsafe IDs are refused in one line naming the line."""
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(SpecError, match=message) as err:
        ex.read_roster(path)
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)


def test_roster_list_is_checked(mazur):
    """make_variants checks a roster given as a list as it checks a file's IDs."""
    with pytest.raises(SpecError, match="roster:2: student ID 'a' is already on line 1"):
        make_variants(mazur, Exercise(), roster=["a", "a"], seed=0)
    with pytest.raises(SpecError, match="count of variants or a roster"):
        make_variants(mazur, Exercise(), seed=0)


# -- the [exercise] table ----------------------------------------------------------------------

EXERCISE_TABLE = """
[exercise]
ask = ["forward", "output_deltas"]
update = ["w1", "w6"]
given = []
given_decimals = 3
value_decimals = 2
answer_decimals = 5
weights = [-1, 1]
inputs = [0, 1]
"""


def _mazur_with(table: str) -> str:
    return MAZUR_TEXT.replace("steps = 10000", "steps = 3") + table


def test_exercise_table_is_read(tmp_path):
    """Every key of [exercise] reaches the Exercise."""
    spec = parse(_mazur_with(EXERCISE_TABLE), "m.toml", default_name="m")
    e = ex.exercise_of(spec)
    assert (e.ask, e.update, e.given, e.given_decimals, e.answer_decimals) == (
        ("forward", "output_deltas"), ("w1", "w6"), (), 3, 5)
    assert e.weights == (-1, 1) and e.inputs == (0, 1) and e.biases is None
    assert e.tolerance == "0.000005"
    assert ex.exercise_of(spec, answer_decimals=3).tolerance == "0.0005"


@pytest.mark.parametrize("table, message", [
    ("[exercise]\nask = [\"forwards\"]\n", r"m.toml:\d+: exercise.ask: no quantity or group named 'forwards'"),
    ("[exercise]\nask = \"forward\"\n", r"m.toml:\d+: exercise.ask: must be a list of names"),
    ("[exercise]\nupdate = [\"b1\"]\n", r"m.toml:\d+: exercise.update: 'b1' is frozen"),
    ("[exercise]\nupdate = [\"w99\"]\n", r"m.toml:\d+: exercise.update: 'w99' is no weight or bias"),
    ("[exercise]\ngiven_decimals = 40\n", r"m.toml:\d+: exercise.given_decimals: must be between 1 and 12"),
    ("[exercise]\nweights = [1, -1]\n", r"m.toml:\d+: exercise.weights: low end 1 is above high end -1"),
    ("[exercise]\nweights = [0.111, 0.119]\n", r"m.toml:\d+: exercise.weights: holds no value with 2 decimals"),
    ("[exercise]\ntargets = [-1, 1]\nask = [\"forward\"]\n", None),
    ("[exercise]\nbogus = 1\n", r"m.toml:\d+: exercise.bogus: unknown key"),
    ("[exercise]\ngiven = [\"all\"]\n", r"m.toml:\d+: exercise.given: \"all\" would leave nothing"),
])
def test_exercise_table_errors(table, message):
    """Each bad [exercise] key is one line naming the key and its line."""
    text = _mazur_with(table)
    if message is None:  # a table that is fine
        ex.exercise_of(parse(text, "m.toml"))
        return
    with pytest.raises(SpecError, match=message) as err:
        ex.exercise_of(parse(text, "m.toml"))
    assert "\n" not in str(err.value)


def test_cli_reads_specs_with_an_exercise_table(tmp_path, capsys):
    """values and derive still read a spec with [exercise]; a bad one is exit 2, one line, with its line."""
    good = tmp_path / "good.toml"
    good.write_text(_mazur_with(EXERCISE_TABLE))
    assert main(["values", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    bad = tmp_path / "bad.toml"
    bad.write_text(_mazur_with("[exercise]\nvalue_decimals = \"two\"\n"))
    assert main(["values", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    line = len(_mazur_with("").splitlines()) + 2
    assert err.count("\n") == 0 and f"bad.toml:{line}: exercise.value_decimals: must be a whole number" in err
    assert main(["derive", str(bad), "--format", "md", "-o", "-"]) == 2
    assert "exercise.value_decimals" in capsys.readouterr().err


FORWARD_ONLY = RELU_TEXT.format(w1="0.4", w2="-0.2", b="0.1", i1="0.5").replace(
    "targets = [0.3]\n", "").split("[training]")[0] + '[exercise]\nask = ["forward"]\n'


def test_forward_only_spec_needs_no_targets_or_learning_rate(tmp_path, capsys):
    """A spec whose exercise asks only the forward pass may leave out targets and [training]."""
    spec = parse(FORWARD_ONLY, "fwd.toml", partial=True)
    assert spec.omitted == ("targets", "learning_rate")
    v = make_variants(spec, ex.exercise_of(spec), count=2, seed=0)[0]
    assert [n for n, _ in v.givens if n.startswith("target") or n == "eta"] == []
    assert_key_matches(v)
    path = tmp_path / "fwd.toml"
    path.write_text(FORWARD_ONLY)
    assert main(["values", str(path)]) == 2
    err = capsys.readouterr().err
    assert "targets" in err and "stepgrad exercise" in err and err.count("\n") == 1
    with pytest.raises(SpecError, match="samples\\[0\\].targets: missing"):
        parse(FORWARD_ONLY.replace('ask = ["forward"]', 'ask = ["errors"]'), "fwd.toml", partial=True)
    with pytest.raises(SpecError, match="training: missing table"):
        parse(FORWARD_ONLY.replace('ask = ["forward"]', 'ask = ["forward"]\nupdate = ["w1"]')
              .replace("[[samples]]\ninputs = [0.5, 0.5]", "[[samples]]\ninputs = [0.5, 0.5]\ntargets = [0.3]"),
              "fwd.toml", partial=True)


HUBER_TEXT = """
title = "huber 1-1"
error = {{ function = "huber", delta = 0.5 }}
[[layers]]
neurons = ["i1"]
[[layers]]
neurons = ["o1"]
activation = "identity"
[parameters]
w1 = {w1}
b_o1 = 0
[[samples]]
inputs = [1]
targets = [0.2]
[training]
learning_rate = 0.5
steps = 10
"""


def test_huber_kink_rule():
    """An output whose residual sits on the Huber loss's kink (|out - target| = delta) is refused."""
    on_kink = ex.variant_of(parse(HUBER_TEXT.format(w1="0.7"), "h.toml"), Exercise())  # r = 0.5 = delta
    assert "kink" in _rules(on_kink)
    assert "kink" not in _rules(ex.variant_of(parse(HUBER_TEXT.format(w1="0.9"), "h.toml"), Exercise()))


def test_exercise_of_overrides_are_checked(mazur):
    """Overrides from the command line are read as a spec's values and checked like them."""
    assert ex.exercise_of(mazur, weights=[0.1, 0.3]).weights == (sp.Rational(1, 10), sp.Rational(3, 10))
    with pytest.raises(SpecError, match="exercise.targets: targets must be between 0 and 1"):
        ex.exercise_of(load("sigmoid_bce_221"), targets=[-1, 1])
    with pytest.raises(SpecError, match="exercise.answer_decimals: must be a whole number between 1 and 12"):
        ex.exercise_of(mazur, answer_decimals=0)
    with pytest.raises(SpecError, match="exercise.ask: no quantity or group named 'w9\\+'"):
        ex.exercise_of(mazur, ask=["w9+"])


def test_exercise_asking_more_than_a_partial_spec_gives_is_refused():
    """A spec without targets or learning rate cannot be asked, by an override, for what needs them."""
    spec = parse(FORWARD_ONLY, "fwd.toml", partial=True)
    with pytest.raises(SpecError, match="exercise.ask: asks for quantities that need the targets"):
        ex.exercise_of(spec, ask=("errors",))
    with pytest.raises(SpecError, match="need the (targets|learning rate)"):
        ex.exercise_of(spec, ask=())


def test_every_drawn_variant_passes_every_rule_against_those_before(mazur_set):
    """make_variants keeps a draw only when problems() finds nothing, its predecessors included."""
    for k, v in enumerate(mazur_set):
        assert ex.problems(v, mazur_set[:k]) == [], v.number


def test_relu_network_with_everything_asked_is_mended_into_a_good_set():
    """A ReLU network asked for everything: no neuron off or on its kink, and the keys match the math."""
    spec = _relu()
    variants = make_variants(spec, Exercise(), count=4, seed=21)
    for v in variants:
        assert_key_matches(v)
        nets = [mpmath.mpf(e.value) for e in v.key if e.name in ("net_h1", "net_h2")]
        assert len(nets) == 2 and all(x >= mpmath.mpf("0.05") for x in nets)  # on: its gradients are asked


TANH_SOFTMAX = """
title = "t"
error = "{error}"
[[layers]]
neurons = ["i1"]
[[layers]]
neurons = ["o1", "o2"]
activation = "{act}"
[parameters]
w1 = {w}
w2 = -0.3
b_o1 = 0
b_o2 = 0
[[samples]]
inputs = [1]
targets = {targets}
[training]
learning_rate = 0.5
steps = 10
"""


@pytest.mark.parametrize("act, error, targets", [("tanh", "half_sse", "[0.2, -0.2]"),
                                                 ("softmax", "categorical_cross_entropy", "[1, 0]")])
def test_saturation_rule_for_tanh_and_softmax(act, error, targets):
    """|tanh| above 0.96 and a softmax probability above 0.98 are saturated; moderate ones are not."""
    def spec(w):
        return parse(TANH_SOFTMAX.format(act=act, error=error, targets=targets, w=w), "t.toml")
    assert "saturated" in _rules(ex.variant_of(spec("4"), Exercise()))
    assert "saturated" not in _rules(ex.variant_of(spec("0.4"), Exercise()))


def test_coincidence_is_to_the_decimals_asked(mazur):
    """Values that differ but round to the same text coincide: out_h1 0.593 and out_h2 0.597 at 1 decimal."""
    one = ex.problems(ex.variant_of(mazur, Exercise(ask=("forward",), answer_decimals=1)))
    assert ("coincide", "out_h1 and out_h2 agree to 1 decimal") in one
    four = ex.problems(ex.variant_of(mazur, Exercise(ask=("forward",), answer_decimals=4)))
    assert not any(rule == "coincide" for rule, _ in four)


def test_copies_of_equal_givens_do_not_coincide(mazur):
    """dnet_o1/dout_h1 (= w5) and dnet_o1/dout_h2 (= w6) only copy givens: w5 = w6 is no coincidence of
    theirs, though the products that use them (dE_o1/dout_h1, dE_o1/dout_h2) do coincide."""
    same = dict(mazur.initial)
    same["w6"] = same["w5"]
    spec = mazur.__class__(**{**mazur.__dict__, "initial": tuple(same.items())})
    words = [w for rule, w in ex.problems(ex.variant_of(spec, Exercise())) if rule == "coincide"]
    assert "dE_o1/dout_h1 and dE_o1/dout_h2 agree to 4 decimals" in words
    assert not any("dnet_o1/dout_h1" in w and "dnet_o1/dout_h2" in w for w in words)


def test_cli_refuses_an_exercise_naming_no_quantity(tmp_path, capsys):
    """values refuses [exercise] ask = ["dE_total/dw99"] in one line naming the key and its line."""
    bad = tmp_path / "bad.toml"
    bad.write_text(_mazur_with('[exercise]\nask = ["forward", "dE_total/dw99"]\n'))
    assert main(["values", str(bad)]) == 2
    err = capsys.readouterr().err
    line = len(_mazur_with("").splitlines()) + 2
    assert err.count("\n") == 1 and f"bad.toml:{line}: exercise.ask: no quantity or group named 'dE_total/dw99'" in err


def test_givens_are_the_values_computed_with(mazur_set):
    """Every given text is exactly the value the key is computed from (never a rounded copy)."""
    for v in mazur_set[:5]:
        exact = dict(v.spec.initial)
        exact.update(v.spec.samples[0].inputs)
        exact.update({naming.target(n): x for n, x in v.spec.samples[0].targets})
        exact["eta"] = v.spec.training.learning_rate
        assert {n: sp.Rational(t) for n, t in v.givens} == exact
    fine = load("mazur")
    values = dict(fine.initial)
    values["w1"] = sp.Rational("0.1234")
    v = ex.variant_of(fine.__class__(**{**fine.__dict__, "initial": tuple(values.items())}), Exercise())
    assert dict(v.givens)["w1"] == "0.1234" and dict(v.givens)["w2"] == "0.20"


def test_exercise_for_a_large_network_is_refused():
    """An [exercise] on a network of more than MAX_EXERCISE_PARAMETERS weights is one line, before any step is built."""
    text = """
[[layers]]
size = 40
[[layers]]
size = 80
activation = "sigmoid"
[initializer]
seed = 1
[[samples]]
inputs = { values }
targets = { targets }
[training]
learning_rate = 0.5
[exercise]
ask = ["forward"]
""".replace("{ values }", str([0.5] * 40)).replace("{ targets }", str([0.5] * 80))
    with pytest.raises(SpecError, match=r"big.toml:\d+: exercise: an exercise set is for networks of up to 2500 "
                                        r"weights and biases; this one has 3280"):
        parse(text, "big.toml")
    spec = parse(text.split("[exercise]")[0], "big.toml")
    with pytest.raises(SpecError, match="exercise.ask: an exercise set is for networks of up to 2500"):
        ex.exercise_of(spec)


def test_exercise_asking_nothing_is_refused(mazur):
    """An exercise whose every asked quantity is given is refused in one line."""
    with pytest.raises(SpecError, match="exercise.ask: leaves nothing to compute"):
        ex.exercise_of(mazur, ask=("forward",), given=("forward",))
