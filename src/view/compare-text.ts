import {append} from '../append.ts';
import type {AreaChange, Change, Comparison, FileChange} from '../compare/snapshot-diff.ts';
import type {FileInfo} from '../compare/snapshot-walk.ts';
import type {Paint} from './paint.ts';
import {type Line, type Segment, renderLines, t, tone} from './line.ts';
import {wrap} from './explain-text.ts';

export type CompareTextOptions = {
	readonly paint: Paint;
	/** Files listed per area before "... and N more" (default 40; 0 = all). */
	readonly limit?: number;
};

function sign(c: Change): Segment {
	return c === 'added' ? tone.ok('+') : c === 'removed' ? tone.error('-') : tone.warning('~');
}

function kindMark(i: FileInfo | undefined): string {
	if (i === undefined) return '';
	return i.kind === 'dir'
		? '/'
		: i.kind === 'symlink'
			? ` -> ${i.target ?? '?'}`
			: i.kind === 'char'
				? ' (char device)'
				: i.kind === 'file'
					? ''
					: ` (${i.kind})`;
}

/** One file line: sign, path inside its area, what changed, what it is. */
export function fileLine(area: AreaChange, f: FileChange): Segment[] {
	const rel =
		f.path === area.area ? '.' : f.path.startsWith(`${area.area}/`) ? f.path.slice(area.area.length + 1) : f.path;
	const info = f.after ?? f.before;
	const what = f.what.length > 0 ? tone.warning(`  [${f.what.join(', ')}]`) : '';
	const size =
		f.change !== 'removed' && info?.kind === 'file' && f.what.length === 0 ? tone.dim(`  ${info.size} B`) : '';
	return t`    ${sign(f.change)} ${rel}${kindMark(info)}${size}${what}${f.note === null ? '' : tone.dim(`   ${f.note}`)}`;
}

/**
 * Removed entries whose directory was removed too are folded into it ("and N entries in it"):
 * a removal takes a whole tree, and listing every file of it says nothing more.
 */
export function foldRemoved<T extends {readonly path: string; readonly change: Change}>(
	files: readonly T[],
): Array<{file: T; inside: number}> {
	const removed = new Set(files.filter(f => f.change === 'removed').map(f => f.path));
	const out: Array<{file: T; inside: number}> = [];
	const byPath = new Map<string, {file: T; inside: number}>();
	for (const f of files) {
		if (f.change === 'removed') {
			let parent = f.path.slice(0, Math.max(0, f.path.lastIndexOf('/')));
			let top: string | null = null;
			while (parent !== '') {
				if (removed.has(parent)) top = parent;
				parent = parent.slice(0, Math.max(0, parent.lastIndexOf('/')));
			}
			if (top !== null) {
				const holder = byPath.get(top);
				if (holder !== undefined) {
					holder.inside++;
					continue;
				}
			}
		}
		const entry = {file: f, inside: 0};
		byPath.set(f.path, entry);
		out.push(entry);
	}
	return out;
}

function renderAreas(areas: readonly AreaChange[], limit: number): Line[] {
	const out: Line[] = [];
	for (const a of areas) {
		out.push([]);
		const isDir =
			a.area.includes('*') ||
			a.files.some(f => f.path.startsWith(`${a.area}/`)) ||
			(a.files.find(f => f.path === a.area)?.after ?? a.files.find(f => f.path === a.area)?.before)?.kind === 'dir';
		out.push(
			t`  ${sign(a.change)} ${tone.title(a.title)}  ${tone.dim(a.area + (isDir && !a.area.includes('*') ? '/' : ''))}`,
		);
		for (const l of wrap(a.explain, 92)) out.push(t`      ${tone.dim(l)}`);
		const folded = foldRemoved(a.files);
		const shown = limit > 0 ? folded.slice(0, limit) : folded;
		for (const {file, inside} of shown)
			out.push(
				t`${fileLine(a, file)}${inside > 0 ? tone.dim(`  (and ${inside} entr${inside === 1 ? 'y' : 'ies'} in it)`) : ''}`,
			);
		if (shown.length < folded.length) {
			const more = folded.slice(shown.length).map(x => x.file);
			const n = (c: Change) => more.filter(f => f.change === c).length;
			out.push([
				tone.dim(
					`    … and ${more.length} more (${n('added')} added, ${n('removed')} removed, ${n('changed')} changed; --json lists all)`,
				),
			]);
		}
	}
	return out;
}

/** The objects that changed, by kind, each explanation once. */
function objectLines(c: Comparison): Line[] {
	const out: Line[] = [];
	const groups: Array<['container' | 'image' | 'layer', string]> = [
		['container', 'Containers'],
		['image', 'Images'],
		['layer', 'Layers'],
	];
	const explained = new Set<string>();
	for (const [kind, title] of groups) {
		const objs = c.objects.filter(o => o.kind === kind);
		if (objs.length === 0) continue;
		out.push([], [tone.title(title)]);
		for (const o of objs) {
			out.push(
				t`  ${sign(o.change)} ${o.change.padEnd(7)} ${tone.id(o.label)}${o.details.length > 0 ? `  ${o.details.join('; ')}` : ''}`,
			);
			// Each explanation once: several images or layers added by one build share it.
			if (explained.has(o.explain)) continue;
			explained.add(o.explain);
			for (const l of wrap(o.explain, 92)) out.push(t`      ${tone.dim(l)}`);
		}
	}
	return out;
}

/** `layerlens compare BEFORE AFTER` as text. */
export function renderComparison(c: Comparison, before: string, after: string, opts: CompareTextOptions): string {
	const limit = opts.limit ?? 40;
	const out: Line[] = [];
	out.push(t`${tone.title('before')} ${before}`);
	out.push(t`${tone.title('after ')} ${after}`);
	out.push([], [tone.title('What happened (a guess from the objects that changed)')]);
	for (const s of c.story) out.push(t`  ${s}`);
	for (const n of c.notes) out.push([tone.warning(`  note: ${n}`)]);
	append(out, objectLines(c));
	out.push(
		[],
		[tone.title(`Files, by area (${c.counts.added} added, ${c.counts.removed} removed, ${c.counts.changed} changed)`)],
	);
	if (c.areas.length === 0) out.push(t`  none`);
	append(out, renderAreas(c.areas, limit));
	return renderLines(out, opts.paint);
}

/** `compare --json`. */
export function comparisonJson(c: Comparison, before: string, after: string) {
	return {kind: 'comparison', before, after, ...c};
}
