"""misread-given: one digit edit of a given value (a dropped or extra zero, swapped digits, the sign)."""

from decimal import Decimal

from ...evaluate import exact_decimal
from ..program import Candidate
from . import mistake


def edits_of(text: str) -> list[tuple[str, str]]:
    """The one-edit misreadings of a decimal: (new text, how).

    >>> [t for t, _ in edits_of("0.05")]
    ['0.5', '0.005', '-0.05']
    """
    neg = text.startswith("-")
    body = text.lstrip("-")
    sign = "-" if neg else ""
    out: list[tuple[str, str]] = []
    if "." in body:
        head, tail = body.split(".")
        if tail.startswith("0") and len(tail) > 1:
            out.append((f"{sign}{head}.{tail[1:]}", "a zero dropped"))
        out.append((f"{sign}{head}.0{tail}", "an extra zero"))
        digits = head + tail
        for j in range(len(digits) - 1):
            if digits[j] != digits[j + 1]:
                sw = digits[:j] + digits[j + 1] + digits[j] + digits[j + 2:]
                out.append((f"{sign}{sw[:len(head)]}.{sw[len(head):]}", "two digits swapped"))
    out.append((body if neg else "-" + body, "the sign"))
    seen, unique = {Decimal(text)}, []
    for t, how in out:
        value = Decimal(t)
        if value not in seen:
            seen.add(value)
            unique.append((t, how))
    return unique


@mistake("misread-given", 6, "A given number misread by one edit: a zero dropped or added, two digits swapped, the sign.")
def generate(ctx):
    for name in sorted(ctx.ev.exact_leaves):
        if name == "eta":
            continue
        text = exact_decimal(ctx.ev.exact_leaves[name])
        if text is None or not ctx.using(name):
            continue
        for new, how in edits_of(text):
            value = float(Decimal(new))
            if value == 1.0:
                continue
            yield Candidate("misread-given", 6, f"You read {name} = {text} as {new} ({how}).",
                            f"misread:{name}:{new}", leaves=((name, value),))
