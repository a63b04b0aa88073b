"""Exports of an exercise set for learning management systems: Moodle XML, QTI 1.2 (Canvas) and QTI 2.1.

Each function takes the variants' answer keys (the ``key.json`` documents of
``stepgrad exercise``, in any order) and the exercise's title, and returns
the file's bytes; nothing here touches the file system.

* :func:`moodle_xml`: one Cloze question per variant, in a question category
  named after the exercise. A Cloze question holds every quantity of a variant
  as a NUMERICAL subquestion ``{1:NUMERICAL:=value:tolerance}``, so a quiz's
  random question from the category gives each student one whole variant (its
  given values and its answers together), which single numerical questions
  could not.
* :func:`qti12`: a QTI 1.2 package (what Canvas imports): one assessment per
  variant (a quiz each, which the teacher assigns to its student), one
  numerical item per quantity, marked right when the answer lies within
  value ± tolerance (``vargte``/``varlte``).
* :func:`qti21`: a QTI 2.1 package: one ``assessmentItem`` per variant with a
  float response per quantity, each compared with ``equal`` in the absolute
  tolerance mode, and an ``assessmentTest`` that selects one variant's item
  for each candidate.

Every string from a key document or the title (quantity names, their words,
given values, student IDs) is text to these files, never markup: it passes
through :mod:`.escape` (``xml`` for XML, ``cloze`` for Moodle's Cloze HTML);
identifiers are built from the variant's number and the answer's position
only. Numbers are written in plain positional notation (no exponent), which
Moodle's Cloze syntax and Canvas both read. Packages are zip files with
sorted entries and fixed timestamps: the same keys give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from ..symbolic.inputs import SpecError, one_line

from . import escape

__all__ = ["moodle_xml", "qti12", "qti21", "exports", "EXPORT_FILES", "variants_of", "KeyVariant", "KeyAnswer"]

#: The file names :func:`exports` gives each format.
EXPORT_FILES = {"moodle": "moodle-quiz.xml", "qti12": "canvas-qti12.zip", "qti21": "qti21.zip"}

#: A number as a key writes it: optional sign, digits, optional fraction and a short exponent.
_NUMBER = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,2})?")
#: The format line a key document carries (stepgrad.symbolic.exercise.key_document).
KEY_FORMAT = "stepgrad exercise key"

#: Namespaces and schema locations of the published bindings.
_CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
_QTI12_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
_QTI21_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: A fixed time for every zip entry (the earliest a zip can hold), so packages do not depend on the clock.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# -- The key documents, checked -------------------------------------------------------

@dataclass(frozen=True)
class KeyAnswer:
    """One quantity a student computes: its name, what it is, its value and the accepted absolute error."""

    name: str
    words: str
    value: Decimal
    tolerance: Decimal

    @property
    def low(self) -> Decimal:
        """The smallest accepted answer."""
        return self.value - self.tolerance

    @property
    def high(self) -> Decimal:
        """The largest accepted answer."""
        return self.value + self.tolerance


@dataclass(frozen=True)
class KeyVariant:
    """What the exports need of one variant's key: who it is for, what is given and what is asked."""

    number: int
    of: int
    student: str | None
    given: tuple[tuple[str, str], ...]
    rounded: tuple[int, tuple[str, ...]] | None
    answers: tuple[KeyAnswer, ...]


def _where(doc_index: int, doc: Any) -> str:
    number = doc.get("variant") if isinstance(doc, dict) else None
    return f"variant {number}'s key" if isinstance(number, int) else f"key document {doc_index + 1}"


def _text(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{where}: {field} must be text, not {type(value).__name__}")
    if len(value) > 2000:
        raise SpecError(f"{where}: {field} is longer than 2000 characters")
    return value


def _number(value: Any, where: str, field: str) -> Decimal:
    text = _text(value, where, field)
    if not _NUMBER.fullmatch(text):
        raise SpecError(f"{where}: {field} {text[:60]!r} is not a decimal number")
    return Decimal(text)


def _variant(doc_index: int, doc: Any) -> KeyVariant:
    where = _where(doc_index, doc)
    if not isinstance(doc, dict) or doc.get("format") != KEY_FORMAT or doc.get("version") != 1:
        raise SpecError(f"{where}: not a stepgrad exercise key (format {KEY_FORMAT!r}, version 1)")
    number, of = doc.get("variant"), doc.get("of")
    if not (isinstance(number, int) and isinstance(of, int) and 1 <= number <= of <= 100_000):
        raise SpecError(f"{where}: 'variant' and 'of' must be whole numbers with 1 <= variant <= of")
    student = doc.get("student")
    if student is not None:
        student = _text(student, where, "student")
    given = []
    for entry in _list(doc.get("given", []), where, "given"):
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: each 'given' entry must be a table with 'name' and 'value'")
        given.append((_text(entry.get("name"), where, "a given's name"),
                      _text(entry.get("value"), where, "a given's value")))
    rounded = None
    if doc.get("rounded_givens") is not None:
        table = doc["rounded_givens"]
        decimals = table.get("decimals") if isinstance(table, dict) else None
        if not isinstance(decimals, int) or not 0 <= decimals <= 30:
            raise SpecError(f"{where}: 'rounded_givens' needs 'decimals', a whole number from 0 to 30")
        names = tuple(_text(n, where, "a rounded given's name")
                      for n in _list(table.get("names", []), where, "rounded_givens.names"))
        rounded = (decimals, names)
    answers = []
    for entry in _list(doc.get("answers"), where, "answers"):
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: each 'answers' entry must be a table")
        name = _text(entry.get("name"), where, "an answer's name")
        tolerance = _number(entry.get("tolerance"), where, f"the tolerance of {name!r}")
        if tolerance < 0:
            raise SpecError(f"{where}: the tolerance of {name!r} is negative")
        answers.append(KeyAnswer(name, _text(entry.get("words", ""), where, f"the words of {name!r}"),
                              _number(entry.get("value"), where, f"the value of {name!r}"), tolerance))
    if not answers:
        raise SpecError(f"{where}: asks for no answer")
    return KeyVariant(number, of, student, tuple(given), rounded, tuple(answers))


def _list(value: Any, where: str, field: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"{where}: '{field}' must be a list")
    if len(value) > 10_000:
        raise SpecError(f"{where}: '{field}' has more than 10000 entries")
    return value


def variants_of(key_documents: Sequence[dict]) -> tuple[KeyVariant, ...]:
    """Check the key documents and return their variants in order of their numbers.

    >>> [v.number for v in variants_of([_sample_key(2), _sample_key(1)])]
    [1, 2]
    """
    if not key_documents:
        raise SpecError("no variant to export")
    variants = sorted((_variant(i, doc) for i, doc in enumerate(key_documents)), key=lambda v: v.number)
    for before, after in zip(variants, variants[1:]):
        if before.number == after.number:
            raise SpecError(f"two keys are for variant {after.number}")
    return tuple(variants)


def plain(number: Decimal) -> str:
    """A number in plain positional notation, as Moodle's Cloze syntax and Canvas read it.

    >>> plain(Decimal("3.775E-1")), plain(Decimal("-5e-05")), plain(Decimal("2E+2")), plain(Decimal("-0.0"))
    ('0.3775', '-0.00005', '200', '0.0')
    """
    text = format(number, "f")
    return text.lstrip("-") if number == 0 else text


# -- Shared wording -----------------------------------------------------------------------

def _heading(title: str, variant: KeyVariant, student: bool = True) -> str:
    """The variant's line: the title, its number and, with *student*, whom it is for.

    Text a system shows to whichever student it picks a variant for (Moodle's random
    question, QTI 2.1's selection) leaves the student out.
    """
    student = f", for {one_line(variant.student)}" if student and variant.student is not None else ""
    return f"{one_line(title)}: variant {variant.number} of {variant.of}{student}"


def _given_note(variant: KeyVariant) -> str:
    if variant.rounded is None or not variant.rounded[1]:
        return "Given values:"
    decimals, names = variant.rounded
    return (f"Given values ({', '.join(names)} rounded to {decimals} decimals; "
            "compute from the values as given):")


def _tolerance_words(answer: KeyAnswer) -> str:
    return f"within \u00b1{plain(answer.tolerance)}"


def _html_rows(cells: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> str:
    """An HTML table of already-escaped cells."""
    head = ("<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>") if header else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    return f"<table>{head}<tbody>{body}</tbody></table>"


# -- Moodle XML -------------------------------------------------------------------------------

def _category_path(title: str) -> str:
    # Moodle's own escaping of a category name in a path: '/' doubled, and a space
    # before a leading or after a trailing '/' (qformat_default::assemble_category_path).
    name = (one_line(title).strip() or "stepgrad exercise").replace("/", "//")  # Moodle trims names
    if name.startswith("/"):
        name = " " + name
    if name.endswith("/"):
        name += " "
    return "$course$/top/" + name


def _cloze_text(title: str, variant: KeyVariant) -> str:
    given = _html_rows([(f"<code>{escape.cloze(n)}</code>", escape.cloze(v)) for n, v in variant.given])
    asked = _html_rows(
        [(f"<code>{escape.cloze(a.name)}</code>", escape.cloze(a.words),
          f"{{1:NUMERICAL:={plain(a.value)}:{plain(a.tolerance)}}}", escape.cloze(_tolerance_words(a)))
         for a in variant.answers],
        header=("Quantity", "What it is", "Your answer", "Accepted"))
    return (f"<p>{escape.cloze(_heading(title, variant, student=False))}</p>"
            f"<p>{escape.cloze(_given_note(variant))}</p>{given}"
            f"<p>Compute:</p>{asked}")


def _moodle_question(title: str, variant: KeyVariant) -> str:
    name = escape.xml(escape.xml(_heading(title, variant)))
    return ("  <question type=\"cloze\">\n"
            f"    <name><text>{name}</text></name>\n"
            f"    <questiontext format=\"html\"><text>{escape.xml(_cloze_text(title, variant))}</text></questiontext>\n"
            "    <generalfeedback format=\"html\"><text></text></generalfeedback>\n"
            "    <penalty>0</penalty>\n"
            "    <hidden>0</hidden>\n"
            "  </question>\n")


def moodle_xml(key_documents: Sequence[dict], title: str, header: str | None = None) -> str:
    """A Moodle XML quiz: one Cloze question per variant, in the category named after *title*.

    *header*, when given, is written as an XML comment on the second line (the declaration is the first).

    >>> text = moodle_xml([_sample_key(1)], "Mazur's network")
    >>> "{1:NUMERICAL:=0.377500000000000:0.00005}" in text, text.count('<question type="cloze">')
    (True, 1)
    """
    variants = variants_of(key_documents)
    # Moodle's parser wants the XML declaration alone on the first line; the header comes second.
    lines = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if header is not None:
        lines.append(f"<!-- {escape.xml_comment(header)} -->\n")
    lines.append("<quiz>\n")
    lines.append("  <question type=\"category\">\n"
                 f"    <category><text>{escape.xml(escape.xml(_category_path(title)))}</text></category>\n"
                 "  </question>\n")
    lines += [_moodle_question(title, v) for v in variants]
    lines.append("</quiz>\n")
    return "".join(lines)


# -- Packages ----------------------------------------------------------------------------------

def _zip(files: dict[str, str], header: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, files[name].encode("utf-8"))
        if header is not None:
            archive.comment = one_line(header).encode("utf-8")[:60000]
    return buffer.getvalue()


def _manifest(identifier: str, resources: Sequence[tuple[str, str, str, tuple[str, ...]]]) -> str:
    """An IMS Content Packaging 1.1 manifest listing (identifier, type, file, dependencies) resources."""
    items = "".join(f'    <resource identifier="{rid}" type="{rtype}" href="{href}">\n'
                    f'      <file href="{href}"/>\n'
                    + "".join(f'      <dependency identifierref="{d}"/>\n' for d in needs)
                    + "    </resource>\n" for rid, rtype, href, needs in resources)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<manifest xmlns="{_CP_NS}" xmlns:xsi="{_XSI}" identifier="{identifier}"\n'
            f'  xsi:schemaLocation="{_CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd">\n'
            "  <metadata>\n    <schema>IMS Content</schema>\n    <schemaversion>1.1.4</schemaversion>\n  </metadata>\n"
            "  <organizations/>\n"
            f"  <resources>\n{items}  </resources>\n"
            "</manifest>\n")


def _variant_id(variant: KeyVariant) -> str:
    return f"variant-{variant.number:0{len(str(variant.of))}d}"


# -- QTI 1.2 --------------------------------------------------------------------------------------

def _qti12_html(title: str, variant: KeyVariant, answer: KeyAnswer) -> str:
    given = _html_rows([(f"<code>{escape.xml(n)}</code>", escape.xml(v)) for n, v in variant.given])
    return (f"<p>{escape.xml(_heading(title, variant))}</p>"
            f"<p>{escape.xml(_given_note(variant))}</p>{given}"
            f"<p>Compute <code>{escape.xml(answer.name)}</code> ({escape.xml(answer.words)}), "
            f"{escape.xml(_tolerance_words(answer))}.</p>")


def _field(label: str, entry: str) -> str:
    return (f"<qtimetadatafield><fieldlabel>{label}</fieldlabel>"
            f"<fieldentry>{entry}</fieldentry></qtimetadatafield>")


def _qti12_item(title: str, variant: KeyVariant, index: int, answer: KeyAnswer) -> str:
    ident = f"{_variant_id(variant)}-q{index:02d}"
    return (f'        <item ident="{ident}" title="{escape.xml(one_line(answer.name))}">\n'
            "          <itemmetadata><qtimetadata>"
            f"{_field('question_type', 'numerical_question')}{_field('points_possible', '1')}"
            "</qtimetadata></itemmetadata>\n"
            "          <presentation>\n"
            "            <material><mattext texttype=\"text/html\">"
            f"{escape.xml(_qti12_html(title, variant, answer))}</mattext></material>\n"
            '            <response_str ident="response1" rcardinality="Single">'
            '<render_fib fibtype="Decimal"><response_label ident="answer1"/></render_fib></response_str>\n'
            "          </presentation>\n"
            "          <resprocessing>\n"
            '            <outcomes><decvar varname="SCORE" vartype="Decimal" minvalue="0" maxvalue="100"/></outcomes>\n'
            '            <respcondition continue="No">\n'
            f'              <conditionvar><vargte respident="response1">{plain(answer.low)}</vargte>'
            f'<varlte respident="response1">{plain(answer.high)}</varlte></conditionvar>\n'
            '              <setvar varname="SCORE" action="Set">100</setvar>\n'
            "            </respcondition>\n"
            "          </resprocessing>\n"
            "        </item>\n")


def _qti12_assessment(title: str, variant: KeyVariant) -> str:
    items = "".join(_qti12_item(title, variant, i, a) for i, a in enumerate(variant.answers, 1))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<questestinterop xmlns="{_QTI12_NS}" xmlns:xsi="{_XSI}"\n'
            f'  xsi:schemaLocation="{_QTI12_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd">\n'
            f'  <assessment ident="stepgrad-{_variant_id(variant)}"'
            f' title="{escape.xml(_heading(title, variant))}">\n'
            '    <section ident="root_section">\n'
            f"{items}"
            "    </section>\n"
            "  </assessment>\n"
            "</questestinterop>\n")


def qti12(key_documents: Sequence[dict], title: str, header: str | None = None) -> bytes:
    """A QTI 1.2 package (zip) Canvas imports: an assessment per variant (a quiz each, to assign to its
    student), an item per quantity.

    One assessment holding every variant would show each student every variant's questions:
    a QTI 1.2 section cannot be picked whole for a student, so each variant is its own quiz.
    *header*, when given, is the zip's comment.

    >>> import zipfile, io
    >>> sorted(zipfile.ZipFile(io.BytesIO(qti12([_sample_key(1), _sample_key(2)], "Mazur"))).namelist())
    ['assessments/variant-1.xml', 'assessments/variant-2.xml', 'imsmanifest.xml']
    """
    variants = variants_of(key_documents)
    files = {f"assessments/{_variant_id(v)}.xml": _qti12_assessment(title, v) for v in variants}
    files["imsmanifest.xml"] = _manifest("stepgrad-qti12", [
        (_variant_id(v), "imsqti_xmlv1p2", f"assessments/{_variant_id(v)}.xml", ()) for v in variants])
    return _zip(files, header)


# -- QTI 2.1 ------------------------------------------------------------------------------------------

def _qti21_item(title: str, variant: KeyVariant) -> str:
    ids = [f"R{i:02d}" for i in range(1, len(variant.answers) + 1)]
    declarations = "".join(
        f'  <responseDeclaration identifier="{rid}" cardinality="single" baseType="float">'
        f"<correctResponse><value>{plain(a.value)}</value></correctResponse></responseDeclaration>\n"
        for rid, a in zip(ids, variant.answers))
    given = "".join(f"<tr><td><code>{escape.xml(n)}</code></td><td>{escape.xml(v)}</td></tr>"
                    for n, v in variant.given)
    asked = "".join(
        f"<tr><td><code>{escape.xml(a.name)}</code></td><td>{escape.xml(a.words)}</td>"
        f'<td><textEntryInteraction responseIdentifier="{rid}" expectedLength="20"/></td>'
        f"<td>{escape.xml(_tolerance_words(a))}</td></tr>"
        for rid, a in zip(ids, variant.answers))
    given_table = f"    <table><tbody>{given}</tbody></table>\n" if given else ""
    conditions = "".join(
        "    <responseCondition><responseIf>"
        f'<equal toleranceMode="absolute" tolerance="{plain(a.tolerance)}">'
        f'<variable identifier="{rid}"/><correct identifier="{rid}"/></equal>'
        '<setOutcomeValue identifier="SCORE"><sum><variable identifier="SCORE"/>'
        '<baseValue baseType="float">1</baseValue></sum></setOutcomeValue>'
        "</responseIf></responseCondition>\n"
        for rid, a in zip(ids, variant.answers))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<assessmentItem xmlns="{_QTI21_NS}" xmlns:xsi="{_XSI}"\n'
            f'  xsi:schemaLocation="{_QTI21_NS} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"\n'
            f'  identifier="{_variant_id(variant)}" title="{escape.xml(_heading(title, variant, student=False))}"'
            ' adaptive="false" timeDependent="false">\n'
            f"{declarations}"
            '  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">'
            "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>\n"
            '  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
            f"<defaultValue><value>{len(ids)}</value></defaultValue></outcomeDeclaration>\n"
            "  <itemBody>\n"
            f"    <p>{escape.xml(_heading(title, variant, student=False))}</p>\n"
            f"    <p>{escape.xml(_given_note(variant))}</p>\n"
            f"{given_table}"
            "    <p>Compute:</p>\n"
            "    <table><thead><tr><th>Quantity</th><th>What it is</th><th>Your answer</th><th>Accepted</th></tr>"
            f"</thead><tbody>{asked}</tbody></table>\n"
            "  </itemBody>\n"
            "  <responseProcessing>\n"
            f"{conditions}"
            "  </responseProcessing>\n"
            "</assessmentItem>\n")


def _qti21_test(title: str, variants: Sequence[KeyVariant]) -> str:
    """An assessmentTest whose one section selects one variant's item for each candidate."""
    refs = "".join(f'      <assessmentItemRef identifier="{_variant_id(v)}" href="items/{_variant_id(v)}.xml"/>\n'
                   for v in variants)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<assessmentTest xmlns="{_QTI21_NS}" xmlns:xsi="{_XSI}"\n'
            f'  xsi:schemaLocation="{_QTI21_NS} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"\n'
            f'  identifier="stepgrad-exercise" title="{escape.xml(one_line(title))}">\n'
            '  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>\n'
            '  <testPart identifier="part" navigationMode="nonlinear" submissionMode="simultaneous">\n'
            f'    <assessmentSection identifier="variants" title="{escape.xml(one_line(title))}" visible="true">\n'
            '      <selection select="1"/>\n'
            f"{refs}"
            "    </assessmentSection>\n"
            "  </testPart>\n"
            '  <outcomeProcessing><setOutcomeValue identifier="SCORE"><sum>'
            '<testVariables variableIdentifier="SCORE"/></sum></setOutcomeValue></outcomeProcessing>\n'
            "</assessmentTest>\n")


def qti21(key_documents: Sequence[dict], title: str, header: str | None = None) -> bytes:
    """A QTI 2.1 package (zip): an ``assessmentItem`` per variant, a test that gives each candidate one
    of them (``selection select="1"``), and the manifest listing them.

    *header*, when given, is the zip's comment.

    >>> import zipfile, io
    >>> sorted(zipfile.ZipFile(io.BytesIO(qti21([_sample_key(1)], "Mazur"))).namelist())
    ['imsmanifest.xml', 'items/variant-1.xml', 'test.xml']
    """
    variants = variants_of(key_documents)
    files = {f"items/{_variant_id(v)}.xml": _qti21_item(title, v) for v in variants}
    files["test.xml"] = _qti21_test(title, variants)
    items = [(_variant_id(v), "imsqti_item_xmlv2p1", f"items/{_variant_id(v)}.xml", ()) for v in variants]
    test = ("test", "imsqti_test_xmlv2p1", "test.xml", tuple(_variant_id(v) for v in variants))
    files["imsmanifest.xml"] = _manifest("stepgrad-qti21", [test, *items])
    return _zip(files, header)


def exports(key_documents: Sequence[dict], title: str, header: str | None = None) -> dict[str, bytes]:
    """Every export, by file name (:data:`EXPORT_FILES`): Moodle XML, the QTI 1.2 and the QTI 2.1 package.

    >>> sorted(exports([_sample_key(1)], "Mazur"))
    ['canvas-qti12.zip', 'moodle-quiz.xml', 'qti21.zip']
    """
    return {EXPORT_FILES["moodle"]: moodle_xml(key_documents, title, header).encode("utf-8"),
            EXPORT_FILES["qti12"]: qti12(key_documents, title, header),
            EXPORT_FILES["qti21"]: qti21(key_documents, title, header)}


def _sample_key(number: int) -> dict:
    """A small key document, as stepgrad exercise writes them (for the examples above)."""
    return {"format": KEY_FORMAT, "version": 1, "title": "Mazur", "spec": "mazur", "seed": 7,
            "variant": number, "of": 2, "student": None,
            "given": [{"name": "w1", "value": "0.15"}, {"name": "i1", "value": "0.05"}],
            "rounded_givens": None,
            "answers": [{"name": "net_h1", "value": "0.377500000000000", "tolerance": "0.00005",
                         "words": "net input of h1"}]}
