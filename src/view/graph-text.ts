/**
 * The containers -> layers -> images graph as Graphviz dot or as a Mermaid flowchart. Node ids
 * are generated (n0, n1, ...); every label line is cut to LABEL_MAX characters, cleaned and then
 * escaped for the target language, so a hostile name or tag cannot break out of its label.
 */
import type {Graph, NodeKind} from '../teach/object-graph.ts';
import {clean} from './sanitize.ts';

const dotStyle: Record<NodeKind, string> = {
	container: 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
	rw: 'shape=box, style=filled, fillcolor="#ffd8a8"',
	init: 'shape=box, style=filled, fillcolor="#fff3bf"',
	layer: 'shape=box, style=filled, fillcolor="#e9ecef"',
	image: 'shape=component, style=filled, fillcolor="#d3f9d8"',
};

/** Most characters of one label line; the rest is left out with a visible note (Graphviz cannot lay out a 200 000-character label). */
const LABEL_MAX = 200;

/** A label line cut to LABEL_MAX characters (code points), with "…(N more characters)" when cut. */
function capLabel(s: string, max = LABEL_MAX): string {
	if (s.length <= max) return s;
	const points = Array.from(s);
	if (points.length <= max) return s;
	return `${points.slice(0, max).join('')}…(${points.length - max} more characters)`;
}

function dotString(s: string): string {
	return clean(capLabel(s)).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function renderDot(g: Graph): string {
	const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
	const out: string[] = [];
	out.push('digraph layerlens {');
	out.push('  rankdir=TB;');
	out.push('  node [fontname="Helvetica", fontsize=10];');
	out.push('  edge [fontname="Helvetica", fontsize=8, color="#495057"];');
	for (const n of g.nodes)
		out.push(`  ${ids.get(n.id)} [label="${n.lines.map(dotString).join('\\n')}", ${dotStyle[n.kind]}];`);
	for (const e of g.edges) {
		const from = ids.get(e.from);
		const to = ids.get(e.to);
		if (from === undefined || to === undefined) continue;
		out.push(`  ${from} -> ${to} [label="${dotString(e.label)}"${e.style === 'dashed' ? ', style=dashed' : ''}];`);
	}
	out.push('}');
	return `${out.join('\n')}\n`;
}

function mermaidString(s: string): string {
	return clean(capLabel(s)).replace(/[#&"<>`|[\]{}()]/g, c => `#${c.charCodeAt(0)};`);
}

const mermaidShape: Record<NodeKind, [string, string]> = {
	container: ['(["', '"])'],
	rw: ['["', '"]'],
	init: ['["', '"]'],
	layer: ['["', '"]'],
	image: ['[["', '"]]'],
};

export function renderMermaid(g: Graph): string {
	const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
	const out: string[] = ['flowchart TB'];
	for (const n of g.nodes) {
		const [open, close] = mermaidShape[n.kind];
		out.push(`  ${ids.get(n.id)}${open}${n.lines.map(mermaidString).join('<br/>')}${close}`);
	}
	for (const e of g.edges) {
		const from = ids.get(e.from);
		const to = ids.get(e.to);
		if (from === undefined || to === undefined) continue;
		out.push(`  ${from} ${e.style === 'dashed' ? '-.->' : '-->'}|${mermaidString(e.label)}| ${to}`);
	}
	out.push('  classDef container fill:#cfe2ff,stroke:#495057');
	out.push('  classDef rw fill:#ffd8a8,stroke:#495057');
	out.push('  classDef init fill:#fff3bf,stroke:#495057');
	out.push('  classDef layer fill:#e9ecef,stroke:#495057');
	out.push('  classDef image fill:#d3f9d8,stroke:#495057');
	for (const kind of ['container', 'rw', 'init', 'layer', 'image'] as const) {
		const members = g.nodes.filter(n => n.kind === kind).map(n => ids.get(n.id));
		if (members.length > 0) out.push(`  class ${members.join(',')} ${kind}`);
	}
	return `${out.join('\n')}\n`;
}
