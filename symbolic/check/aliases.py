"""The names students write, mapped to stepgrad's canonical quantities: the one table of aliases.

An answers file's keys and the names inside a formula may be written the way
the post, a textbook or a LaTeX editor writes them.  Each spelling below is
read as the canonical name on the right (``stepgrad values SPEC`` lists those):

======================================  ===================================
written                                  canonical
======================================  ===================================
``δ_o1``, ``\\delta_{o1}``               ``delta_o1``
``dE_total/dnet_o1``, ``∂E/∂net_o1``     ``delta_o1`` (where δ is a step)
``dE/dw5``, ``∂E/∂w5``, ``∂E_total/∂w5`` ``dE_total/dw5``
``\\frac{\\partial E_{total}}{\\partial w_5}``  ``dE_total/dw5``
``dE_total_dw5``, ``w5_plus``            ``dE_total/dw5``, ``w5+``
``w_5^{+}``, ``w5^+``                    ``w5+``
``E``                                    ``E_total``
``t_o1``, ``y_o1``, ``target_o1``        ``target_o1``
``net_{h2,1}``                           ``net_h2_1``
``out_h1[2]``, ``out_h1^{(2)}``          ``out_h1[2]`` (sample 2)
======================================  ===================================

Names are taken apart and put together with :mod:`symbolic.naming` only.
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Iterable

from .. import naming

#: Unicode a student pastes, as the ASCII the name reader takes.
_UNICODE = (("∂", "d"), ("δ", "delta"), ("η", "eta"), ("Δ", "delta"))
#: A sample written as a LaTeX superscript: out_h1^{(2)} or out_h1^(2).
_LATEX_SAMPLE = re.compile(r"\^\{?\((\d{1,6})\)\}?\Z")
#: Target spellings in formulas and keys: t_o1 and y_o1 are target_o1.
TARGET_PREFIXES = ("t_", "y_")


def formula_aliases(names: Iterable[str]) -> dict[str, str]:
    """Extra identifiers a formula may use (cached: every formula of a file has the same names)."""
    key = frozenset(names)
    if key not in _ALIASES:
        if len(_ALIASES) >= 8:
            _ALIASES.clear()
        _ALIASES[key] = _formula_aliases(key)
    return _ALIASES[key]


_ALIASES: dict[frozenset, dict[str, str]] = {}


def _formula_aliases(names: Iterable[str]) -> dict[str, str]:
    """Extra identifiers a formula may use, each mapped to its canonical name.

    >>> formula_aliases(["target_o1", "delta_o1", "dE_total/dw5", "E_total"])["t_o1"]
    'target_o1'
    >>> formula_aliases(["dE_total/dw5", "E_total"])["dE_dw5"]
    'dE_total/dw5'
    """
    names = set(names)
    out: dict[str, str] = {}
    for name in sorted(names):
        base, sample = naming.split_sample(name)
        tail = f"_s{sample}" if sample is not None else ""
        neuron = naming.split_neuron(base)
        if neuron and neuron[0] == "target":
            for prefix in TARGET_PREFIXES:
                out[f"{prefix}{neuron[1]}{tail}"] = name
        if neuron and neuron[0] == "delta":
            out[f"δ_{neuron[1]}{tail}"] = name
            for num in (naming.E_TOTAL, "E"):
                out[naming.ident(naming.d(num, naming.net(neuron[1]))) + tail] = name
        parts = naming.split_d(base)
        if parts and parts[0] == naming.E_TOTAL:
            out[naming.ident(naming.d("E", parts[1])) + tail] = name
    if naming.E_TOTAL in names:
        out["E"] = naming.E_TOTAL
    return {k: v for k, v in out.items() if k not in names and k.isidentifier()}


def _plain(text: str) -> str:
    """A key as plain ASCII without spaces or $: δ_o1 -> delta_o1, ∂E/∂w5 -> dE/dw5."""
    text = text.strip().strip("$").strip()
    if "\\" not in text:  # a LaTeX command needs the space after it: \partial E
        text = re.sub(r"\s+", "", text)
    for old, new in _UNICODE:
        text = text.replace(old, new)
    return text


def canonical(key: str, known: Callable[[str], bool], names: Iterable[str]) -> str | None:
    """The canonical quantity an answers file's *key* stands for, or None.

    *known* says whether a canonical name is a quantity of this check; *names*
    are the canonical names a formula may use (for LaTeX keys).

    >>> known = {"delta_o1", "dE_total/dw5", "w5+", "out_h1", "dE_total/dout_o1"}.__contains__
    >>> [canonical(k, known, ()) for k in ("δ_o1", "dE_total/dnet_o1", "∂E/∂w5", "w5_plus")]
    ['delta_o1', 'delta_o1', 'dE_total/dw5', 'w5+']
    """
    if known(key):
        return key
    text = _plain(key)
    if not text or len(text) > 200:
        return None
    base, rounds = naming.split_after(text)
    sample = None
    m = _LATEX_SAMPLE.search(base)
    if m:
        base, sample = base[:m.start()], int(m.group(1))
    else:
        base, sample = naming.split_sample(base)

    def whole(name: str) -> str:
        if sample is not None:
            name = f"{name}[{sample}]"
        return naming.after(name, rounds) if rounds is not None else name

    for name in _spellings(base, names):
        if known(whole(name)):
            return whole(name)
    return None


def _spellings(base: str, names: Iterable[str]) -> list[str]:
    """Canonical names *base* may stand for, most literal first."""
    out = [base]
    idents = _idents(names)
    if base in idents:
        out.append(idents[base])
    plus = re.fullmatch(r"(.+?)(?:\^\{?\+\}?|_plus)", base)
    if plus:
        out.append(naming.updated(_simple(plus.group(1))))
    parts = naming.split_d(base)
    if parts is not None:
        num, den = (_simple(p) for p in parts)
        out.append(naming.d(num, den))
        neuron = naming.split_neuron(den)
        if num == naming.E_TOTAL and neuron and neuron[0] == "net":
            out.append(naming.delta(neuron[1]))
    out.append(_simple(base))
    if "\\" in base or "{" in base:
        out.extend(_latex(base, names))
    return out


_IDENTS: list = [None, {}]  # the last names object seen and its identifier map (one checker reads many keys)


def _idents(names: Iterable[str]) -> dict[str, str]:
    """Each canonical name by its identifier (dE_total_dw5 -> dE_total/dw5), made once per names object."""
    if _IDENTS[0] is not names:
        _IDENTS[:] = [names, {naming.ident(n): n for n in names if _identifiable(n)}]
    return _IDENTS[1]


def _identifiable(name: str) -> bool:
    try:
        naming.ident(name)
    except ValueError:
        return False
    return True


def _simple(name: str) -> str:
    """One quantity's name without derivative or update: E -> E_total, t_o1 -> target_o1, net_{h2,1} -> net_h2_1."""
    name = re.sub(r"_\{([^{}]*)\}", lambda m: "_" + m.group(1).replace(",", "_"), name)
    name = re.sub(r"\\delta_?", "delta_", name)
    if name == "E":
        return naming.E_TOTAL
    for prefix in TARGET_PREFIXES:
        if name.startswith(prefix):
            return naming.target(name[len(prefix):])
    m = re.fullmatch(r"([A-Za-z]+)_(\d+)", name)  # w_5 is w5
    if m and m.group(1) not in ("net", "out", "delta", "target", "E", "b"):
        return m.group(1) + m.group(2)
    return name


def _latex(text: str, names: Iterable[str]) -> list[str]:
    """The canonical name a LaTeX key like \\frac{\\partial E_{total}}{\\partial w_5} reads as."""
    from .. import formula
    try:
        expr = formula.parse_latex(text, set(names))
    except (formula.FormulaError, RecursionError, ValueError):
        return []
    return [expr.name] if expr.is_Symbol else []


def suggestion(key: str, valid: list[str]) -> str:
    """What to say about an unknown *key*: every sample's name when it is one per sample, or the
    closest *different* valid name.

    >>> suggestion("out_h1", ["out_h1[1]", "out_h1[2]", "out_h2[1]"])
    "; it is computed once per sample: write 'out_h1[1]' or 'out_h1[2]'"
    >>> suggestion("out_h1", ["out_h2"])
    "; did you mean 'out_h2'?"
    """
    per_sample = [n for n in valid if naming.split_sample(n)[0] == key and n != key]
    if per_sample:
        shown = " or ".join(repr(n) for n in per_sample[:4])
        return f"; it is computed once per sample: write {shown}"
    hint = [h for h in difflib.get_close_matches(key[:100], valid, n=3, cutoff=0.5) if h != key]
    return f"; did you mean {hint[0]!r}?" if hint else ""


#: Inside a plain-text formula: a derivative's name written with '/' (with an optional sample,
#: dE_total/dw5[2]) or any name with its sample (out_h1[2]).
_SLASHED = re.compile(r"(?<![A-Za-z0-9_])(?:[d∂][A-Za-z][A-Za-z0-9_]*/[d∂][A-Za-z][A-Za-z0-9_]*(?:\[\d{1,6}\])?"
                      r"|[A-Za-z][A-Za-z0-9_]*\[\d{1,6}\])")


def formula_identifiers(text: str, known: Callable[[str], bool], names: Iterable[str]) -> str:
    """A plain-text formula with each derivative written with '/' and each name with a sample as the
    identifier the formula reader takes: 'dE_total/dnet_o1*out_h1' -> 'delta_o1*out_h1', out_h1[2] ->
    out_h1_s2 (LaTeX is left alone).

    >>> formula_identifiers("dE/dout_o1*dout_o1/dnet_o1", {"dE_total/dout_o1", "dout_o1/dnet_o1"}.__contains__, ())
    'dE_total_dout_o1*dout_o1_dnet_o1'
    """
    if "\\" in text or "{" in text:
        return text
    names = set(names)

    def usable(name: str) -> bool:  # per-sample formulas may name a quantity without its sample
        return known(name) or name in names

    def ident(m: re.Match) -> str:
        name = canonical(m.group(), usable, names)
        return naming.ident(name) if name is not None else m.group()

    return _SLASHED.sub(ident, text)
