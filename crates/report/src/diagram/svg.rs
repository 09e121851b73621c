//! The SVG drawing of a [`Graph`]: a simple deterministic layout of our own.
//!
//! Zones are columns in file order, of equal height, their nodes stacked and centred inside.
//! An edge leaves a node from the side that faces its target at a port of its own; edges
//! inside one zone have both ends on the side of the column that fewer zone-crossing edges
//! use and bulge into the gutter, nested by length. The ports of a side are spread over its
//! height in the order of the other ends, so edges seldom cross near nodes. Edges that skip a zone pass through a free gap between that zone's nodes.
//! Labels are tried along the edge from its middle outwards and put at the first place
//! that overlaps no node, zone title or label; when there is none, the edge shows only its
//! number. A legend under the drawing lists every edge with its full label.
//!
//! Text widths are estimated (fixed width per character), so no font metrics are needed and
//! the output only depends on the graph. Coordinates are printed with one decimal.

use std::fmt::Write as _;

use super::{Edge, Graph, escape_xml, fit};

const MARGIN: f64 = 20.0;
/// Room between zone columns (and right of the last one when it has inner edges).
const GUTTER: f64 = 210.0;
/// Padding inside a zone box.
const PAD: f64 = 14.0;
/// Height of a zone's title block.
const HEADER: f64 = 42.0;
/// Vertical space between nodes.
const NODE_GAP: f64 = 26.0;
const NODE_MIN_H: f64 = 44.0;
/// Vertical room per edge port on a node side.
const PORT_STEP: f64 = 11.0;
const NODE_MIN_W: f64 = 140.0;
const NODE_MAX_W: f64 = 240.0;
/// Estimated advance of one character of node text (12px bold sans-serif).
const NODE_CHAR_W: f64 = 7.2;
/// Estimated advance of one character of 11px monospace text.
const MONO_CHAR_W: f64 = 6.7;
const LABEL_H: f64 = 15.0;
/// Longest edge label on the drawing (the legend holds the rest).
const LABEL_MAX: usize = 28;
const LEGEND_LINE: f64 = 16.0;
/// Samples per curve segment when looking for a label place.
const SAMPLES: usize = 16;

const STYLE: &str = "\
.rdsports-diagram{--rd-bg:#ffffff;--rd-fg:#111827;--rd-muted:#4b5563;--rd-zone:#f3f4f6;\
--rd-zone-line:#9ca3af;--rd-node:#ffffff;--rd-node-line:#374151;--rd-cross:#2563eb;\
--rd-inner:#6b7280;--rd-label-bg:#ffffff;\
font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
@media (prefers-color-scheme:dark){.rdsports-diagram{--rd-bg:#111827;--rd-fg:#f3f4f6;\
--rd-muted:#9ca3af;--rd-zone:#1f2937;--rd-zone-line:#4b5563;--rd-node:#111827;\
--rd-node-line:#d1d5db;--rd-cross:#60a5fa;--rd-inner:#9ca3af;--rd-label-bg:#111827}}
@media print{.rdsports-diagram{--rd-bg:#ffffff;--rd-fg:#000000;--rd-muted:#374151;\
--rd-zone:#f3f4f6;--rd-zone-line:#6b7280;--rd-node:#ffffff;--rd-node-line:#111827;\
--rd-cross:#1d4ed8;--rd-inner:#4b5563;--rd-label-bg:#ffffff}}
.rdsports-diagram .rd-bg{fill:var(--rd-bg)}
.rdsports-diagram text{fill:var(--rd-fg)}
.rdsports-diagram .rd-zone rect{fill:var(--rd-zone);stroke:var(--rd-zone-line);stroke-width:1}
.rdsports-diagram .rd-zone .rd-name{font-size:14px;font-weight:700}
.rdsports-diagram .rd-zone .rd-nets,.rdsports-diagram .rd-sub{font-size:11px;fill:var(--rd-muted)}
.rdsports-diagram .rd-node rect{fill:var(--rd-node);stroke:var(--rd-node-line);stroke-width:1.2}
.rdsports-diagram .rd-node .rd-title{font-size:12px;font-weight:700}
.rdsports-diagram .rd-edge path{fill:none;stroke-width:1.3}
.rdsports-diagram .rd-cross path{stroke:var(--rd-cross)}
.rdsports-diagram .rd-inner path{stroke:var(--rd-inner);stroke-dasharray:5 3}
.rdsports-diagram .rd-arrow-cross{fill:var(--rd-cross)}
.rdsports-diagram .rd-arrow-inner{fill:var(--rd-inner)}
.rdsports-diagram .rd-label rect{fill:var(--rd-label-bg);fill-opacity:0.9;stroke-width:0.8}
.rdsports-diagram .rd-label.rd-cross rect{stroke:var(--rd-cross)}
.rdsports-diagram .rd-label.rd-inner rect{stroke:var(--rd-inner)}
.rdsports-diagram .rd-label text,.rdsports-diagram .rd-legend text{font-family:ui-monospace,\
'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:11px}
.rdsports-diagram .rd-legend .rd-head{font-family:inherit;font-size:13px;font-weight:700}
";

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn right(&self) -> f64 {
        self.x + self.w
    }

    fn bottom(&self) -> f64 {
        self.y + self.h
    }

    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }

    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }

    fn inflate(&self, d: f64) -> Rect {
        Rect {
            x: self.x - d,
            y: self.y - d,
            w: self.w + 2.0 * d,
            h: self.h + 2.0 * d,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: f64,
    y: f64,
}

/// A cubic Bézier segment.
#[derive(Debug, Clone, Copy)]
struct Cubic {
    p0: Point,
    c1: Point,
    c2: Point,
    p1: Point,
}

impl Cubic {
    /// A segment that leaves and enters horizontally.
    fn horizontal(p0: Point, p1: Point) -> Cubic {
        let dx = (p1.x - p0.x) / 2.0;
        Cubic {
            p0,
            c1: Point {
                x: p0.x + dx,
                y: p0.y,
            },
            c2: Point {
                x: p1.x - dx,
                y: p1.y,
            },
            p1,
        }
    }

    fn at(&self, t: f64) -> Point {
        let u = 1.0 - t;
        let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        Point {
            x: a * self.p0.x + b * self.c1.x + c * self.c2.x + d * self.p1.x,
            y: a * self.p0.y + b * self.c1.y + c * self.c2.y + d * self.p1.y,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
}

impl Side {
    /// 0 or 1: the index into the `[_; 2]` arrays kept per node side, so indexing them with
    /// it cannot panic.
    fn index(self) -> usize {
        match self {
            Side::Left => 0,
            Side::Right => 1,
        }
    }
}

/// One end of an edge on a node side.
#[derive(Debug, Clone, Copy)]
struct Port {
    edge: usize,
    /// 0: the edge's source end, 1: its destination end.
    end: usize,
}

/// Where a label went.
struct Placed {
    rect: Rect,
    text: String,
}

/// Renders the graph as a standalone SVG document.
pub(super) fn render(g: &Graph, marks: &[Option<&'static str>]) -> String {
    let layout = Layout::new(g);
    layout.draw(g, marks)
}

struct Layout {
    width: f64,
    height: f64,
    /// Zone boxes, one per cluster.
    zones: Vec<Rect>,
    /// Node boxes, one per node.
    nodes: Vec<Rect>,
    /// Curve of each edge.
    paths: Vec<Vec<Cubic>>,
    /// Label of each edge.
    labels: Vec<Placed>,
    /// Top of the legend.
    legend_y: f64,
    /// Legend lines: (continuation of the previous entry, text).
    legend: Vec<(bool, String)>,
}

impl Layout {
    fn new(g: &Graph) -> Layout {
        let col = |n: usize| g.nodes.get(n).map_or(0, |n| n.cluster);
        let cross_sides = |e: &Edge| -> (Side, Side) {
            if col(e.from) < col(e.to) {
                (Side::Right, Side::Left)
            } else {
                (Side::Left, Side::Right)
            }
        };
        // Edges inside a zone bulge out of the side of the zone's column that fewer
        // zone-crossing edges use (the right one on a tie).
        let mut crossing = vec![[0usize; 2]; g.clusters.len()];
        let mut has_inner = vec![false; g.clusters.len()];
        for e in &g.edges {
            if col(e.from) == col(e.to) {
                if let Some(h) = has_inner.get_mut(col(e.from)) {
                    *h = true;
                }
                continue;
            }
            let (s0, s1) = cross_sides(e);
            for (c, side) in [(col(e.from), s0), (col(e.to), s1)] {
                if let Some(count) = crossing.get_mut(c) {
                    count[side.index()] += 1;
                }
            }
        }
        let arc_side: Vec<Side> = crossing
            .iter()
            .map(|[l, r]| if r <= l { Side::Right } else { Side::Left })
            .collect();
        let sides = |e: &Edge| -> (Side, Side) {
            if col(e.from) == col(e.to) {
                let s = arc_side.get(col(e.from)).copied().unwrap_or(Side::Right);
                (s, s)
            } else {
                cross_sides(e)
            }
        };
        // Ports per node side.
        let mut ports: Vec<[Vec<Port>; 2]> = vec![[Vec::new(), Vec::new()]; g.nodes.len()];
        for (i, e) in g.edges.iter().enumerate() {
            let (s0, s1) = sides(e);
            if let Some(p) = ports.get_mut(e.from) {
                p[s0.index()].push(Port { edge: i, end: 0 });
            }
            if let Some(p) = ports.get_mut(e.to) {
                p[s1.index()].push(Port { edge: i, end: 1 });
            }
        }

        // Column widths and node heights.
        let widths: Vec<f64> = g
            .clusters
            .iter()
            .map(|c| {
                let chars = c
                    .nodes
                    .iter()
                    .filter_map(|&n| g.nodes.get(n))
                    .map(|n| n.title.chars().count().max(n.subtitle.chars().count()))
                    .max()
                    .unwrap_or(0);
                (chars as f64 * NODE_CHAR_W + 24.0).clamp(NODE_MIN_W, NODE_MAX_W)
            })
            .collect();
        let heights: Vec<f64> = ports
            .iter()
            .map(|p| {
                let [left, right] = p;
                let busiest = left.len().max(right.len()) as f64;
                (busiest * PORT_STEP + 10.0).max(NODE_MIN_H)
            })
            .collect();
        let column_h: Vec<f64> = g
            .clusters
            .iter()
            .map(|c| {
                let sum: f64 = c.nodes.iter().filter_map(|&n| heights.get(n)).sum();
                sum + NODE_GAP * (c.nodes.len().saturating_sub(1)) as f64
            })
            .collect();
        let inner_h = column_h.iter().copied().fold(0.0, f64::max);
        let zone_h = HEADER + inner_h + 2.0 * PAD;

        let mut zones = Vec::with_capacity(g.clusters.len());
        let mut nodes = vec![
            Rect {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0
            };
            g.nodes.len()
        ];
        let outer = |c: usize, side: Side| {
            has_inner.get(c).copied().unwrap_or(false) && arc_side.get(c) == Some(&side)
        };
        let last = g.clusters.len().saturating_sub(1);
        let mut x = MARGIN + if outer(0, Side::Left) { GUTTER } else { 0.0 };
        for (c, cluster) in g.clusters.iter().enumerate() {
            let w = widths.get(c).copied().unwrap_or(NODE_MIN_W);
            let zone = Rect {
                x,
                y: MARGIN,
                w: w + 2.0 * PAD,
                h: zone_h,
            };
            let mut y =
                MARGIN + HEADER + PAD + (inner_h - column_h.get(c).copied().unwrap_or(0.0)) / 2.0;
            for &n in &cluster.nodes {
                let h = heights.get(n).copied().unwrap_or(NODE_MIN_H);
                if let Some(r) = nodes.get_mut(n) {
                    *r = Rect {
                        x: x + PAD,
                        y,
                        w,
                        h,
                    };
                }
                y += h + NODE_GAP;
            }
            zones.push(zone);
            x += zone.w + GUTTER;
        }
        let width = (x - GUTTER
            + if outer(last, Side::Right) {
                GUTTER
            } else {
                MARGIN
            })
        .max(2.0 * MARGIN);

        // Port positions: each side's ports ordered by the other end's height.
        let mut port_y: Vec<[f64; 2]> = vec![[0.0; 2]; g.edges.len()];
        for (n, sides) in ports.iter_mut().enumerate() {
            let Some(rect) = nodes.get(n).copied() else {
                continue;
            };
            for side in sides.iter_mut() {
                // Top to bottom: crossing edges to higher nodes, inner edges to higher
                // nodes (nearest first), loops, inner edges to lower nodes (farthest first),
                // crossing edges to lower nodes. Inner arcs then nest without crossing.
                side.sort_by(|a, b| {
                    let key = |p: &Port| {
                        let e = g.edges.get(p.edge);
                        let other = e.map_or(n, |e| if p.end == 0 { e.to } else { e.from });
                        let oy = nodes.get(other).map_or(0.0, Rect::cy);
                        let inner = col(other) == col(n);
                        let above = oy < rect.cy();
                        let (class, value) = match (other == n, inner, above) {
                            (true, _, _) => (2, 0.0),
                            (false, true, true) => (1, -oy),
                            (false, true, false) => (3, -oy),
                            (false, false, true) => (0, oy),
                            (false, false, false) => (4, oy),
                        };
                        (class, value, p.edge, p.end)
                    };
                    let (ka, kb) = (key(a), key(b));
                    ka.0.cmp(&kb.0)
                        .then(ka.1.total_cmp(&kb.1))
                        .then(ka.2.cmp(&kb.2))
                        .then(ka.3.cmp(&kb.3))
                });
                let k = side.len() as f64;
                for (i, p) in side.iter().enumerate() {
                    if let Some(slot) = port_y.get_mut(p.edge).and_then(|s| s.get_mut(p.end)) {
                        *slot = rect.y + rect.h * (i as f64 + 1.0) / (k + 1.0);
                    }
                }
            }
        }

        // Curves.
        let mut gap_use: Vec<Vec<usize>> = g
            .clusters
            .iter()
            .map(|c| vec![0; c.nodes.len() + 1])
            .collect();
        let mut paths = Vec::with_capacity(g.edges.len());
        for (i, e) in g.edges.iter().enumerate() {
            let (Some(a), Some(b)) = (nodes.get(e.from).copied(), nodes.get(e.to).copied()) else {
                paths.push(Vec::new());
                continue;
            };
            let [ya, yb] = port_y.get(i).copied().unwrap_or([a.cy(), b.cy()]);
            let (ca, cb) = (col(e.from), col(e.to));
            let (side, _) = sides(e);
            let (x, dir) = match side {
                Side::Right => (a.right(), 1.0),
                Side::Left => (a.x, -1.0),
            };
            let path = if e.from == e.to {
                vec![Cubic {
                    p0: Point { x, y: ya },
                    c1: Point {
                        x: x + dir * 46.0,
                        y: ya - 8.0,
                    },
                    c2: Point {
                        x: x + dir * 46.0,
                        y: yb + 8.0,
                    },
                    p1: Point { x, y: yb },
                }]
            } else if ca == cb {
                let bulge = (30.0 + 0.45 * (yb - ya).abs()).min(GUTTER - 30.0);
                vec![Cubic {
                    p0: Point { x, y: ya },
                    c1: Point {
                        x: x + dir * bulge,
                        y: ya,
                    },
                    c2: Point {
                        x: x + dir * bulge,
                        y: yb,
                    },
                    p1: Point { x, y: yb },
                }]
            } else {
                let forward = ca < cb;
                let start = Point {
                    x: if forward { a.right() } else { a.x },
                    y: ya,
                };
                let end = Point {
                    x: if forward { b.x } else { b.right() },
                    y: yb,
                };
                let between: Vec<usize> = if forward {
                    (ca + 1..cb).collect()
                } else {
                    (cb + 1..ca).rev().collect()
                };
                let mut points = vec![start];
                for c in between {
                    let (Some(zone), Some(cluster)) = (zones.get(c), g.clusters.get(c)) else {
                        continue;
                    };
                    // The straight line's height at the middle of the zone.
                    let mid = zone.x + zone.w / 2.0;
                    let t = (mid - start.x) / (end.x - start.x);
                    let want = start.y + t * (end.y - start.y);
                    // Free gaps: above the first node, between nodes, below the last.
                    let mut edges_y = vec![zone.y + HEADER];
                    for &n in &cluster.nodes {
                        if let Some(r) = nodes.get(n) {
                            edges_y.push(r.y);
                            edges_y.push(r.bottom());
                        }
                    }
                    edges_y.push(zone.bottom());
                    let mut best: Option<(f64, usize, f64)> = None;
                    for (k, pair) in edges_y.chunks(2).enumerate() {
                        if let [top, bottom] = pair {
                            let cy = (top + bottom) / 2.0;
                            let d = (cy - want).abs();
                            if best.is_none_or(|(bd, _, _)| d < bd) {
                                best = Some((d, k, cy));
                            }
                        }
                    }
                    if let Some((_, k, cy)) = best {
                        let used = gap_use.get_mut(c).and_then(|u| u.get_mut(k));
                        let n = used.as_ref().map_or(0, |u| **u);
                        if let Some(u) = used {
                            *u += 1;
                        }
                        // `n % 5` indexes the five offsets.
                        let offset = [0.0, 4.0, -4.0, 8.0, -8.0][n % 5];
                        let y = cy + offset;
                        let (l, r) = (zone.x, zone.right());
                        if forward {
                            points.push(Point { x: l, y });
                            points.push(Point { x: r, y });
                        } else {
                            points.push(Point { x: r, y });
                            points.push(Point { x: l, y });
                        }
                    }
                }
                points.push(end);
                points
                    .windows(2)
                    .filter_map(|w| match w {
                        [p, q] => Some(Cubic::horizontal(*p, *q)),
                        _ => None,
                    })
                    .collect()
            };
            paths.push(path);
        }

        // Labels.
        let mut placed: Vec<Rect> = Vec::new();
        let obstacles: Vec<Rect> = nodes
            .iter()
            .map(|r| r.inflate(3.0))
            .chain(zones.iter().map(|z| Rect {
                x: z.x,
                y: z.y,
                w: z.w,
                h: HEADER,
            }))
            .collect();
        let canvas = Rect {
            x: 0.0,
            y: 0.0,
            w: width,
            h: MARGIN + zone_h + MARGIN / 2.0,
        };
        let mut labels = Vec::with_capacity(g.edges.len());
        for (i, e) in g.edges.iter().enumerate() {
            let number = i + 1;
            let full = format!("{number} {}", e.label_within(LABEL_MAX));
            let short = number.to_string();
            let samples = samples(paths.get(i).map_or(&[][..], Vec::as_slice));
            let fits = |text: &str, p: Point, placed: &[Rect]| -> Option<Rect> {
                let w = text.chars().count() as f64 * MONO_CHAR_W + 8.0;
                let r = Rect {
                    x: p.x - w / 2.0,
                    y: p.y - LABEL_H / 2.0,
                    w,
                    h: LABEL_H,
                };
                let inside = r.x >= canvas.x
                    && r.y >= canvas.y
                    && r.right() <= canvas.right()
                    && r.bottom() <= canvas.bottom();
                let clear = !obstacles.iter().any(|o| o.overlaps(&r))
                    && !placed.iter().any(|o| o.inflate(2.0).overlaps(&r));
                (inside && clear).then_some(r)
            };
            let found = [&full, &short].into_iter().find_map(|text| {
                samples
                    .iter()
                    .find_map(|&p| fits(text, p, &placed))
                    .map(|r| (text.clone(), r))
            });
            let (text, rect) = found.unwrap_or_else(|| {
                let p = samples.first().copied().unwrap_or(Point { x: 0.0, y: 0.0 });
                let w = full.chars().count() as f64 * MONO_CHAR_W + 8.0;
                (
                    full.clone(),
                    Rect {
                        x: p.x - w / 2.0,
                        y: p.y - LABEL_H / 2.0,
                        w,
                        h: LABEL_H,
                    },
                )
            });
            placed.push(rect);
            labels.push(Placed { rect, text });
        }

        // Legend: one entry per edge, wrapped to the drawing's width.
        let legend_y = canvas.bottom() + MARGIN / 2.0;
        let per_line = (((width - 2.0 * MARGIN) / MONO_CHAR_W) as usize).max(40);
        let mut legend = Vec::new();
        for (i, e) in g.edges.iter().enumerate() {
            let title = |n: usize| g.nodes.get(n).map_or("", |n| n.title.as_str());
            let head = format!(
                "{}. {} → {} ({} flow{}): ",
                i + 1,
                title(e.from),
                title(e.to),
                e.flows,
                if e.flows == 1 { "" } else { "s" }
            );
            let body = e.label();
            let first_room = per_line.saturating_sub(head.chars().count()).max(20);
            let mut lines = super::wrap(&body, first_room).into_iter();
            let first = lines.next().unwrap_or_default();
            legend.push((false, format!("{head}{first}")));
            let rest: Vec<String> = lines.collect();
            let joined = rest.join(" ");
            for l in super::wrap(&joined, per_line.saturating_sub(4)) {
                legend.push((true, l));
            }
        }
        let mut height = legend_y + MARGIN;
        if !legend.is_empty() {
            height += LEGEND_LINE * (legend.len() + 1) as f64;
        }

        Layout {
            width,
            height,
            zones,
            nodes,
            paths,
            labels,
            legend_y,
            legend,
        }
    }

    fn draw(&self, g: &Graph, marks: &[Option<&'static str>]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"rdsports-diagram\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"rdsports-diagram-title\" data-nodes=\"{}\" data-edges=\"{}\">",
            g.nodes.len(),
            g.edges.len(),
            w = num(self.width),
            h = num(self.height),
        );
        let _ = writeln!(
            s,
            "<title id=\"rdsports-diagram-title\">Network flows of {}: {} node{}, {} edge{}</title>",
            escape_xml(&g.name),
            g.nodes.len(),
            plural(g.nodes.len()),
            g.edges.len(),
            plural(g.edges.len())
        );
        let _ = writeln!(s, "<style>\n{STYLE}</style>");
        s.push_str(
            "<defs>\
<marker id=\"rdsports-arrow-cross\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path class=\"rd-arrow-cross\" d=\"M0,0 L10,5 L0,10 z\"/></marker>\
<marker id=\"rdsports-arrow-inner\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path class=\"rd-arrow-inner\" d=\"M0,0 L10,5 L0,10 z\"/></marker>\
</defs>\n",
        );
        let _ = writeln!(
            s,
            "<rect class=\"rd-bg\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\"/>",
            num(self.width),
            num(self.height)
        );

        // Zones.
        s.push_str("<g class=\"rd-zones\">\n");
        for (c, (zone, cluster)) in self.zones.iter().zip(&g.clusters).enumerate() {
            let nets = fit(
                &cluster.networks.join(", "),
                ((zone.w - 16.0) / 6.0) as usize,
            );
            let _ = writeln!(
                s,
                "<g class=\"rd-zone\" data-zone=\"z{c}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\"/><text class=\"rd-name\" x=\"{}\" y=\"{}\">{}</text><text class=\"rd-nets\" x=\"{}\" y=\"{}\">{}</text></g>",
                num(zone.x),
                num(zone.y),
                num(zone.w),
                num(zone.h),
                num(zone.x + 10.0),
                num(zone.y + 20.0),
                escape_xml(&fit(&cluster.name, ((zone.w - 16.0) / 8.5) as usize)),
                num(zone.x + 10.0),
                num(zone.y + 35.0),
                escape_xml(&nets),
            );
        }
        s.push_str("</g>\n");

        // Edges (under the nodes).
        s.push_str("<g class=\"rd-edges\">\n");
        for (i, (e, path)) in g.edges.iter().zip(&self.paths).enumerate() {
            let kind = if e.crosses { "cross" } else { "inner" };
            let mark = match marks.get(i).copied().flatten() {
                Some(m) => format!(" rd-{m}"),
                None => String::new(),
            };
            let mut d = String::new();
            if let Some(first) = path.first() {
                let _ = write!(d, "M{},{}", num(first.p0.x), num(first.p0.y));
            }
            for c in path {
                let _ = write!(
                    d,
                    " C{},{} {},{} {},{}",
                    num(c.c1.x),
                    num(c.c1.y),
                    num(c.c2.x),
                    num(c.c2.y),
                    num(c.p1.x),
                    num(c.p1.y)
                );
            }
            let _ = writeln!(
                s,
                "<g class=\"rd-edge rd-{kind}{mark}\" data-edge=\"e{}\" data-from=\"n{}\" data-to=\"n{}\"><title>{}. {}</title><path d=\"{d}\" marker-end=\"url(#rdsports-arrow-{kind})\"/></g>",
                i + 1,
                e.from,
                e.to,
                i + 1,
                escape_xml(&g.edge_tooltip(e)),
            );
        }
        s.push_str("</g>\n");

        // Nodes.
        s.push_str("<g class=\"rd-nodes\">\n");
        for (n, (node, r)) in g.nodes.iter().zip(&self.nodes).enumerate() {
            let _ = writeln!(
                s,
                "<g class=\"rd-node\" data-node=\"n{n}\" data-hosts=\"{}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"5\"/><text class=\"rd-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text class=\"rd-sub\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
                node.hosts.len(),
                escape_xml(&node.tooltip),
                num(r.x),
                num(r.y),
                num(r.w),
                num(r.h),
                num(r.x + r.w / 2.0),
                num(r.cy() - 3.0),
                escape_xml(&node.title),
                num(r.x + r.w / 2.0),
                num(r.cy() + 12.0),
                escape_xml(&node.subtitle),
            );
        }
        s.push_str("</g>\n");

        // Labels (on top).
        s.push_str("<g class=\"rd-labels\">\n");
        for (i, (e, l)) in g.edges.iter().zip(&self.labels).enumerate() {
            let kind = if e.crosses { "cross" } else { "inner" };
            let _ = writeln!(
                s,
                "<g class=\"rd-label rd-{kind}\" data-label=\"e{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
                i + 1,
                num(l.rect.x),
                num(l.rect.y),
                num(l.rect.w),
                num(l.rect.h),
                num(l.rect.x + 4.0),
                num(l.rect.y + 11.0),
                escape_xml(&l.text),
            );
        }
        s.push_str("</g>\n");

        // Legend.
        if !self.legend.is_empty() {
            s.push_str("<g class=\"rd-legend\">\n");
            let _ = writeln!(
                s,
                "<text class=\"rd-head\" x=\"{}\" y=\"{}\">Edges (number, from → to, flows, ports)</text>",
                num(MARGIN),
                num(self.legend_y + 12.0)
            );
            for (k, (indent, line)) in self.legend.iter().enumerate() {
                let x = if *indent {
                    MARGIN + 4.0 * MONO_CHAR_W
                } else {
                    MARGIN
                };
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\">{}</text>",
                    num(x),
                    num(self.legend_y + 12.0 + LEGEND_LINE * (k + 1) as f64),
                    escape_xml(line)
                );
            }
            s.push_str("</g>\n");
        }
        s.push_str("</svg>\n");
        s
    }
}

/// Points along a path, ordered from its middle outwards (the label's preferred places).
fn samples(path: &[Cubic]) -> Vec<Point> {
    let mut all = Vec::with_capacity(path.len() * SAMPLES);
    for c in path {
        for k in 1..SAMPLES {
            all.push(c.at(k as f64 / SAMPLES as f64));
        }
    }
    let mid = all.len() / 2;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (i.abs_diff(mid), i));
    order
        .into_iter()
        .filter_map(|i| all.get(i).copied())
        .collect()
}

/// A coordinate with one decimal ("12.5", "-0.0" printed as "0.0").
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    format!("{:.1}", r + 0.0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
