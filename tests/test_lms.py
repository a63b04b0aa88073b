"""LMS exports: Moodle XML, QTI 1.2 and QTI 2.1 carry every key's values and tolerances, safely and byte-stably.

Numbers are read back the way each system reads them (Moodle's own Cloze
expressions, ported; the QTI elements' text) and compared with the key
documents' decimal text as exact decimals. Schemas: the IMS Content Packaging
1.1.4 schema (imscp_v1p1.xsd, as published, vendored under
tests/data/schemas/imscp_v1p1/) validates both manifests; the QTI 1.2 and 2.1
XSDs could not be obtained from a package registry, so the items are checked
against subsets written from those bindings (tests/data/schemas/*-subset.xsd,
each says so in its header).
"""

from __future__ import annotations

import copy
import functools
import html
import html.parser
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from stepgrad.codegen import lms
from stepgrad.symbolic.inputs import SpecError, one_line

from . import strategies as S

SCHEMAS = Path(__file__).parent / "data" / "schemas"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"

#: Text a student or teacher could put anywhere: XML, CDATA and Cloze syntax, HTML, control characters.
HOSTILE = ("</question>]]><script>alert(1)</script>{1:NUMERICAL:=1:0}{#1}~#=:\\ & \"q\" 'a'"
           " /top// \x00\x1b[31m\x0c\u202e\ud800 end/")


# -- Key documents -------------------------------------------------------------------------

def key(number: int, of: int = 3, *, student: str | None = None, title: str = "Mazur's network",
        answers: list[tuple[str, str, str, str]] | None = None, given=None, rounded=None) -> dict:
    """A key document of the contract's form, with the blog's forward-pass figures by default."""
    answers = answers or [("net_h1", "0.377500000000000", "0.00005", "net input of h1"),
                          ("out_h1", "0.593269992107187", "0.00005", "output of h1"),
                          ("E_total", "0.298371108760003", "0.00005", "total error"),
                          ("w5_plus", "0.358916479717885", "0.000005", "updated w5"),
                          ("delta_o1", "-0.0000123456789012345", "0.0000000005", "delta of o1")]
    return {"format": "stepgrad exercise key", "version": 1, "title": title, "spec": "mazur", "seed": 7,
            "variant": number, "of": of, "student": student,
            "given": given if given is not None else [{"name": "w1", "value": "0.15"}, {"name": "i1", "value": "0.05"},
                                                      {"name": "b1", "value": "0.35"}],
            "rounded_givens": rounded,
            "answers": [{"name": n, "value": v, "tolerance": t, "words": w} for n, v, t, w in answers]}


def sample_keys() -> list[dict]:
    """Three variants, each with its own values (shifted by the variant's number)."""
    keys = []
    for number in (1, 2, 3):
        doc = key(number, student=f"s{number:02d}")
        for answer in doc["answers"]:
            answer["value"] = str(Decimal(answer["value"]) + Decimal(number) / 1000)
        keys.append(doc)
    return keys


def hostile_keys() -> list[dict]:
    """Two variants whose every string is hostile."""
    docs = []
    for number in (1, 2):
        docs.append(key(number, of=2, student=HOSTILE, title=HOSTILE,
                        answers=[(HOSTILE + "a", "1.5", "0.05", HOSTILE), (HOSTILE + "b", "-2", "0", HOSTILE)],
                        given=[{"name": HOSTILE, "value": HOSTILE}],
                        rounded={"decimals": 4, "names": [HOSTILE]}))
    return docs


# -- Reading the exports back ----------------------------------------------------------------------

class _Text(html.parser.HTMLParser):
    """The text a browser shows for an HTML fragment (character references decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def shown(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


# Moodle's Cloze expressions (question/type/multianswer/questiontype.php), ported to Python's re:
# the variable-width look-behind (?<!\\\\|&|&amp;) is written as three fixed-width ones.
_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
_ANSWER = r".+?(?<!\\\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
_NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
_NUMERICAL_ALTERNATIVE = f"^({_NUMBER})(:{_NUMBER})?$"
_TYPES = ("(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
          "(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)|"
          "(MULTICHOICE_S|MCS)|(MULTICHOICE_VS|MCVS)|(MULTICHOICE_HS|MCHS)|"
          "(MULTIRESPONSE|MR)|(MULTIRESPONSE_H|MRH)|(MULTIRESPONSE_S|MRS)|(MULTIRESPONSE_HS|MRHS)")
_ANSWER_REGEX = re.compile(r"\{([0-9]*):(" + _TYPES + "):(" + _ALTERNATIVE + "(~" + _ALTERNATIVE + r")*)\}", re.S)


def moodle_subquestions(question_html: str) -> list[tuple[str, Decimal, Decimal]]:
    """Extract the subquestions as Moodle's importer does: (type, value, tolerance) of each, in order."""
    found = []
    text = question_html
    while (m := _ANSWER_REGEX.search(text)):
        assert m.group(3), f"a subquestion of another type than NUMERICAL: {m.group(0)!r}"
        alternatives = re.findall("~?" + _ALTERNATIVE, m.group(16), re.S)
        assert len(alternatives) == 1, m.group(0)
        fraction, _, answer = alternatives[0][:3]
        assert fraction == "=", m.group(0)
        number = re.match(_NUMERICAL_ALTERNATIVE, answer, re.S)
        assert number, answer
        found.append(("NUMERICAL", Decimal(number.group(1)), Decimal(number.group(6) or "0")))
        text = text.replace(m.group(0), f"{{#{len(found)}}}", 1)
    return found


def moodle_questions(text: str) -> tuple[str, list[ET.Element]]:
    root = ET.fromstring(text)
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    return questions[0].find("category/text").text, [q for q in questions[1:]]


def split_category_path(path: str) -> list[str]:
    """Moodle's qformat_default::split_category_path (without its PARAM_TEXT cleaning)."""
    return [raw.replace("//", "/").strip() for raw in re.split(r"(?<!/)/(?!/)", path)]


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def qti12_assessments(package: bytes) -> list[tuple[str, bytes]]:
    """The QTI 1.2 package's assessment files, in order of name (of variant)."""
    files = unzip(package)
    return [(name, files[name]) for name in sorted(files) if name.startswith("assessments/")]


@functools.cache
def schema(name: str):
    return xmlschema.XMLSchema(str(SCHEMAS / name))


def expected(doc: dict) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(a["value"]), Decimal(a["tolerance"])) for a in doc["answers"]]


# -- Round trips ------------------------------------------------------------------------------------

def test_moodle_round_trip_gives_every_value_and_tolerance():
    """Each Cloze question, read with Moodle's own expressions, holds its variant's values and tolerances."""
    docs = sample_keys()
    category, questions = moodle_questions(lms.moodle_xml(docs, "Mazur's network"))
    assert split_category_path(category) == ["$course$", "top", "Mazur's network"]
    assert len(questions) == len(docs)
    for doc, question in zip(docs, questions):
        assert question.get("type") == "cloze"
        body = question.find("questiontext/text").text
        found = moodle_subquestions(body)
        assert [(v, t) for _, v, t in found] == expected(doc)
        # Moodle's random question may give this variant to anyone: the student shows in the name only.
        assert f"variant {doc['variant']} of 3" in shown(body) and doc["student"] not in shown(body)
        assert question.find("name/text").text.endswith(f"variant {doc['variant']} of 3, for {doc['student']}")


def test_qti12_round_trip_gives_value_plus_and_minus_tolerance():
    """Each QTI 1.2 item's range is exactly value - tolerance .. value + tolerance, an assessment per variant."""
    docs = sample_keys()
    assessments = qti12_assessments(lms.qti12(docs, "Mazur's network"))
    assert [name for name, _ in assessments] == [f"assessments/variant-{n}.xml" for n in (1, 2, 3)]
    for doc, (_, data) in zip(docs, assessments, strict=True):
        assessment = ET.fromstring(data).find(f"{QTI12}assessment")
        assert assessment.get("title").endswith(f"variant {doc['variant']} of 3, for {doc['student']}")
        items = assessment.findall(f"{QTI12}section/{QTI12}item")
        got = []
        for item in items:
            low = Decimal(item.find(f".//{QTI12}vargte").text)
            high = Decimal(item.find(f".//{QTI12}varlte").text)
            got.append(((low + high) / 2, (high - low) / 2))
            fields = {f.find(f"{QTI12}fieldlabel").text: f.find(f"{QTI12}fieldentry").text
                      for f in item.iter(f"{QTI12}qtimetadatafield")}
            assert fields["question_type"] == "numerical_question"
        assert got == expected(doc)
        assert [i.get("title") for i in items] == [a["name"] for a in doc["answers"]]


def test_qti21_round_trip_gives_correct_response_and_absolute_tolerance():
    """Each QTI 2.1 item declares a float response per quantity, its value correct within its absolute tolerance."""
    docs = sample_keys()
    files = unzip(lms.qti21(docs, "Mazur's network"))
    items = sorted(name for name in files if name.startswith("items/"))
    assert len(items) == len(docs)
    test = ET.fromstring(files["test.xml"])
    assert test.find(f".//{QTI21}selection").get("select") == "1"
    assert [r.get("href") for r in test.iter(f"{QTI21}assessmentItemRef")] == items
    for doc, name in zip(docs, items):
        root = ET.fromstring(files[name])
        declarations = root.findall(f"{QTI21}responseDeclaration")
        assert all(d.get("baseType") == "float" and d.get("cardinality") == "single" for d in declarations)
        values = {d.get("identifier"): Decimal(d.find(f"{QTI21}correctResponse/{QTI21}value").text)
                  for d in declarations}
        got = []
        for equal in root.iter(f"{QTI21}equal"):
            assert equal.get("toleranceMode") == "absolute"
            (variable, correct) = list(equal)
            assert variable.get("identifier") == correct.get("identifier")
            got.append((values[correct.get("identifier")], Decimal(equal.get("tolerance"))))
        assert got == expected(doc)
        interactions = [i.get("responseIdentifier") for i in root.iter(f"{QTI21}textEntryInteraction")]
        assert interactions == [d.get("identifier") for d in declarations]
        # The test may give this item to anyone: it names no student.
        assert doc["student"] not in "".join(root.itertext()) + root.get("title")


@pytest.mark.parametrize("offset, accepted", [(Decimal("0"), True), (Decimal("0.999"), True),
                                              (Decimal("-1"), True), (Decimal("1.001"), False),
                                              (Decimal("-1.001"), False)])
def test_every_format_accepts_exactly_the_tolerance_band(offset, accepted):
    """An answer off by `offset` tolerances is marked the same way by each format's own rule."""
    doc = key(1, of=1)
    for value, tolerance in expected(doc):
        answer = value + offset * tolerance if tolerance else value + offset * Decimal("1e-9")
        want = accepted if tolerance else offset == 0
        _, questions = moodle_questions(lms.moodle_xml([doc], "t"))
        moodle = {(v, t) for _, v, t in moodle_subquestions(questions[0].find("questiontext/text").text)}
        assert (value, tolerance) in moodle and (abs(answer - value) <= tolerance) == want
        root = ET.fromstring(qti12_assessments(lms.qti12([doc], "t"))[0][1])
        bands = [(Decimal(i.find(f".//{QTI12}vargte").text), Decimal(i.find(f".//{QTI12}varlte").text))
                 for i in root.iter(f"{QTI12}item")]
        assert any(low <= answer <= high for low, high in bands if low <= value <= high) == want


# -- Schemas ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("docs", [sample_keys(), hostile_keys()], ids=["sample", "hostile"])
def test_manifests_validate_against_the_published_ims_cp_schema(docs):
    """Both packages' imsmanifest.xml are valid IMS CP 1.1.4 and list exactly the files in the zip."""
    cp = schema("imscp_v1p1/imscp_v1p1.xsd")
    for package in (lms.qti12(docs, HOSTILE), lms.qti21(docs, HOSTILE)):
        files = unzip(package)
        cp.validate(files["imsmanifest.xml"].decode("utf-8"))
        manifest = ET.fromstring(files["imsmanifest.xml"])
        listed = [f.get("href") for f in manifest.iter(f"{CP}file")]
        assert sorted(listed + ["imsmanifest.xml"]) == sorted(files)
        resources = {r.get("identifier") for r in manifest.iter(f"{CP}resource")}
        assert {d.get("identifierref") for d in manifest.iter(f"{CP}dependency")} <= resources


@pytest.mark.parametrize("docs", [sample_keys(), hostile_keys()], ids=["sample", "hostile"])
def test_items_validate_against_the_binding_subsets(docs):
    """The QTI 1.2 assessment, every QTI 2.1 item and the Moodle quiz are valid under their subset schemas."""
    for _, data in qti12_assessments(lms.qti12(docs, HOSTILE)):
        schema("qti12-subset.xsd").validate(data.decode("utf-8"))
    qti21 = schema("qti21-subset.xsd")
    for name, data in unzip(lms.qti21(docs, HOSTILE)).items():
        if name != "imsmanifest.xml":
            qti21.validate(data.decode("utf-8"))
    schema("moodle-subset.xsd").validate(lms.moodle_xml(docs, HOSTILE))


def test_the_schemas_refuse_what_the_bindings_refuse():
    """The schemas can fail: a manifest without identifier, an item without ident, a tolerance mode unknown."""
    files = unzip(lms.qti12(sample_keys(), "t"))
    assessment = files["assessments/variant-1.xml"].decode()
    assert schema("qti12-subset.xsd").is_valid(assessment)
    assert not schema("imscp_v1p1/imscp_v1p1.xsd").is_valid(
        files["imsmanifest.xml"].decode().replace('identifier="stepgrad-qti12"', ""))
    assert not schema("qti12-subset.xsd").is_valid(assessment.replace('ident="variant-1-q01" ', "", 1))
    assert not schema("qti12-subset.xsd").is_valid(assessment.replace("</vargte>", "e-5</vargte>", 1))
    item = unzip(lms.qti21(sample_keys(), "t"))["items/variant-1.xml"].decode()
    assert not schema("qti21-subset.xsd").is_valid(item.replace('toleranceMode="absolute"', 'toleranceMode="near"'))
    assert not schema("qti21-subset.xsd").is_valid(item.replace('identifier="R01"', 'identifier="1 R"', 1))


# -- Escaping -----------------------------------------------------------------------------------------

def test_hostile_text_stays_text_in_moodle():
    """Hostile titles, names, words, givens and student IDs open no tag, no CDATA end and no Cloze subquestion."""
    docs = hostile_keys()
    text = lms.moodle_xml(docs, HOSTILE)
    category, questions = moodle_questions(text)
    assert len(questions) == 2
    assert split_category_path(category)[:2] == ["$course$", "top"] and len(split_category_path(category)) == 3
    for question in questions:
        body = question.find("questiontext/text").text
        found = moodle_subquestions(body)
        assert [(v, t) for _, v, t in found] == [(Decimal("1.5"), Decimal("0.05")), (Decimal("-2"), Decimal("0"))]
        visible = shown(body)
        assert "<script>" in visible and "{1:NUMERICAL:=1:0}" in visible  # shown literally, as text
        assert "\x1b" not in visible and "\\x1b" in visible
        assert not re.search(r"<(?!/?(p|table|thead|tbody|tr|th|td|code)>)", body)  # no tag but the layout's
        name = question.find("name/text").text
        assert "<" not in name and "\n" not in name


def test_hostile_text_stays_text_in_qti():
    """In both QTI packages, hostile strings are attribute and text values; identifiers come from numbers only."""
    docs = hostile_keys()
    roots = [ET.fromstring(data) for _, data in qti12_assessments(lms.qti12(docs, HOSTILE))]
    idents = [e.get("ident") for root in roots for e in root.iter() if e.get("ident") is not None]
    assert all(re.fullmatch(r"[a-z0-9_-]+", i) for i in idents)
    items = [e.get("ident") for root in roots for e in root.iter()
             if e.tag in (f"{QTI12}item", f"{QTI12}assessment")]
    assert len(set(items)) == len(items) == 2 + 2 * 2  # two variants, two items each
    for mattext in (m for root in roots for m in root.iter(f"{QTI12}mattext")):
        assert "<script>" in shown(mattext.text)
        assert not re.search(r"<(?!/?(p|table|tbody|tr|td|code)>)", mattext.text)
    for name, data in unzip(lms.qti21(docs, HOSTILE)).items():
        if name.startswith("items/"):
            item = ET.fromstring(data)
            assert re.fullmatch(r"variant-[0-9]+", item.get("identifier"))
            assert "<script>" in "".join(item.find(f"{QTI21}itemBody").itertext())
            assert {e.tag.split("}")[1] for e in item.find(f"{QTI21}itemBody").iter()} <= {
                "itemBody", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "textEntryInteraction"}


ANY_TEXT = st.one_of(S.texts, st.text(max_size=40), st.sampled_from([HOSTILE, "/", "//x/", " ", "]]>", "{#1}"]))


@settings(derandomize=True, deadline=None, database=None, max_examples=60)
@given(title=ANY_TEXT, name=ANY_TEXT, words=ANY_TEXT, given_value=ANY_TEXT, student=st.one_of(st.none(), ANY_TEXT))
def test_any_text_exports_as_text(title, name, words, given_value, student):
    """Whatever the strings, every export parses, validates, and holds exactly the keys' subquestions and ranges."""
    docs = [key(n, of=2, student=student, title=title, given=[{"name": name, "value": given_value}],
                answers=[(name, "0.25", "0.005", words), (name + "2", "-1.75", "0.0005", words)]) for n in (1, 2)]
    category, questions = moodle_questions(lms.moodle_xml(docs, title))
    assert split_category_path(html.unescape(category)) == ["$course$", "top", one_line(title).strip() or
                                                            "stepgrad exercise"]
    for question in questions:
        found = moodle_subquestions(question.find("questiontext/text").text)
        assert [(v, t) for _, v, t in found] == [(Decimal("0.25"), Decimal("0.005")),
                                                 (Decimal("-1.75"), Decimal("0.0005"))]
    schema("moodle-subset.xsd").validate(lms.moodle_xml(docs, title))
    for _, data in qti12_assessments(lms.qti12(docs, title)):
        schema("qti12-subset.xsd").validate(data.decode())
        bounds = [Decimal(e.text) for e in ET.fromstring(data).iter()
                  if e.tag in (f"{QTI12}vargte", f"{QTI12}varlte")]
        assert bounds == [Decimal("0.245"), Decimal("0.255"), Decimal("-1.7505"), Decimal("-1.7495")]
    for name_in_zip, data in unzip(lms.qti21(docs, title)).items():
        schema("imscp_v1p1/imscp_v1p1.xsd" if name_in_zip == "imsmanifest.xml" else "qti21-subset.xsd").validate(
            data.decode())


def test_cloze_escaper_blocks_every_syntax_character():
    """escape.cloze leaves none of Moodle's Cloze punctuation, yet the student reads the text unchanged."""
    from stepgrad.codegen.escape import cloze
    text = "{1:NUMERICAL:=1:0.1#no~%50%2} \\} \\# a<b & c"
    escaped = cloze(text)
    assert not set("{}~#=:\\<>") & set(escaped.replace("&#", "").replace("&", ""))
    assert not _ANSWER_REGEX.search(escaped)
    assert shown(escaped) == text


# -- Determinism and bad input ---------------------------------------------------------------------------

def test_exports_are_byte_stable_and_order_free():
    """The same keys, in any order, give the same bytes; zip entries are sorted with a fixed time."""
    docs = sample_keys()
    first = lms.exports(docs, "Mazur's network")
    again = lms.exports(list(reversed(copy.deepcopy(docs))), "Mazur's network")
    assert first == again
    for name in ("canvas-qti12.zip", "qti21.zip"):
        with zipfile.ZipFile(io.BytesIO(first[name])) as archive:
            infos = archive.infolist()
            assert [i.filename for i in infos] == sorted(i.filename for i in infos)
            assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_header_line_marks_each_file():
    """With a header, the Moodle file has it as a comment after the declaration; each zip, as its comment."""
    header = "Generated by stepgrad 0.1.0 from the spec 'mazur' (Mazur). Do not edit."
    files = lms.exports(sample_keys(), "Mazur", header=header)
    assert files["moodle-quiz.xml"].decode().split("\n")[:2] == ['<?xml version="1.0" encoding="UTF-8"?>',
                                                                 f"<!-- {header} -->"]
    ET.fromstring(files["moodle-quiz.xml"])
    for name in ("canvas-qti12.zip", "qti21.zip"):
        assert zipfile.ZipFile(io.BytesIO(files[name])).comment == header.encode()


@pytest.mark.parametrize("change, message", [
    (lambda d: d["answers"][0].update(value="1/3"), "value of 'net_h1' '1/3' is not a decimal number"),
    (lambda d: d["answers"][0].update(value="1e999"), "is not a decimal number"),
    (lambda d: d["answers"][0].update(tolerance="-0.1"), "tolerance of 'net_h1' is negative"),
    (lambda d: d["answers"][0].update(tolerance=0.1), "must be text, not float"),
    (lambda d: d.update(answers=[]), "asks for no answer"),
    (lambda d: d.update(format="other"), "not a stepgrad exercise key"),
    (lambda d: d.update(variant=4), "1 <= variant <= of"),
])
def test_a_bad_key_is_refused_in_one_line(change, message):
    """A key document that is not what stepgrad writes gets a one-line error naming the variant and field."""
    doc = key(2)
    change(doc)
    with pytest.raises(SpecError, match=re.escape(message)) as error:
        lms.moodle_xml([key(1), doc], "t")
    assert "\n" not in str(error.value)


def test_two_keys_for_one_variant_are_refused():
    """Two keys with the same variant number are refused rather than exported twice."""
    with pytest.raises(SpecError, match="two keys are for variant 1"):
        lms.qti21([key(1), key(1)], "t")


def test_plain_numbers_never_use_an_exponent():
    """Values, bounds and tolerances are written positionally (Moodle's Cloze and Canvas read no exponent)."""
    doc = key(1, of=1, answers=[("x", "1.5E-7", "5e-12", "x"), ("y", "-2.5e+3", "0.5", "y")])
    _, questions = moodle_questions(lms.moodle_xml([doc], "t"))
    body = questions[0].find("questiontext/text").text
    assert "{1:NUMERICAL:=0.00000015:0.000000000005}" in body and "{1:NUMERICAL:=-2500:0.5}" in body
    root = ET.fromstring(qti12_assessments(lms.qti12([doc], "t"))[0][1])
    bounds = [e.text for e in root.iter() if e.tag in (f"{QTI12}vargte", f"{QTI12}varlte")]
    assert bounds == ["0.000000149995", "0.000000150005", "-2500.5", "-2499.5"]
    item = ET.fromstring(unzip(lms.qti21([doc], "t"))["items/variant-1.xml"])
    numbers = [e.text for e in item.iter(f"{QTI21}value")] + [e.get("tolerance") for e in item.iter(f"{QTI21}equal")]
    assert numbers == ["0.00000015", "-2500", "0", "2", "0.000000000005", "0.5"]


# -- Real keys --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [{}, {"given": ("forward",), "ask": ("updates",), "update": ("w5", "w1")}],
                         ids=["all", "rounded-forward-two-updates"])
def test_keys_of_make_variants_export_intact(overrides):
    """Keys from make_variants/key_document (the post's network) export every value and tolerance intact, valid."""
    from stepgrad.symbolic import exercise
    from stepgrad.symbolic.spec import load
    spec = load("mazur")
    variants = exercise.make_variants(spec, exercise.exercise_of(spec, **overrides), roster=["s01", "s02", "s03"],
                                      seed=7)
    docs = [exercise.key_document(v) for v in variants]
    files = lms.exports(docs, spec.title)
    _, questions = moodle_questions(files["moodle-quiz.xml"].decode())
    for doc, question in zip(docs, questions):
        body = question.find("questiontext/text").text
        assert [(v, t) for _, v, t in moodle_subquestions(body)] == expected(doc)
        assert all(g["value"] in shown(body) for g in doc["given"])
        if doc["rounded_givens"]:
            assert f"rounded to {doc['rounded_givens']['decimals']} decimals" in shown(body)
    for doc, (_, data) in zip(docs, qti12_assessments(files["canvas-qti12.zip"]), strict=True):
        bands = [(Decimal(i.find(f".//{QTI12}vargte").text), Decimal(i.find(f".//{QTI12}varlte").text))
                 for i in ET.fromstring(data).iter(f"{QTI12}item")]
        assert [((lo + hi) / 2, (hi - lo) / 2) for lo, hi in bands] == expected(doc)
        schema("qti12-subset.xsd").validate(data.decode())
    package = unzip(files["qti21.zip"])
    for name, data in package.items():
        schema("imscp_v1p1/imscp_v1p1.xsd" if name == "imsmanifest.xml" else "qti21-subset.xsd").validate(
            data.decode())
    schema("moodle-subset.xsd").validate(files["moodle-quiz.xml"].decode())


def test_stepgrad_recognises_its_exports_and_no_other_file(tmp_path):
    """The writer replaces an export it wrote (header recognised) and refuses a look-alike it did not write."""
    from stepgrad.codegen.files import generated_by_stepgrad, write_all
    header = "Generated by stepgrad 0.1.0 from the spec 'mazur' (Mazur). Do not edit."
    files = {tmp_path / name: data for name, data in lms.exports(sample_keys(), "Mazur", header=header).items()}
    write_all(files)
    write_all(files)  # again, without force: every file is recognised as stepgrad's
    assert all(generated_by_stepgrad(path) for path in files)
    for path, data in files.items():
        other = tmp_path / ("other-" + path.name)
        other.write_bytes(lms.exports(sample_keys(), "Mazur")[path.name])  # the same file without the header
        assert not generated_by_stepgrad(other)
        with pytest.raises(SpecError):
            write_all({other: data})
