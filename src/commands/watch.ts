import type {Args} from '../args.ts';
import {loadModel, openRoots} from '../load.ts';
import {type Comparison, type FileChange, compareSnapshots, type Snapshot} from '../compare/snapshot-diff.ts';
import {walk} from '../compare/snapshot-walk.ts';
import type {Paint} from '../view/paint.ts';
import {type Line, renderLines, t, tone} from '../view/line.ts';
import {safeJson} from '../view/sanitize.ts';
import {foldRemoved} from '../view/compare-text.ts';
import {wrap} from '../view/explain-text.ts';
import {type Io, UsageError, notDockerRoot, paintFor} from './context.ts';

/** How deep watch lists inside a layer's files (its diff/ or, for vfs, its whole copy): enough for the init placeholders and top-level changes, cheap on a big host. */
const contentDepth = 3;
/** File lines printed per step before "... and N more". */
const stepLimit = 80;

async function look(root: string, containerdRoot: string | null, first = false): Promise<Snapshot> {
	const opened = await openRoots(root, containerdRoot);
	if (!opened.ok) throw new UsageError(opened.error);
	if (opened.source.kind !== 'dir')
		throw new UsageError(`${root}: watch follows a live root, a directory; use compare for archives`);
	if (opened.source.mounted !== undefined && opened.source.mounted.kind !== 'dir')
		throw new UsageError(`--containerd-root ${containerdRoot}: watch follows a live root, a directory, not an archive`);
	const loaded = loadModel(opened.source);
	if (first && !loaded.isDockerRoot) throw notDockerRoot(root);
	return {model: loaded.model, listing: walk(opened.source, {hashMax: 0, contentDepth})};
}

function clock(ms: number): string {
	return new Date(ms).toISOString().slice(11, 23);
}

/** Full ids are long: in the narrated log a 64-hex id is cut to 12 characters. */
function shorten(path: string): string {
	return path.replace(/[0-9a-f]{64}/g, m => `${m.slice(0, 12)}…`);
}

type Written = FileChange & {readonly area: string};

/** Every file change of a step, in the order the file system dated them (removals, which have no date, last). */
function writtenOrder(c: Comparison): Written[] {
	const all: Written[] = c.areas.flatMap(a => a.files.map(f => ({...f, area: a.title})));
	const t = (f: Written) => (f.change === 'removed' ? Number.POSITIVE_INFINITY : (f.after?.mtimeMs ?? 0));
	return all.sort((x, y) => t(x) - t(y) || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function renderStep(c: Comparison, now: number, p: Paint): string {
	const out: Line[] = [];
	out.push(t`${tone.title(`[${clock(now)} UTC]`)} ${c.story.join('; ')}`);
	for (const o of c.objects) {
		const shade = o.change === 'added' ? tone.ok : o.change === 'removed' ? tone.error : tone.warning;
		out.push(
			t`  ${shade(`${o.change === 'added' ? '+ new' : o.change === 'removed' ? '- gone' : '~ changed'} ${o.kind} ${o.label}`)}${o.details.length > 0 ? `  ${o.details.join('; ')}` : ''}`,
		);
		for (const l of wrap(o.explain, 92)) out.push(t`      ${tone.dim(l)}`);
	}
	const files = foldRemoved(writtenOrder(c));
	if (files.length > 0) out.push(t`  ${tone.title('written, in the order the files are dated:')}`);
	for (const {file: f, inside} of files.slice(0, stepLimit)) {
		const when = f.change === 'removed' ? '            ' : clock(f.after?.mtimeMs ?? 0);
		const sign = f.change === 'added' ? tone.ok('+') : f.change === 'removed' ? tone.error('-') : tone.warning('~');
		const kind = (f.after ?? f.before)?.kind === 'dir' ? '/' : '';
		out.push(
			t`    ${tone.dim(when)} ${sign} ${shorten(f.path)}${kind}${f.what.length > 0 ? tone.warning(`  [${f.what.join(', ')}]`) : ''}${inside > 0 ? tone.dim(`  (and ${inside} entr${inside === 1 ? 'y' : 'ies'} in it)`) : ''}${f.note === null ? '' : tone.dim(`   ${f.note}`)}`,
		);
	}
	if (files.length > stepLimit) out.push([tone.dim(`    … and ${files.length - stepLimit} more`)]);
	return renderLines(out, p);
}

function stepJson(c: Comparison, now: number) {
	return {
		kind: 'step',
		time: new Date(now).toISOString(),
		story: c.story,
		objects: c.objects,
		files: writtenOrder(c).map(f => ({
			path: f.path,
			change: f.change,
			mtime: f.after === undefined ? null : new Date(f.after.mtimeMs).toISOString(),
			area: f.area,
			what: f.what,
			note: f.note,
		})),
	};
}

/**
 * `layerlens watch [--root DIR] [--interval MS]`: looks at a live root again and again; each time
 * something changed, prints the objects that appeared, changed or went away (highlighted) and the
 * files written, oldest first. Runs until SIGINT or SIGTERM (or `signal` aborts), then exits 0.
 */
export async function watchCommand(args: Args, io: Io, root: string, signal?: AbortSignal): Promise<number> {
	const p = paintFor(args, io);
	let prev = await look(root, args.containerdRoot, true);
	const m = prev.model;
	const start = Date.now();
	const c8d = m.containerdRoot;
	if (args.json)
		io.stdout.write(
			`${safeJson({kind: 'start', time: new Date(start).toISOString(), root, ...(c8d !== undefined ? {containerdRoot: c8d} : {}), containers: m.containers.length, images: m.images.length, layers: m.layers.length})}\n`,
		);
	else
		io.stdout.write(
			renderLines(
				[
					t`${tone.title('watching')} ${root}${c8d !== undefined ? ` and the containerd root ${c8d.location} (shown as ${c8d.shownAs}/)` : ''} every ${args.interval} ms (Ctrl-C stops): ${m.containers.length} containers, ${m.images.length} images, ${m.layers.length} layers`,
				],
				p,
			),
		);
	let stopped = false;
	let wake: (() => void) | null = null;
	const stop = () => {
		stopped = true;
		wake?.();
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	signal?.addEventListener('abort', stop);
	try {
		while (!stopped) {
			await new Promise<void>(resolve => {
				const t = setTimeout(resolve, args.interval);
				wake = () => {
					clearTimeout(t);
					resolve();
				};
			});
			if (stopped) break;
			const now = Date.now();
			const cur = await look(root, args.containerdRoot);
			const c = compareSnapshots(prev, cur, {byTime: true});
			prev = cur;
			if (c.objects.length === 0 && c.areas.length === 0) continue;
			io.stdout.write(args.json ? `${safeJson(stepJson(c, now))}\n` : renderStep(c, now, p));
		}
	} finally {
		process.off('SIGINT', stop);
		process.off('SIGTERM', stop);
	}
	return 0;
}
