/** One tree row as styled text. Called only for the rows on screen. */
import {humanSize, imageLabel, shortId} from '../view/format.ts';
import {statusText} from '../model/ids.ts';
import {step} from '../view/text-tree.ts';
import {type Line, type Segment, type Tone, padCols, plural, seg, truncateLine} from './text.ts';
import type {ContainerNode, FindingNode, ImageNode, LayerNode, Marks, Row, SectionNode, TreeIndex} from './tree.ts';

/**
 * Figures that need a walk of the root (df's ledger, computed off the render path): a container's
 * SIZE RW (as docker ps -s) by container id. Shown once known; until then the rows go without.
 */
export type RowSizes = {readonly sizeRw: ReadonlyMap<string, number | null>};

/** A container's SIZE RW column, when the ledger is known. */
function sizeRwSeg(sizes: RowSizes | null, id: string): Segment | null {
	if (sizes === null || !sizes.sizeRw.has(id)) return null;
	return seg(`  ${humanSize(sizes.sizeRw.get(id)).padEnd(7)}`);
}

const sectionTitle = {containers: 'containers', images: 'images without containers', findings: 'findings'} as const;

export function severityTone(s: Marks['worst']): Tone {
	return s === 'error' ? 'error' : s === 'warning' ? 'warning' : s === 'info' ? 'info' : 'plain';
}

/** A section row: its title and how many it holds (or how many of them have findings, when filtered). */
function sectionSegs(out: Segment[], tree: TreeIndex, n: SectionNode, filter: boolean): void {
	out.push(seg(sectionTitle[n.section], 'title'));
	if (tree.loading && n.section !== 'containers') {
		out.push(seg(' (loading…)', 'dim'));
		return;
	}
	if (filter && n.section !== 'findings') {
		const kept = (tree.tops.get(n.section) ?? []).filter(t => t.total.count > 0).length;
		out.push(seg(` (${kept} of ${n.count} with findings)`, 'dim'));
	} else out.push(seg(` (${n.count})`, 'dim'));
	if (n.section === 'findings' && n.total.count > 0)
		out.push(seg(`  worst: ${n.total.worst}`, severityTone(n.total.worst)));
}

/** A container row: name, short id, status, SIZE RW when known, the image as typed (or its tag or id). */
function containerSegs(out: Segment[], tree: TreeIndex, n: ContainerNode, sizes: RowSizes | null): void {
	const c = n.container;
	out.push(padCols(c.name ?? '?', tree.nameWidth, 'id'));
	out.push(seg(`  ${shortId(c.id)}  `, 'dim'));
	const status = statusText(c);
	out.push(
		padCols(
			status,
			11,
			c.status === 'running' ? 'ok' : c.status === 'dead' || (c.exitCode ?? 0) !== 0 ? 'warning' : 'plain',
		),
	);
	const img =
		c.imageRef !== null && c.imageRef !== ''
			? c.imageRef
			: c.imageTags.length > 0
				? c.imageTags[0]!
				: shortId(c.imageId);
	const rw = sizeRwSeg(sizes, c.id);
	if (rw !== null) out.push(rw);
	out.push(seg(`  ${img}`));
}

/** A layer row: its role, cache id and size or what it is; flags a missing directory. */
function layerSegs(out: Segment[], n: LayerNode, sizes: RowSizes | null): void {
	const missing = n.entry !== null ? !n.entry.pathExists : n.layer !== null && !n.layer.pathExists;
	if (n.role === 'rw') {
		const rw = n.container === null ? null : sizeRwSeg(sizes, n.container.id);
		out.push(seg('rw     ', 'role'), seg(shortId(n.entry?.cacheId), 'id'));
		if (rw !== null) out.push(rw);
		out.push(seg(`${rw === null ? '       ' : '  '}the container's own changes`, 'dim'));
	} else if (n.role === 'init') {
		out.push(
			seg('init   ', 'role'),
			seg(`${shortId(n.entry?.cacheId)}-init`, 'id'),
			seg('  placeholders docker create writes', 'dim'),
		);
	} else {
		const cache = n.entry?.cacheId ?? n.layer?.cacheId ?? null;
		out.push(seg('layer  ', 'role'), seg(cache === null ? '-           ' : shortId(cache), 'id'));
		out.push(seg(`  ${humanSize(n.layer?.size).padEnd(7)}`));
		if (n.layer === null) out.push(seg('  not in layerdb', 'error'));
		else if (n.layer.createdBy) out.push(seg(`  ${step(n.layer.createdBy)}`, 'dim'));
	}
	if (missing) out.push(seg('  (directory missing)', 'error'));
}

/** An image row: under a container, the image it runs; at the top, an image no container uses. */
function imageSegs(out: Segment[], n: ImageNode): void {
	if (n.container !== null) {
		out.push(seg('image  ', 'title'));
		if (n.image === null) out.push(seg(shortId(n.imageId), 'id'), seg('  not in the image store', 'error'));
		else out.push(seg(imageLabel(n.image)), seg(`  ${shortId(n.image.id)}  ${humanSize(n.image.size)}`, 'dim'));
	} else if (n.image !== null) {
		const i = n.image;
		out.push(
			seg(imageLabel(i), i.tags.length > 0 ? 'id' : 'plain'),
			seg(`  ${shortId(i.id)}  ${humanSize(i.size)}  ${plural(i.chainIds.length, 'layer')}`, 'dim'),
		);
	}
}

/** A finding row: severity, code, the subject with its id cut to 12, the message. */
function findingSegs(out: Segment[], n: FindingNode): void {
	const f = n.finding;
	const subj = f.subject.replace(/^(container|image|layer):(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1:$3');
	out.push(padCols(f.severity, 8, severityTone(f.severity)), seg(f.code), seg(`  ${subj}  `, 'dim'), seg(f.message));
}

/**
 * The text of a row: a findings gutter ("!" in the worst severity's colour), the cursor mark, indentation,
 * the expander, then the node's own columns; cut to width.
 */
export function rowLine(
	tree: TreeIndex,
	row: Row,
	width: number,
	filter = false,
	cursor = false,
	sizes: RowSizes | null = null,
): Line {
	const n = row.node;
	const shown = row.expanded || !n.expandable ? n.marks : n.total;
	const out: Segment[] = [];
	out.push(shown.count > 0 && n.kind !== 'finding' ? seg('!', severityTone(shown.worst)) : seg(' '));
	out.push(seg(cursor ? '›' : ' ', 'title'));
	out.push(seg(' '.repeat(Math.max(0, n.depth) * 2)));
	out.push(seg(n.expandable ? (row.expanded ? '▾ ' : '▸ ') : '  ', 'dim'));
	const count =
		shown.count > 0 && n.kind !== 'finding'
			? seg(`  ${plural(shown.count, 'finding')}`, severityTone(shown.worst))
			: null;
	switch (n.kind) {
		case 'section':
			sectionSegs(out, tree, n, filter);
			break;
		case 'container':
			containerSegs(out, tree, n, sizes);
			if (count) out.push(count);
			break;
		case 'layer':
			layerSegs(out, n, sizes);
			if (count) out.push(count);
			break;
		case 'image':
			imageSegs(out, n);
			if (count) out.push(count);
			break;
		case 'loading':
			out.push(seg('loading…', 'dim'), seg('  its layers and image are still being read', 'dim'));
			break;
		case 'finding':
			findingSegs(out, n);
			break;
	}
	return truncateLine(out, width);
}
