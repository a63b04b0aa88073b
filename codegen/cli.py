"""The stepgrad command line: the only layer that reads arguments and touches files.

Each command is a thin layer over :mod:`stepgrad.api` (load, configure, derive, render,
gradient_module, check): it parses the arguments, checks and writes the files through
:mod:`codegen.files`, prints the messages and chooses the exit code.

Exit codes (:data:`EXIT_CODES`, shown by ``stepgrad --help``): 0 success, 1 a checked answer
is not correct (marking a class: a submission could not be read), 2 bad input or usage,
3 an internal error (a bug: please report it), 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM, as ``timeout`` sends; SIGHUP too).

Every output is checked (writable, not a folder, not a special file, not a
file stepgrad did not write) before any work starts.  SIGTERM and SIGHUP are
turned into an exception that unwinds like Ctrl-C, so temporary files and
folders are removed on the way out; an interrupt while stepgrad is still
starting up ends it with one line and no traceback.
"""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_at_startup(signum, frame):  # pragma: no cover - needs a real signal while importing
    """Before any work (imports only), an interrupt just ends the run, with one line and no traceback."""
    what = "interrupted" if signum == signal.SIGINT else "terminated"
    sys.stderr.write(f"stepgrad: {what} while starting; nothing was written\n")
    sys.stderr.flush()
    os._exit(130 if signum == signal.SIGINT else 128 + signum)


_STARTUP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_STARTUP_HANDLERS: dict = {}
try:
    for _signum in _STARTUP_SIGNALS:
        if signal.getsignal(_signum) is not signal.SIG_IGN:  # nohup and background jobs ignore some: keep that
            _STARTUP_HANDLERS[_signum] = signal.signal(_signum, _interrupted_at_startup)
except ValueError:  # not the main thread: leave signals alone
    pass

import argparse  # noqa: E402 - after the start-up handler, on purpose
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from .. import __version__, api  # noqa: E402
from ..symbolic import limits  # noqa: E402
from ..symbolic.derive import DerivationError  # noqa: E402
from ..symbolic import spec as spec_limits  # noqa: E402
from ..symbolic.spec import Spec, SpecError, builtin_names, is_path, load  # noqa: E402

from . import document, escape, files, formats, pdf, pipeline, svg  # noqa: E402
from .exercise import add_parser as add_exercise_parser, run as cmd_exercise  # noqa: E402

for _signum, _handler in _STARTUP_HANDLERS.items():
    signal.signal(_signum, _handler)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so every temporary file and folder is removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


FORMATS = ("pdf", "tex", "md", "json")
#: Where stdout stands in for a file: '-o -'.
STDOUT = "-"
#: The exit codes, as `stepgrad --help` and the README state them.
EXIT_CODES = """exit codes:
  0  done; for check, every answer is correct
  1  check judged the answers and not every one is correct (wrong, unreadable, or
     nothing answered); marking a class, some submission could not be read
  2  bad input or usage: one line on stderr naming what and where; nothing written
  3  internal error (a bug: please report it)
  130, 143  interrupted (Ctrl-C) or terminated (SIGTERM, SIGHUP)

-o is where the output goes: the file for a command that writes one ('-' for standard
output where the command can print), the folder for a command that writes several.
--format json is the machine-readable output (values, check, derive); values and check
also take --json, the same."""
#: Pages of each built-in example's PDF also written as PNG, for the README.
PREVIEW_PAGES = (1, 2)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        raise SpecError(f"{message} (see '{self.prog} --help')")


def _variant_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=_count, metavar="N",
                   help="number of training updates (default: the spec's, 10000 for mazur)")
    p.add_argument("--hidden-deltas", choices=("original", "updated"),
                   help="'updated' makes the hidden deltas use the already-updated output weights "
                        "(reproduces the post's 0.291027924); default: the spec's, 'original'")
    p.add_argument("--count-rounds", choices=("updates", "forward_passes"),
                   help="'forward_passes' takes the error of round N in the N-th forward pass, after N-1 "
                        "updates (reproduces the post's 0.0000351085); default: 'updates'")
    p.add_argument("--train-biases", action="store_true",
                   help="train every bias, even those the spec freezes (the post never updates its biases)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000000, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stepgrad", description="Derive, explain and check backpropagation, step by step.",
                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"stepgrad {__version__}",
                        help="print stepgrad's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("example", help="write every artifact of a built-in example (default: mazur)",
                       description="Write the worked example (.tex, .pdf, .md) and gradients.py of a "
                                   "built-in example into DIR/NAME/.")
    p.add_argument("name", nargs="?", default="mazur", metavar="NAME",
                   help=f"built-in example: {', '.join(builtin_names())} (default: mazur)")
    p.add_argument("--all", action="store_true", help="write every built-in example")
    p.add_argument("-o", "--output", default="generated", metavar="DIR", help="parent folder (default: generated)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF even when a TeX engine is installed")
    p.add_argument("--force", action="store_true", help="overwrite files stepgrad did not generate")

    p = sub.add_parser("derive", help="write the worked example as PDF, LaTeX or Markdown",
                       description="Write the worked example for SPEC (a TOML file or a built-in name).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=FORMATS, default="pdf",
                   help="pdf, tex or md: the worked example (default: pdf); json: the derivation for programs, "
                        "every step (formula, LaTeX line, value) and value in the derivation's order")
    p.add_argument("-o", "--output", metavar="PATH", help="output file, '-' for standard output (tex, md); "
                                                         "default: SPEC's name with the format's extension")
    p.add_argument("--force", action="store_true", help="overwrite a file stepgrad did not generate")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--expand", dest="expand", action="store_const", const=True,
                       help="derive every neuron and weight in full (default for networks of up to "
                            f"{document.FULL_LIMIT} parameters)")
    shape.add_argument("--compact", dest="expand", action="store_const", const=False,
                       help="derive one representative neuron and weight per layer in full, tabulate the rest "
                            "(default for larger networks)")
    _variant_options(p)

    p = sub.add_parser("module", help="write the generated Python gradient module",
                       description="Write a straight-line Python module with forward, error, gradients and step.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output file, '-' for standard output (default: NAME_gradients.py)")
    p.add_argument("--form", choices=("auto", "scalar", "numpy"), default="auto",
                   help="scalar: straight-line Python over math (readable, for teaching-size networks); "
                        "numpy: vectorized per-layer matrix code (any size, batches); auto picks by size")
    p.add_argument("--force", action="store_true", help="overwrite a file stepgrad did not generate")
    _variant_options(p)

    p = sub.add_parser("values", help="print every canonical quantity at full precision",
                       description="Print every canonical quantity (net_h1, dE_total/dw5, w5+, E_total@1, ...) "
                                   "with 20 significant digits.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("text", "json"), default=None,
                   help="text: a table (default); json: an object mapping each name to its value as a string, "
                        "in the derivation's order")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("-o", "--output", metavar="PATH", help="output file ('-' or none: standard output)")
    p.add_argument("--force", action="store_true", help="overwrite a file stepgrad did not generate")
    _variant_options(p)

    p = sub.add_parser("check", help="check hand-computed values or formulas",
                       description="Check a student's answers: a TOML file keyed by quantity names, quoted "
                                   "(\"dE_total/dw5\" = 0.0822; 'stepgrad worksheet SPEC' writes one to fill "
                                   "in; \"δ_o1\", \"∂E/∂w5\" and LaTeX names are read too, see the README's "
                                   "table of names; blank values are skipped and counted), or pasted working "
                                   "(.md, .tex, .txt) with lines like 'net_h1 = w1*i1 + w2*i2 + b1 = "
                                   "0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775', whose formula, substituted numbers "
                                   "and value are each checked. Several files or a folder mark a whole class: "
                                   "NAME-feedback.md each, class-summary.csv and class-mistakes.md.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("answers", metavar="ANSWERS", nargs="+",
                   help="an answers file, or several (or a folder of them) to mark a whole class")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--min-digits", type=int, default=3, metavar="N",
                   help="significant digits an answer needs unless it is exact (default 3)")
    p.add_argument("--rtol", type=float, default=None, metavar="R",
                   help="also accept answers within this relative tolerance of the true value")
    p.add_argument("--format", choices=("text", "md", "json", "pdf"), default=None,
                   help="feedback format (default: text for one answers file, or as -o's extension .md, "
                        ".json, .pdf; md for a class)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="one answers file: the feedback's file ('-' for standard output; the default is "
                        "standard output, and for pdf ANSWERS with .pdf). A class: the folder for every "
                        "NAME-feedback file and the class summary (default: beside each submission)")
    p.add_argument("--force", action="store_true", help="overwrite a file stepgrad did not generate")
    p.add_argument("--exercise", metavar="DIR",
                   help="mark each submission against its own variant of the exercise set in DIR (written "
                        "by stepgrad exercise), found from its answers file's first lines or --roster; "
                        "answers that are another variant's are flagged")
    p.add_argument("--roster", metavar="CSV",
                   help="with --exercise: the class roster (student IDs, the k-th has variant k); a "
                        "submission is found on it by its student's name in the run, else its file name's "
                        "stem, else its folder's name")

    p = sub.add_parser("worksheet", help="write an exercise: an answers template and a question sheet",
                       description="Write the exercise for SPEC into DIR: NAME-answers.toml (every quantity to "
                                   "compute, in order, values left blank for the student to fill in), "
                                   "NAME-questions.md (with the network as NAME-questions-network.svg) and "
                                   "NAME-questions.pdf. Check the filled-in answers with 'stepgrad check SPEC "
                                   "NAME-answers.toml': blanks are skipped and counted.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("-o", "--output", default=".", metavar="DIR", help="folder to write into (default: here)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF even when a TeX engine is installed")
    p.add_argument("--force", action="store_true",
                   help="overwrite files stepgrad did not generate (a filled-in answers file is the student's)")

    from . import newspec
    from ..symbolic.functions import ACTIVATIONS, ERRORS
    p = sub.add_parser("new", help="write a commented starting spec for a shape like 3-4-2",
                       description="Write a commented spec for SHAPE (layer widths, input first): seeded "
                                   "initial values rounded to two decimals and the weight numbering spelled out.")
    p.add_argument("shape", metavar="SHAPE", help="layer widths joined by '-', like 3-4-2")
    p.add_argument("--activation", choices=newspec.HIDDEN_ACTIVATIONS, default="sigmoid",
                   help="hidden layers' activation (default: sigmoid)")
    p.add_argument("--output-activation", choices=tuple(ACTIVATIONS), default=None,
                   help="output layer's activation (default: softmax with categorical_cross_entropy, else sigmoid)")
    p.add_argument("--error", choices=tuple(ERRORS), default="half_sse", help="error function (default: half_sse)")
    p.add_argument("--bias", choices=newspec.BIASES, default="per_neuron",
                   help="a bias per neuron, one shared per layer (the post's), or none (default: per_neuron)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial values (default: 0)")
    p.add_argument("--learning-rate", default="0.5", metavar="ETA", help="default: 0.5, the post's")
    p.add_argument("--steps", type=_count, default=10000, metavar="N", help="training updates (default: 10000)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--force", action="store_true", help="overwrite a file stepgrad did not generate")
    add_exercise_parser(sub)
    return parser


#: What to say when a network is too large for a command that derives it.
_LARGE = (f"; 'stepgrad module --form numpy' writes a vectorized gradient module for up to "
          f"{spec_limits.MAX_PARAMETERS} parameters")


def _network(args, max_parameters: int | None = limits.MAX_PARAMETERS) -> api.Network:
    """Load SPEC and apply the variant options (--steps, --hidden-deltas, --count-rounds, --train-biases).

    A network over *max_parameters* is refused while the spec is read, before its weights are built.
    """
    net = _load(args.spec, max_parameters, _LARGE if max_parameters else "")
    return api.configure(net, steps=getattr(args, "steps", None), hidden_deltas=getattr(args, "hidden_deltas", None),
                         count_rounds=getattr(args, "count_rounds", None),
                         train_biases=getattr(args, "train_biases", False))


def _load(spec_arg: str, max_parameters: int | None, instead: str = "") -> api.Network:
    """The network SPEC names: a file or a built-in example, never TOML text (as api.load reads a line break)."""
    if "\n" in spec_arg:
        return api.load(Path(spec_arg) if is_path(spec_arg) else load(spec_arg, max_parameters, instead),
                        max_parameters=max_parameters, instead=instead)
    return api.load(spec_arg, max_parameters=max_parameters, instead=instead)


def _spec(args, max_parameters: int | None = limits.MAX_PARAMETERS) -> tuple[Spec, str]:
    """The spec with the variant options applied, and the name generated files show for it."""
    net = _network(args, max_parameters)
    return net.spec, net.source


def spec_note(spec_arg: str) -> str | None:
    """The line saying which spec was used, when a built-in name is also a file or folder here."""
    if is_path(spec_arg) or spec_arg not in builtin_names() or not os.path.lexists(spec_arg):
        return None
    return (f"stepgrad: used the built-in example {spec_arg!r}, not the file or folder ./{spec_arg} "
            f"(to use that, write ./{spec_arg})")


def _emit(outputs: dict[Path, bytes], force: bool) -> None:
    files.write_all(outputs, force)
    for path in outputs:
        print(escape.terminal(f"wrote {path}"), file=sys.stderr)


def _outputs_checked(paths: list[Path], force: bool, *inputs: str) -> None:
    """Refuse, before any work, an output that may not be written, or one that is an input file.

    *inputs* are the command's input arguments; a built-in example's name is no file.
    """
    for path in paths:
        for given in inputs:
            if not is_path(given) and given in builtin_names():
                continue
            try:
                same = os.path.samefile(path, given)
            except OSError:
                same = False
            if same:
                raise SpecError(f"{path}: is the input file {given}; give another output name")
    files.check_writable(paths, force)


def cmd_example(args) -> int:
    names = builtin_names() if args.all else [args.name]
    for name in names:
        if name not in builtin_names():
            raise SpecError(f"{escape.terminal(name)[:60]}: no such built-in example; built-in examples are: "
                            f"{', '.join(builtin_names())}")
    want_pdf = not args.no_pdf and pdf.engine_available()
    previews = want_pdf and pdf.preview_available()
    targets = {}
    figure_targets = {}
    parent = _output_folder(args, "example")
    for name in names:
        folder = parent / name
        paths = [folder / f"{name}.tex", folder / f"{name}.md", folder / "gradients.py"]
        paths += [folder / f"{name}.pdf"] if want_pdf else []
        paths += [folder / f"{name}-page{page}.png" for page in PREVIEW_PAGES] if previews else []
        targets[name] = paths
        figure_targets[name] = _figure_paths(api.load(name).spec, folder / f"{name}.md")
    files.check_writable([p for name in names for p in targets[name] + figure_targets[name]], args.force)
    if not args.no_pdf and not want_pdf:
        print(f"stepgrad: {pdf.INSTALL_HINT}; writing .tex, .md and gradients.py only", file=sys.stderr)
    outputs: dict[Path, bytes] = {}
    for name in names:
        net = api.load(name)
        spec = net.spec
        limits.check_size(spec, "example", summary=len(spec.parameters) > document.FULL_LIMIT, pdf=want_pdf)
        print(f"stepgrad: deriving {name} ({len(spec.parameters)} parameters, {spec.training.steps} updates)...",
              file=sys.stderr)
        worked = api.derive(net).worked_example
        tex, md, module, *rest = targets[name]
        outputs[tex] = worked.tex.encode()
        outputs.update(markdown_with_figures(worked, md))
        outputs[module] = api.gradient_module(net, "scalar").encode()
        if want_pdf:  # named after the example, as its TeX job
            document_pdf = pdf.compile_pdf(worked.tex, name)
            outputs[rest[0]] = document_pdf
            for page, path in zip(PREVIEW_PAGES, rest[1:]):
                outputs[path] = pdf.preview_png(document_pdf, page)
    _emit(outputs, args.force)
    return 0


def _figure_paths(spec: Spec, markdown: Path) -> list[Path]:
    """The SVG figures written beside a worked example's Markdown file: the training curve always,
    the network when the document draws it."""
    network, curve = svg.figure_names(markdown.stem)
    drawn = sum(len(layer.neurons) for layer in spec.layers) <= document.DIAGRAM_LIMIT
    return [markdown.with_name(n) for n in ([network] if drawn else []) + [curve]]


def markdown_with_figures(worked, markdown: Path) -> dict[Path, bytes]:
    """The Markdown file linking its figures, and the figures' SVG files beside it."""
    doc = svg.with_figure_names(worked.document, markdown.stem)
    out = {markdown: formats.to_markdown(doc).encode()}
    for name, data in svg.figures(doc, markdown.stem).items():
        out[markdown.with_name(name)] = data
    return out


def _output_path(args, default: str | None) -> Path | None:
    """Where a command writing one file writes it (None: standard output, '-o -', or no -o and no *default*)."""
    if args.output == STDOUT or not (args.output or default):
        return None
    return Path(args.output or default)


def _output_folder(args, command: str) -> Path:
    """Where a command writing several files writes them: -o names the folder, never standard output."""
    if args.output == STDOUT:
        raise SpecError(f"-o -: {command} writes several files, which cannot go to standard output; give -o DIR")
    return Path(args.output)


def _format(args, default: str | None) -> str | None:
    """The --format asked for, --json being --format json; the two disagreeing is refused."""
    if getattr(args, "json", False):
        if args.format not in (None, "json"):
            raise SpecError(f"--json is --format json, so it cannot go with --format {args.format}")
        return "json"
    return args.format or default


def _to_stdout_or_file(args, data: bytes, target: Path | None) -> None:
    if target is None:
        sys.stdout.write(data.decode())
        return
    _emit({target: data}, args.force)


def cmd_derive(args) -> int:
    if args.format == "pdf" and args.output == "-":
        raise SpecError("--format pdf cannot go to standard output; give -o FILE.pdf")
    net = _network(args)
    spec = net.spec
    tex_only = args.format == "pdf" and not pdf.engine_available()
    target = _output_path(args, f"{Path(net.source).stem}.{args.format}")
    if tex_only:
        target = target.with_suffix(".tex")
    figure_paths = _figure_paths(spec, target) if target is not None and args.format == "md" else []
    if target is not None:
        _outputs_checked([target] + figure_paths, args.force, args.spec)
    if args.format == "json":
        limits.check_size(spec, "values", steps=spec.training.steps)  # refused up front, before deriving
        text = json.dumps(api.derive(net).to_dict(), indent=2) + "\n"
        _to_stdout_or_file(args, text.encode(), target)
        return 0
    expand = args.expand if args.expand is not None else len(spec.parameters) <= document.FULL_LIMIT
    # refused up front, before deriving: the expanded size, training and TeX's time
    limits.check_size(spec, "derive", summary=not expand, pdf=args.format == "pdf" and not tex_only)
    derivation = api.derive(net, expand=expand)
    if tex_only:
        print(f"stepgrad: {pdf.INSTALL_HINT}; writing the LaTeX source instead", file=sys.stderr)
        _emit({target: api.render(derivation, "latex").encode()}, args.force)
        return 0
    if args.format == "md" and target is not None:
        written = markdown_with_figures(derivation.worked_example, target)
        unexpected = set(written) - {target, *figure_paths}
        if unexpected:
            raise RuntimeError(f"figures not checked before writing: {sorted(map(str, unexpected))}")
        _emit(written, args.force)
        return 0
    data = api.render(derivation, args.format)
    _to_stdout_or_file(args, data if isinstance(data, bytes) else data.encode(), target)
    return 0


def cmd_module(args) -> int:
    net = _network(args, limits.MAX_PARAMETERS if args.form == "scalar" else None)
    target = _output_path(args, f"{Path(net.source).stem}_gradients.py")
    if target is not None:
        _outputs_checked([target], args.force, args.spec)
    _to_stdout_or_file(args, api.gradient_module(net, args.form).encode(), target)
    return 0


def all_values(spec: Spec, steps: int | None) -> dict[str, object]:
    """Every canonical quantity of the first update, E_total@1, and with *steps* the state after it.

    Exact values, for callers that want them; ``stepgrad values`` prints :attr:`api.Derivation.exact`.
    """
    return pipeline.values(spec, steps)


def cmd_values(args) -> int:
    fmt = _format(args, "text")
    target = _output_path(args, None)
    if target is not None:
        _outputs_checked([target], args.force, args.spec)
    net = _network(args)
    limits.check_size(net.spec, "values", steps=net.spec.training.steps)  # refused up front, before deriving
    derivation = api.derive(net)  # its values: after the spec's steps, or --steps
    exact, shown = derivation.exact, derivation.shown
    if fmt == "json":  # in the derivation's order, as the table
        text = json.dumps(dict(exact), indent=2) + "\n"
    else:
        width = max(len(k) for k in exact)
        text = "".join(f"{k:<{width}}  {v:>26}  ({shown[k]})\n" for k, v in exact.items())
    _to_stdout_or_file(args, text.encode(), target)
    return 0


def cmd_check(args) -> int:
    from ..symbolic.check import Options

    fmt = _format(args, None)
    if not 1 <= args.min_digits <= 20 or (args.rtol is not None and not 0 <= args.rtol < 1):
        raise SpecError("--min-digits must be 1 to 20 and --rtol between 0 and 1")
    options = Options(min_digits=args.min_digits, rtol=args.rtol)
    if args.roster and not args.exercise:
        raise SpecError("--roster goes with --exercise DIR (the exercise set the roster's variants are in)")
    if len(args.answers) > 1 or Path(args.answers[0]).is_dir() or args.exercise:
        return _check_class(args, fmt or "md", options)
    if fmt is None and args.output not in (None, "-"):  # -o sheet.md, -o sheet.pdf, -o grades.json
        fmt = {".md": "md", ".json": "json", ".pdf": "pdf"}.get(Path(args.output).suffix.lower())
    fmt = fmt or "text"
    answers = args.answers[0]
    if fmt == "pdf" and args.output == "-":
        raise SpecError("--format pdf cannot go to standard output; give -o FILE.pdf")
    if fmt == "pdf" and not pdf.engine_available():
        raise SpecError(pdf.INSTALL_HINT + "; or use --format md")
    out = None
    if fmt == "pdf":
        # beside the answers file, so s1/answers.toml and s2/answers.toml keep their own sheets
        out = Path(args.output or Path(answers).with_suffix(".pdf"))
    elif args.output not in (None, "-"):
        out = Path(args.output)
    if out is not None:
        _outputs_checked([out], args.force, args.spec, answers)
    net = _load(args.spec, limits.MAX_PARAMETERS)
    # a feedback sheet names the spec by its name ('net'), where the worked example names its file ('net.toml')
    result = api.check(api.Network(net.spec, net.spec.name), _answers_file(answers),
                       min_digits=args.min_digits, rtol=args.rtol)
    data = result.render(fmt)
    if out is None:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
    else:
        _emit({out: data if isinstance(data, bytes) else data.encode()}, args.force)
    return result.exit_code


def _answers_file(path: str) -> str | Path:
    """An answers file's argument as api.check reads a file (it reads a str holding '=' or a line break as
    the answers themselves)."""
    return Path(path) if "=" in path or "\n" in path else path


def _check_class(args, fmt: str, options) -> int:
    """Mark several submissions: a feedback file each, a CSV of scores and a table of common mistakes.

    Exit code 0 when every submission was read, 1 when some could not be, 2 (one line, nothing written)
    when none could be.
    """
    import dataclasses

    from . import marking, variants_marking
    from .render import source_line

    if args.output == "-":
        raise SpecError("-o -: a class's feedback goes to files; give -o DIR or leave it out")
    if fmt == "pdf" and not pdf.engine_available():
        raise SpecError(pdf.INSTALL_HINT + "; or use --format md")
    folder = Path(args.output) if args.output else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise SpecError(f"{escape.terminal(args.output)[:200]}: is not a folder; a class's -o is a folder")
    paths = marking.submissions(args.answers)
    if is_path(args.spec):  # the spec in the submissions' folder is not a submission
        paths = [p for p in paths if not (os.path.exists(p) and os.path.samefile(p, args.spec))]
    if not paths:
        raise SpecError("no submissions to mark besides the spec")
    if args.exercise:  # read as stepgrad exercise reads it: an exercise may need no targets or learning rate
        spec, source = load(args.spec, limits.MAX_PARAMETERS, partial=True), \
            (Path(args.spec).name if is_path(args.spec) else args.spec)
    else:
        spec, source = _spec(args)
    where = marking.summary_folder(paths, folder)
    students = marking.student_names(paths)  # the stem, or the folder of a platform's folder-per-student download
    targets = marking.feedback_paths(paths, students, fmt, folder)
    summary_json = [where / variants_marking.SUMMARY_JSON] if args.exercise else []
    _outputs_checked(targets + [where / marking.SUMMARY_CSV, where / marking.MISTAKES_MD] + summary_json,
                     args.force, args.spec, *map(str, paths), *([args.roster] if args.roster else []))
    limits.check_size(spec, "check")
    if fmt == "pdf":
        limits.check_feedback_sheets(spec, len(paths))
    from ..symbolic.derive import derive
    compile_pdf = pdf.compile_pdf if fmt == "pdf" else None
    if args.exercise:  # each submission against its own variant
        exercise = variants_marking.load_exercise(spec, Path(args.exercise), args.roster)
        marked = variants_marking.mark_class(exercise, paths, fmt, options, compile_pdf, students)
    else:
        derivation = derive(spec)
        marked = [dataclasses.replace(marking.mark_one(derivation, p, fmt, options, compile_pdf), student=s)
                  for p, s in zip(paths, students)]
    if all(m.error for m in marked):  # exit 2 is one line, and nothing is written
        raise SpecError(f"none of the {len(marked)} submissions could be read; the first: {marked[0].error}")
    outputs: dict[Path, bytes] = {t: m.feedback for t, m in zip(targets, marked) if m.feedback is not None}
    outputs[where / marking.SUMMARY_CSV] = marking.summary_csv(marked).encode()
    outputs[where / marking.MISTAKES_MD] = marking.mistakes_markdown(
        spec.name, spec.title, marked, source_line(spec, source)).encode()
    if args.exercise:
        outputs[summary_json[0]] = variants_marking.summary_json(spec, exercise, marked).encode()
    _emit(outputs, args.force)
    read = sum(m.error == "" for m in marked)
    for m in marked:
        if m.error:
            shown = m.error if m.name == m.path.stem else f"{m.name}: {m.error}"
            print(escape.terminal(f"stepgrad: not read: {shown}")[:500], file=sys.stderr)
        elif m.copied_from is not None:
            print(escape.terminal(f"stepgrad: {m.label} (variant {m.variant}): these numbers are variant "
                                  f"{m.copied_from}'s")[:500], file=sys.stderr)
    print(f"stepgrad: {read} of {len(marked)} submissions read", file=sys.stderr)
    return 0 if read == len(marked) else (1 if read else 2)


def cmd_new(args) -> int:
    from . import newspec

    text = newspec.new_spec(args.shape, args.activation, args.output_activation, args.error, args.bias,
                            args.seed, args.learning_rate, args.steps)
    _to_stdout_or_file(args, text.encode(), _output_path(args, None))
    return 0


def cmd_worksheet(args) -> int:
    from . import worksheet

    spec, source = _spec(args)
    stem = Path(source).stem
    names = worksheet.names(stem)
    folder = _output_folder(args, "worksheet")
    want_pdf = not args.no_pdf and pdf.engine_available()
    figure = worksheet.picture(spec) is not None
    paths = [folder / names.answers, folder / names.markdown] + ([folder / names.figure] if figure else []) \
        + ([folder / names.pdf] if want_pdf else [])
    _outputs_checked(paths, args.force, args.spec)
    if not args.no_pdf and not want_pdf:
        print(f"stepgrad: {pdf.INSTALL_HINT}; writing the answers template and the Markdown sheet only",
              file=sys.stderr)
    limits.check_size(spec, "check")
    d = pipeline.derivation(spec)
    outputs = {folder / names.answers: worksheet.answers_template(d).encode(),
               folder / names.markdown: worksheet.question_markdown(d, source, names.answers,
                                                                     names.figure if figure else "").encode()}
    if figure:
        outputs[folder / names.figure] = worksheet.network_figure(d, source).encode()
    if want_pdf:
        outputs[folder / names.pdf] = pdf.compile_pdf(worksheet.question_latex(d, source, names.answers),
                                                      f"{stem}-questions")
    _emit(outputs, args.force)
    return 0


COMMANDS = {"example": cmd_example, "derive": cmd_derive, "module": cmd_module,
            "values": cmd_values, "check": cmd_check, "new": cmd_new, "worksheet": cmd_worksheet,
            "exercise": cmd_exercise}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    SIGTERM and SIGHUP raise :class:`Terminated` while it runs (the previous
    handlers come back afterwards), so cleanups in ``finally`` blocks and
    temporary folders run before stepgrad ends.
    """
    previous = {}
    try:
        for signum, handler in ((signal.SIGTERM, _terminate), (signal.SIGHUP, _terminate),
                                (signal.SIGINT, signal.default_int_handler)):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # an ignored signal stays ignored (nohup, &)
                previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread (an embedding program): leave its signals alone
        pass
    try:
        return _main(argv)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _main(argv: list[str] | None) -> int:
    notes: list[str] = []
    try:
        args = _parser().parse_args(argv)
        for name in ("spec",):
            note = spec_note(getattr(args, name, "") or "")
            if note:
                notes.append(note)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a full disk or a closed device behind standard output is reported here
        for note in notes:
            print(escape.terminal(note), file=sys.stderr)
        return code
    except SpecError as exc:
        print(f"stepgrad: error: {exc}", file=sys.stderr)
        return 2
    except pdf.TexError as exc:
        print(escape.terminal(f"stepgrad: error: {exc}"), file=sys.stderr)
        return 2
    except DerivationError as exc:
        print(escape.terminal(f"stepgrad: internal error (please report it): {exc}")[:500], file=sys.stderr)
        return 3
    except Terminated as exc:
        print("stepgrad: terminated; no file was changed by the unfinished step", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("stepgrad: interrupted; no file was changed by the unfinished step", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # standard output on a full disk, or a file system failing under stepgrad
        where = f"{escape.terminal(str(exc.filename))[:200]}: " if exc.filename else "standard output: cannot write: "
        print(f"stepgrad: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except (MemoryError, RecursionError) as exc:
        print(f"stepgrad: error: the input needs more {'memory' if isinstance(exc, MemoryError) else 'nesting'} "
              "than stepgrad allows", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, no traceback (STEPGRAD_DEBUG=1 shows it)
        if os.environ.get("STEPGRAD_DEBUG") == "1":
            raise
        print(escape.terminal(f"stepgrad: internal error (please report it; STEPGRAD_DEBUG=1 shows where): "
                              f"{type(exc).__name__}: {exc}")[:500], file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
