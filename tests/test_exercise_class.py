"""Marking a class that was set an exercise: each student against their own variant, every injected
mistake named for the right student, and the copied answer sets flagged as the variant they come from.

Each student's answers are computed here by the independent forward and backward pass of
tests/check_support.py (mpmath, written from the math) on the student's own variant's network, with
a mistake injected as its knobs (:class:`Slip`); stepgrad's key and derivation are not used to make them.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import mpmath
import pytest

from stepgrad.codegen import cli, marking, variants_marking
from stepgrad.symbolic import exercise as ex
from stepgrad.symbolic.check import Options
from stepgrad.symbolic.spec import SpecError, load

from .check_support import Slip, compute, written

SEED = 7
COUNT = 30
#: Students per injected mistake, the mistake as the knobs of the independent computation.
MISTAKES = {
    "update-sign": (3, Slip(update_sign=-1)),
    "sign-error": (3, Slip(dEdout_sign=-1)),
    "missing-activation-derivative": (3, Slip(act_derivative={2: "one"})),
    "missing-half": (3, Slip(half="d")),
    "eta-one": (3, Slip(eta="1")),
    "updated-weights-used": (3, Slip(hidden_updated=True)),
    "net-for-out": (2, Slip(skip_activation={"h1"})),
    "wrong-target": (2, Slip(targets={"o1": "o2"})),
}
RIGHT = 6
#: Student -> the variant whose right answers they hand in (not their own).
COPIES = {"s29": 12, "s30": 3}


def header(variant: int, student: str | None = None) -> str:
    """The header line the answers template of a variant starts with."""
    return f"# stepgrad exercise variant {variant} of {COUNT}, seed {SEED}" + (f", student {student}" if student else "")


def independent(spec, slip: Slip | None = None) -> dict:
    """Every quantity a key asks, by the independent pass, with the chain rule's single factors: dnet/dw is
    the source's output, dnet_o/dout_h the weight used, dE_o/dout_h the output's delta times it."""
    slip = slip or Slip()
    values = compute(spec, slip)
    given = {k: mpmath.mpf(x.p) / x.q for k, x in spec.samples[0].inputs}
    params = {k: mpmath.mpf(x.p) / x.q for k, x in spec.initial}
    eta = mpmath.mpf(str(slip.eta)) if slip.eta is not None else \
        mpmath.mpf(spec.training.learning_rate.p) / spec.training.learning_rate.q
    outputs = set(spec.layers[-1].neurons)
    for w in spec.weights:
        out_src = values.get(f"out_{w.src}", given.get(w.src))
        values[f"dnet_{w.dst}/d{w.name}"] = out_src
        if w.dst in outputs:
            weight = params[w.name] - (eta * values[f"delta_{w.dst}"] * out_src if slip.hidden_updated else 0)
            values[f"dnet_{w.dst}/dout_{w.src}"] = weight
            values[f"dE_{w.dst}/dout_{w.src}"] = values[f"delta_{w.dst}"] * weight
    return values


def answers_text(variant, slip: Slip | None, head: str) -> str:
    """A student's answers file: every quantity the variant's key asks, worked out under *slip*."""
    values = independent(variant.spec, slip)
    missing = [e.name for e in variant.key if e.name not in values]
    assert not missing, f"the independent computation lacks {missing}"
    return head + "\n" + "".join(f'"{e.name}" = {written(values[e.name], 6)}\n' for e in variant.key)


def write_exercise(folder: Path, spec, variants) -> None:
    """The exercise folder as the contract fixes it: index.json, and each variant's key.json."""
    folder.mkdir(parents=True)
    index = {"format": "stepgrad exercise index", "version": 1, "title": spec.title, "spec": spec.name,
             "seed": SEED, "count": len(variants), "exercise": variants[0].exercise.summary(),
             "variants": [{"variant": v.number, "student": v.student, "folder": f"variant-{v.number:02d}"}
                          for v in variants]}
    (folder / "index.json").write_text(json.dumps(index, indent=2))
    for v in variants:
        (folder / f"variant-{v.number:02d}").mkdir()
        (folder / f"variant-{v.number:02d}" / "key.json").write_text(json.dumps(ex.key_document(v), indent=2))


@pytest.fixture(scope="module")
def post():
    """The post's spec and its exercise's 30 variants (seed 7)."""
    spec = load("mazur")
    return spec, ex.make_variants(spec, ex.exercise_of(spec), count=COUNT, seed=SEED)


@pytest.fixture(scope="module")
def folder(post, tmp_path_factory) -> Path:
    """The exercise folder of the 30 variants."""
    spec, variants = post
    where = tmp_path_factory.mktemp("exercise") / "set"
    write_exercise(where, spec, variants)
    return where


def make_class(subs: Path, variants) -> dict[str, str]:
    """30 students, student k with variant k: right sheets, injected mistakes and two copied sets."""
    subs.mkdir()
    plan = [("right", None)] * RIGHT + [(code, slip) for code, (n, slip) in MISTAKES.items() for _ in range(n)]
    plan += [("copied", None)] * len(COPIES)
    assert len(plan) == COUNT
    out = {}
    for k, (what, slip) in enumerate(plan, start=1):
        student = f"s{k:02d}"
        source = variants[COPIES[student] - 1] if student in COPIES else variants[k - 1]
        (subs / f"{student}.toml").write_text(answers_text(source, slip, header(k)), encoding="utf-8")
        out[student] = what
    return out


def test_keys_agree_with_the_independent_computation(post):
    """Every variant's key is the independent forward and backward pass of the variant's network."""
    _, variants = post
    for v in variants:
        values = independent(v.spec)
        for e in v.key:
            assert abs(Decimal(e.value) - Decimal(str(values[e.name]))) <= Decimal("1e-12"), (v.number, e.name)


def test_a_class_of_thirty_variants(post, folder, tmp_path):
    """Each injected mistake is named for the student who made it, the right sheets score full marks, and
    exactly the two copied answer sets are flagged with the variant they come from."""
    _, variants = post
    plan = make_class(tmp_path / "subs", variants)
    out = tmp_path / "out"
    code = cli.main(["check", "mazur", "--exercise", str(folder), str(tmp_path / "subs"), "-o", str(out),
                     "--format", "json"])
    assert code == 0
    rows = {r["student"]: r for r in csv.DictReader((out / marking.SUMMARY_CSV).open(encoding="utf-8"))}
    assert sorted(rows) == sorted(plan)
    for student, what in plan.items():
        row = rows[student]
        assert row["variant"] == str(int(student[1:])), student
        assert row["error"] == "", student
        if what == "right":
            assert row["codes"] == "" and row["score"] == row["total"], (student, row)
        elif what == "copied":
            assert row["copied_from"] == str(COPIES[student]), (student, row)
        else:
            assert what in row["codes"].split(), (student, what, row["codes"])
        if what != "copied":
            assert row["copied_from"] == "", (student, row)
    summary = json.loads((out / variants_marking.SUMMARY_JSON).read_text(encoding="utf-8"))
    assert sorted((c["student"], c["copied_from"]) for c in summary["copied"]) == sorted(COPIES.items())
    counts = {m["code"]: m["students"] for m in summary["mistakes"]}
    for code_, (n, _) in MISTAKES.items():
        assert counts.get(code_, 0) >= n, code_
    table = (out / marking.MISTAKES_MD).read_text(encoding="utf-8")
    for student, other in COPIES.items():
        assert f"`{student}` (variant {int(student[1:])}): these numbers are variant {other}'s." in table
    feedback = json.loads((out / "s29-feedback.json").read_text(encoding="utf-8"))
    assert feedback["exercise"]["variant"] == 29 and feedback["exercise"]["copied_from"] == 12
    assert any("variant 12's" in n for n in feedback["exercise"]["notes"])
