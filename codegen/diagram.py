"""Lay out the network diagram: neurons in columns, bias boxes and weight labels placed by collision checks.

Every position is in centimetres (TikZ's unit), every size is estimated from the
label's LaTeX, and every label and bias box is placed only where it overlaps no
other label, no neuron and no bias box, preferring spots that no other edge
crosses.  When no such placement exists even at the smallest font, the edges
are drawn without labels and the document lists the weights in its wiring
table.  The same layout feeds the TikZ picture and the SVG figure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from ..symbolic import naming
from ..symbolic.spec import Spec

from .printers import number_text


@dataclass(frozen=True)
class Node:
    """A neuron (circle) or a bias box, centred at (x, y) in centimetres."""

    name: str
    label: str
    x: float
    y: float
    bias: bool = False
    #: A bias box's estimated width and height in centimetres (0 for neurons).
    w: float = 0.0
    h: float = 0.0
    #: A bias box's second line (its value, "=0.35"), when the box is stacked; LaTeX math.
    value: str = ""
    #: How much a neuron's name is scaled down to fit inside its circle (1: not at all).
    scale: float = 1.0


@dataclass(frozen=True)
class Edge:
    """An arrow from src to dst; a weight's label is centred at (x, y), turned by angle degrees."""

    src: str
    dst: str
    label: str
    pos: float
    text: str
    x: float = 0.0
    y: float = 0.0
    angle: float = 0.0
    #: The label's estimated width and height in centimetres.
    w: float = 0.0
    h: float = 0.0


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    #: Whether the edges carry their weights' labels (otherwise a table lists them).
    labelled: bool
    #: Neuron diameter in millimetres, and whether neuron names need the smallest font.
    node_mm: float = 10.0
    tiny: bool = False
    kind: str = "diagram"
    #: LaTeX size commands (without the backslash) of the weight labels, the bias boxes and neuron names.
    weight_font: str = "scriptsize"
    bias_font: str = "scriptsize"
    neuron_font: str = "normalsize"
    #: Whether every bias has its box in the picture.
    biases_drawn: bool = True
    #: The SVG file beside a Markdown document that shows this diagram; "" when none is written.
    figure: str = ""


#: LaTeX font sizes (in the document's 11pt class) and their size in centimetres, largest first.
FONT_CM = {"normalsize": 10.95 * 2.54 / 72.27, "small": 10 * 2.54 / 72.27, "scriptsize": 8 * 2.54 / 72.27, "tiny": 6 * 2.54 / 72.27}
#: TikZ's inner sep of weight labels (1pt) and bias boxes (its default, 0.3333em ~ 3.3pt at 10pt).
LABEL_PAD = 1 * 2.54 / 72.27
BIAS_PAD = 3.5 * 2.54 / 72.27
#: Clearance kept between any two things placed, and between a label and a neuron, in centimetres.
MARGIN = 0.06
NODE_CLEARANCE = 0.15
#: The arrow tip's length: labels keep clear of it.
ARROW = 0.25
#: The picture must fit the text block (A4, 2 cm margins) with some room to spare.
MAX_WIDTH = 16.6
MAX_HEIGHT = 19.0
#: Edge-against-label checks the search for a labelled picture may make (a few seconds at most);
#: past them the picture is drawn unlabelled.  Counted, not timed, so the result never varies.
WORK_BUDGET = 600_000
#: More labels than this never fit an A4 page legibly: the collision checks are not even tried.
MAX_LABELS = 100
#: A picture up to this height shares its page with the section's opening lines.
COMFORTABLE_HEIGHT = 13.5

#: Advance widths of Computer Modern math glyphs, in em, for the characters labels use.
_WIDTHS = {".": 0.28, ",": 0.28, "=": 1.34, "-": 0.78, "+": 1.22, "(": 0.39, ")": 0.39}
_SCRIPT = 0.75  # subscript size over text size
#: TeX's small sizes use wider designs (cmr6, cmmi5), measured on compiled labels against cmr10's widths.
_DESIGN = {"normalsize": 1.0, "small": 1.0, "scriptsize": 1.06, "tiny": 1.31}
_SAFETY = 1.06  # estimates err wide: a label is never narrower than its box


def _text_em(text: str, font: str = "small") -> float:
    """Estimate the width in em of LaTeX math built from names and numbers (w_{13}=-0.24)."""
    total, scale, depth = 0.0, 1.0, []
    k = 0
    while k < len(text):
        ch = text[k]
        if ch in "_^" and text[k + 1:k + 2] == "{":
            depth.append(scale)
            scale = _SCRIPT
            k += 2
            continue
        if ch == "}" and depth:
            scale = depth.pop()
        elif ch == "\\":
            m = re.match(r"\\[A-Za-z]+", text[k:])
            total += 0.8 * scale
            k += len(m.group(0)) if m else 2
            continue
        elif ch.isdigit():
            total += 0.5 * scale
        elif ch in _WIDTHS:
            total += _WIDTHS[ch] * scale
        elif ch.isalpha():
            total += (0.85 if ch in "mwMW" else 0.58) * scale
        k += 1
    return total * _DESIGN[font] * _SAFETY


def text_size(latex: str, font: str, pad: float, second: str = "") -> tuple[float, float]:
    """Estimate a label's box (width, height) in centimetres, padding included; *second* is a second line."""
    em = FONT_CM[font]
    width = max(_text_em(latex, font), _text_em(second, font)) * em
    return width + 2 * pad, (1.25 + (1.3 if second else 0)) * em + 2 * pad


# -- geometry -----------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """A rectangle centred at (cx, cy) with half-sizes (hw, hh), turned by angle radians."""

    cx: float
    cy: float
    hw: float
    hh: float
    angle: float = 0.0

    def local(self, x: float, y: float) -> tuple[float, float]:
        """A point in the box's own frame."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx, dy = x - self.cx, y - self.cy
        return dx * c + dy * s, -dx * s + dy * c

    def corners(self) -> list[tuple[float, float]]:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return [(self.cx + a * self.hw * c - b * self.hh * s, self.cy + a * self.hw * s + b * self.hh * c)
                for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]

    def grown(self, by: float) -> "Box":
        return Box(self.cx, self.cy, self.hw + by, self.hh + by, self.angle)


def boxes_overlap(a: Box, b: Box) -> bool:
    """Whether two turned rectangles overlap (separating axis test)."""
    if math.hypot(a.cx - b.cx, a.cy - b.cy) > math.hypot(a.hw, a.hh) + math.hypot(b.hw, b.hh):
        return False  # their circumscribed circles are apart
    for box in (a, b):
        for axis in (box.angle, box.angle + math.pi / 2):
            ux, uy = math.cos(axis), math.sin(axis)
            pa = [x * ux + y * uy for x, y in a.corners()]
            pb = [x * ux + y * uy for x, y in b.corners()]
            if max(pa) <= min(pb) or max(pb) <= min(pa):
                return False
    return True


def box_hits_circle(box: Box, x: float, y: float, r: float) -> bool:
    """Whether a turned rectangle overlaps a circle."""
    if abs(x - box.cx) > r + box.hw + box.hh or abs(y - box.cy) > r + box.hw + box.hh:
        return False
    lx, ly = box.local(x, y)
    nx, ny = max(-box.hw, min(box.hw, lx)), max(-box.hh, min(box.hh, ly))
    return (lx - nx) ** 2 + (ly - ny) ** 2 < r * r


def segment_hits_box(p: tuple[float, float], q: tuple[float, float], box: Box) -> bool:
    """Whether the segment p-q passes through a turned rectangle (Liang-Barsky clipping)."""
    reach = math.hypot(box.hw, box.hh)
    if (max(p[0], q[0]) < box.cx - reach or min(p[0], q[0]) > box.cx + reach
            or max(p[1], q[1]) < box.cy - reach or min(p[1], q[1]) > box.cy + reach):
        return False
    x0, y0 = box.local(*p)
    x1, y1 = box.local(*q)
    t0, t1 = 0.0, 1.0
    for d, lo, hi in ((x1 - x0, -box.hw - x0, box.hw - x0), (y1 - y0, -box.hh - y0, box.hh - y0)):
        if abs(d) < 1e-12:
            if lo > 0 or hi < 0:
                return False
            continue
        a, b = lo / d, hi / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return False
    return True


def segment_hits_circle(p, q, x: float, y: float, r: float) -> bool:
    """Whether the segment p-q comes closer than r to (x, y)."""
    (px, py), (qx, qy) = p, q
    dx, dy = qx - px, qy - py
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - px) * dx + (y - py) * dy) / length2))
    cx, cy = px + t * dx, py + t * dy
    return (cx - x) ** 2 + (cy - y) ** 2 < r * r


def border_point(node: Node, toward: tuple[float, float], r: float) -> tuple[float, float]:
    """Where the line from *node*'s centre toward a point leaves its circle or box."""
    dx, dy = toward[0] - node.x, toward[1] - node.y
    length = math.hypot(dx, dy) or 1.0
    if not node.bias:
        return node.x + r * dx / length, node.y + r * dy / length
    scale = min(node.w / 2 / abs(dx) if dx else math.inf, node.h / 2 / abs(dy) if dy else math.inf)
    return node.x + dx * scale, node.y + dy * scale


def node_box(node: Node) -> Box:
    return Box(node.x, node.y, node.w / 2, node.h / 2)


# -- the layout -----------------------------------------------------------------

#: Where along an edge (0 at the source's border, 1 at the target's) a label may sit, in order of
#: preference: sloped edges first try 0.3 as the post's figure does, level edges the middle.
#: Past those, every 0.03 between 0.1 and 0.9.
_FINE = tuple(round(0.1 + 0.03 * k, 2) for k in range(27))
SLOPED_TS = (0.3, 0.7, 0.25, 0.75, 0.35, 0.65, 0.2, 0.8, 0.4, 0.6, 0.45, 0.55, 0.5, 0.15, 0.85) + _FINE
LEVEL_TS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.35, 0.65, 0.25, 0.75, 0.2, 0.8, 0.45, 0.55, 0.15, 0.85) + _FINE
#: Directions (degrees) in which a per-neuron bias box may sit from its neuron, in order of preference.
#: How many times label placement starts again with the label that found no spot first.
RESTARTS = 4
BIAS_DIRECTIONS = (90, 270, 120, 240, 60, 300, 135, 225, 45, 315, 150, 210, 30, 330, 180)


class _Placement:
    """Neuron positions for one spacing, and the labels and boxes placed so far."""

    def __init__(self, spec: Spec, dx: float, dy: float, node_mm: float, shared: dict | None = None):
        self.spec = spec
        #: Work shared by placements at the same spacing: which edges each label spot crosses.
        self.shared = {} if shared is None else shared
        self.r = node_mm / 20
        self.nodes: dict[str, Node] = {}
        widest = max(len(layer.neurons) for layer in spec.layers)
        self.bottom = -(widest - 1) * dy / 2
        for k, layer in enumerate(spec.layers):
            top = (len(layer.neurons) - 1) * dy / 2
            for j, n in enumerate(layer.neurons):
                self.nodes[n] = Node(n, naming.latex_name(n), round(k * dx, 3), round(top - j * dy, 3))
        self.neurons = list(self.nodes.values())
        self.dx, self.dy = dx, dy
        self.segments = [self.ends(self.nodes[w.src], self.nodes[w.dst]) for w in spec.weights]
        self.boxes: list[Box] = []       # bias boxes and labels placed so far
        self._candidates: dict[tuple[int, str], tuple] = {}
        self.biases: list[Node] = []
        self.arrows: list[tuple] = []    # bias arrows

    def ends(self, a: Node, b: Node) -> tuple[tuple[float, float], tuple[float, float]]:
        """An edge's visible segment, border to border."""
        return border_point(a, (b.x, b.y), self.r), border_point(b, (a.x, a.y), self.r)

    def clear(self, box: Box, grow: float = MARGIN) -> bool:
        """Whether *box* keeps clear of every neuron, bias box and label placed."""
        if any(box_hits_circle(box, n.x, n.y, self.r + NODE_CLEARANCE) for n in self.neurons):
            return False
        return not any(boxes_overlap(box.grown(grow), other) for other in self.boxes)

    # -- biases
    def place_biases(self, font: str, with_values: bool, stacked: bool = False) -> bool:
        """Place every bias box; False when some per-neuron box finds no clear spot.

        A *stacked* per-neuron box puts its value under its name, narrower to fit between edges.
        """
        values = dict(self.spec.initial)
        for b in self.spec.biases:
            name = naming.latex_name(b.name)
            value = f"={number_text(values[b.name])}" if with_values else ""
            if len(b.neurons) > 1:
                label = name + value
                w, h = text_size(label, font, BIAS_PAD)
                x = (b.layer - 1) * self.dx
                y = self.bottom - self.dy * 0.9
                node = Node(b.name, label, round(x, 3), round(y, 3), True, round(w, 3), round(h, 3))
                self.add_bias(node, b.neurons)
                continue
            label, second = (name, value) if stacked and value else (name + value, "")
            w, h = text_size(label, font, BIAS_PAD, second)
            node = self.bias_spot(b.name, label, w, h, self.nodes[b.neurons[0]], second)
            if node is None:
                return False
            self.add_bias(node, b.neurons)
        return True

    def add_bias(self, node: Node, neurons) -> None:
        self.biases.append(node)
        self.boxes.append(node_box(node))
        for n in neurons:
            self.arrows.append(self.ends(node, self.nodes[n]))

    def bias_spot(self, name: str, label: str, w: float, h: float, neuron: Node, second: str = "") -> Node | None:
        """The first spot around *neuron* where a box crosses no edge and touches nothing placed."""
        for distance in (0.18, 0.45):
            for deg in BIAS_DIRECTIONS:
                a = math.radians(deg)
                ux, uy = math.cos(a), math.sin(a)
                # the distance from the centre to the box's border along the direction
                reach = min(w / 2 / abs(ux) if abs(ux) > 1e-9 else math.inf,
                            h / 2 / abs(uy) if abs(uy) > 1e-9 else math.inf)
                d = self.r + distance + reach
                node = Node(name, label, round(neuron.x + d * ux, 3), round(neuron.y + d * uy, 3), True,
                            round(w, 3), round(h, 3), second)
                box = node_box(node).grown(MARGIN)
                arrow = self.ends(node, neuron)
                if not self.clear(box):
                    continue
                if any(segment_hits_box(p, q, box) for p, q in self.segments + self.arrows):
                    continue
                if any(segment_hits_circle(*arrow, n.x, n.y, self.r) for n in self.neurons if n is not neuron):
                    continue
                if any(segment_hits_box(*arrow, other) for other in self.boxes):
                    continue
                if any(_cross(arrow, s) for s in self.segments):
                    continue
                return node
        return None

    # -- weight labels
    def place_labels(self, font: str) -> list[Edge] | None:
        """Label every weight's edge, or None when some label finds no clear spot.

        Labels are placed one by one; when one finds no spot, it goes first and all start
        again, a few times, since the labels placed early take the spots the later ones need.
        """
        base = list(self.boxes)
        order = list(range(len(self.spec.weights)))
        for _ in range(RESTARTS + 1):
            self.boxes = list(base)
            placed: dict[int, Edge] = {}
            for k in order:
                edge = self.label_spot(k, font)
                if edge is None:
                    order.remove(k)
                    order.insert(0, k)
                    break
                placed[k] = edge
            else:
                return [placed[k] for k in range(len(order))]
        self.boxes = base
        return None

    def label_spot(self, k: int, font: str) -> Edge | None:
        """Place weight *k*'s label where it touches nothing placed and crosses the fewest edges."""
        wt = self.spec.weights[k]
        label, value, w, h, angle, spots = self.label_candidates(k, font)
        for t, box in spots:
            if self.clear(box):
                self.boxes.append(box)
                return Edge(wt.src, wt.dst, label, t, f"{wt.name} = {value}", round(box.cx, 3), round(box.cy, 3),
                            round(math.degrees(angle), 2), round(w, 3), round(h, 3))
        return None

    def label_candidates(self, k: int, font: str):
        """Weight *k*'s label and its spots along the edge, fewest crossed edges first, then by preference.

        The edges a spot crosses do not depend on the other labels, so this is worked out once.
        """
        key = (k, font)
        if key in self._candidates:
            return self._candidates[key]
        wt = self.spec.weights[k]
        value = number_text(dict(self.spec.initial)[wt.name])
        label = f"{naming.latex_name(wt.name)}={value}"
        w, h = text_size(label, font, LABEL_PAD)
        (px, py), (qx, qy) = self.segments[k]
        length = math.hypot(qx - px, qy - py)
        angle = math.atan2(qy - py, qx - px)
        if angle > math.pi / 2:
            angle -= math.pi
        elif angle <= -math.pi / 2:
            angle += math.pi
        ts = LEVEL_TS if abs(qy - py) < 1e-9 else SLOPED_TS
        reach = w + h  # only edges that come this near the edge can cross a spot on it
        lo_x, hi_x, lo_y, hi_y = min(px, qx) - reach, max(px, qx) + reach, min(py, qy) - reach, max(py, qy) + reach

        def near(segments):
            return [(a, b) for a, b in segments if max(a[0], b[0]) >= lo_x and min(a[0], b[0]) <= hi_x
                    and max(a[1], b[1]) >= lo_y and min(a[1], b[1]) <= hi_y]

        weights = near(s for j, s in enumerate(self.segments) if j != k)
        arrows = near(self.arrows)
        self.shared["work"] = self.shared.get("work", 0) + len(ts) * (len(weights) + len(arrows))
        crossed = self.shared.setdefault((self.dx, self.dy, self.r, k, font), {})
        ranked = []
        for order, t in enumerate(ts):
            if t * length < w / 2 + MARGIN or (1 - t) * length < w / 2 + ARROW:
                continue
            box = Box(px + t * (qx - px), py + t * (qy - py), w / 2, h / 2, angle)
            if any(box_hits_circle(box, n.x, n.y, self.r + NODE_CLEARANCE) for n in self.neurons):
                continue
            if t not in crossed:
                crossed[t] = sum(segment_hits_box(p, q, box) for p, q in weights)
            crossings = crossed[t] + sum(segment_hits_box(p, q, box) for p, q in arrows)
            ranked.append((crossings, order, t, box))
        ranked.sort(key=lambda c: (c[0], c[1]))
        result = (label, value, w, h, angle, [(t, box) for _, _, t, box in ranked])
        self._candidates[key] = result
        return result

    def extent(self) -> tuple[float, float]:
        """The picture's width and height in centimetres."""
        xs, ys = [], []
        for n in self.neurons:
            xs += [n.x - self.r, n.x + self.r]
            ys += [n.y - self.r, n.y + self.r]
        for box in self.boxes:
            for x, y in box.corners():
                xs.append(x)
                ys.append(y)
        return max(xs) - min(xs), max(ys) - min(ys)

    def fits(self) -> bool:
        width, height = self.extent()
        return width <= MAX_WIDTH and height <= MAX_HEIGHT


def _cross(s: tuple, t: tuple) -> bool:
    """Whether two segments properly cross (touching at an end does not count)."""
    (ax, ay), (bx, by) = s
    (cx, cy), (dx, dy) = t

    def side(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)

    d1, d2 = side(cx, cy, dx, dy, ax, ay), side(cx, cy, dx, dy, bx, by)
    d3, d4 = side(ax, ay, bx, by, cx, cy), side(ax, ay, bx, by, dx, dy)
    return d1 * d2 < 0 and d3 * d4 < 0


def _spacings(spec: Spec) -> list[tuple[float, float, float]]:
    """Candidate (dx, dy, neuron diameter in mm): the post's spacing first, then roomier ones."""
    columns = max(1, len(spec.layers) - 1)
    widest = max(len(layer.neurons) for layer in spec.layers)
    dx = min(4.6, 15.0 / columns)
    dy = min(2.4, 15.0 / max(1, widest - 1))
    node_mm = round(min(10.0, dy * 7.0), 1)
    out = [(dx, dy, node_mm)]
    widest_dx = max(dx, (MAX_WIDTH - 2.5) / columns)
    for more_x, more_y in ((1.0, 1.3), (1.0, 1.6), (1.5, 1.0), (1.5, 1.3), (1.5, 1.6), (2.0, 1.0), (2.0, 1.3),
                           (1.0, 2.0), (2.0, 2.0)):
        tall = dy * more_y
        if (widest - 1) * tall <= MAX_HEIGHT - 3:
            out.append((round(min(dx * more_x, widest_dx), 3), round(tall, 3), node_mm))
    # Smaller neurons leave short edges room for their labels (many layers side by side).
    out += [(x, y, min(node_mm, 7.0)) for x, y, _ in out]
    return list(dict.fromkeys(out))


def layout(spec: Spec) -> Diagram:
    """Lay the network out: labelled when every label finds a clear spot, else unlabelled.

    >>> from stepgrad.symbolic.spec import load
    >>> d = layout(load("mazur"))
    >>> d.labelled, [n.name for n in d.nodes][:3]
    (True, ['i1', 'i2', 'h1'])
    """
    spacings = _spacings(spec)
    tried: dict[tuple, tuple | None] = {}
    shared: dict = {}
    # A picture that fits beside the section's first lines comes first, even in a smaller font.
    for height in (COMFORTABLE_HEIGHT, MAX_HEIGHT) if len(spec.weights) <= MAX_LABELS else ():
        for fonts in (("scriptsize", "small", False), ("scriptsize", "scriptsize", False),
                      ("scriptsize", "scriptsize", True), ("tiny", "tiny", False), ("tiny", "tiny", True)):
            for spacing in spacings:
                key = fonts + spacing
                if key not in tried:
                    tried[key] = _labelled(spec, spacing, *fonts, shared)
                if tried[key] is not None and tried[key][0].extent()[1] <= height:
                    place, edges = tried[key]
                    return _finish(place, edges, True, fonts[0], fonts[1], spacing[2], True)
    # Unlabelled, the picture only shows the wiring's shape: keep it compact, with its bias boxes
    # only when they fit without making it taller.
    dx, dy, node_mm = spacings[0]
    widest = max(len(layer.neurons) for layer in spec.layers)
    compact = (dx, min(dy, 11.0 / max(1, widest - 1)), node_mm)
    for font, with_values, stacked in (("scriptsize", True, False), ("scriptsize", True, True),
                                       ("tiny", True, True), ("tiny", False, False)):
        for spacing in [compact] + spacings:
            place = _Placement(spec, *spacing)
            if place.place_biases(font, with_values, stacked) and place.fits() \
                    and place.extent()[1] <= COMFORTABLE_HEIGHT:
                return _finish(place, _plain_edges(spec), False, "scriptsize", font, spacing[2], True)
    place = _Placement(spec, *compact)
    return _finish(place, _plain_edges(spec), False, "scriptsize", "scriptsize", compact[2], False)


def _labelled(spec: Spec, spacing: tuple, font: str, bias_font: str, stacked: bool, shared: dict):
    """Place bias boxes and weight labels at one spacing: (placement, edges), or None."""
    if shared.get("work", 0) > WORK_BUDGET:
        return None
    place = _Placement(spec, *spacing, shared)
    if not place.place_biases(bias_font, True, stacked):
        return None
    edges = place.place_labels(font)
    if edges is None or not place.fits():
        return None
    return place, edges


def _plain_edges(spec: Spec) -> list[Edge]:
    values = dict(spec.initial)
    return [Edge(w.src, w.dst, "", 0.5, f"{w.name} = {number_text(values[w.name])}") for w in spec.weights]


def _finish(place: _Placement, edges: list[Edge], labelled: bool, font: str, bias_font: str,
            node_mm: float, biases_drawn: bool) -> Diagram:
    """Assemble the diagram: neurons, bias boxes, then bias arrows and weight edges."""
    neuron_font = "tiny" if node_mm < 6 else "small" if node_mm < 9 else "normalsize"
    inside = node_mm / 10 * 0.8  # the width a name may take inside its circle, in centimetres
    neurons = [replace(n, scale=min(1.0, math.floor(100 * inside / text_size(n.label, neuron_font, 0)[0]) / 100))
               for n in place.neurons]
    nodes = neurons + (place.biases if biases_drawn else [])
    bias_edges = []
    if biases_drawn:
        for b in place.spec.biases:
            bias_edges += [Edge(b.name, n, "", 0.5, "") for n in b.neurons]
    return Diagram(tuple(nodes), tuple(bias_edges + edges), labelled, node_mm, node_mm < 6,
                   weight_font=font, bias_font=bias_font, neuron_font=neuron_font, biases_drawn=biases_drawn)


def with_figure(d: Diagram, name: str) -> Diagram:
    """The same diagram, naming the SVG file that shows it beside a Markdown document."""
    return replace(d, figure=name)
