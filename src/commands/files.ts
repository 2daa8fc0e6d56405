import {append} from '../append.ts';
import type {Finding} from '../finding.ts';
import {type Change, aufsChanges, layerItems, naiveChanges} from '../files/changes.ts';
import {exportTar, manifestLine} from '../files/export.ts';
import {type OutputFile, evidenceOf, openOutputs} from '../files/output.ts';
import {resolvePath} from '../files/resolve-path.ts';
import {listTarSplit} from '../files/tar-split-list.ts';
import {
	type FsLayer,
	type FsView,
	containerLayers,
	join,
	layerChain,
	makeView,
	unsupportedDriver,
} from '../files/view.ts';
import {walkMerged} from '../files/merged-walk.ts';
import {type ResolveOptions, resolveRef} from '../model/resolve.ts';
import {refOptions} from './views.ts';
import type {Container, ContentDamage, Layer, Model} from '../model/types.ts';
import type {Source} from '../sources/source.ts';
import {encodeName} from '../formats/names.ts';
import {type FileRow, diffLine, fileLine, fileRow, findingLines, tarFileRow} from '../view/files-text.ts';
import {parseEscapes, safeJson} from '../view/sanitize.ts';
import {message} from '../view/line.ts';
import {type CommandContext, UsageError} from './context.ts';
import {layersTopDown} from '../model/ids.ts';
import {layerByChainId} from '../model/indexes.ts';

/**
 * `files`, `diff`, `cat`, `export`: a container's or image's filesystem built in user space from
 * the layer directories (src/files/). Output is streamed with back-pressure, so memory does not
 * grow with the number of files.
 */

type Target =
	| {
			readonly kind: 'merged';
			readonly what: 'container' | 'image';
			readonly driver: string | null;
			readonly layers: FsLayer[];
			readonly subject: string;
			readonly container?: Container;
	  }
	| {readonly kind: 'layer'; readonly driver: string | null; readonly layers: FsLayer[]; readonly subject: string};

function orThrow<T>(v: T | string): T {
	if (typeof v === 'string') throw new UsageError(v);
	return v;
}

/** REF as for every command; a container's RW layer (mount id, a prefix of it, its `l/` short name) or init layer (`<mount id>-init`) is that layer. */
function resolveTarget(model: Model, ref: string, opts: ResolveOptions): Target {
	const r = resolveRef(model, ref, opts);
	if (r.ok) {
		const v = r.value;
		if (v.kind === 'container' && v.via !== undefined) {
			const layers = orThrow(containerLayers(v.container));
			return {
				kind: 'layer',
				driver: v.container.driver,
				layers: v.via.role === 'rw' ? layers : layers.slice(1),
				subject: `container:${v.container.id}`,
			};
		}
		if (v.kind === 'container')
			return {
				kind: 'merged',
				what: 'container',
				driver: v.container.driver,
				layers: orThrow(containerLayers(v.container)),
				subject: `container:${v.container.id}`,
				container: v.container,
			};
		if (v.kind === 'image') {
			const img = v.image;
			const layers: FsLayer[] = [];
			for (const chainId of layersTopDown(img)) {
				const l = layerByChainId(model, chainId, img.driver);
				if (l === undefined) throw new UsageError(`layer ${chainId} of image ${img.id} is not in the layer store`);
				append(layers, orThrow(layerChain(model, l)).slice(0, 1));
			}
			return {kind: 'merged', what: 'image', driver: img.driver, layers, subject: `image:${img.id}`};
		}
		return {
			kind: 'layer',
			driver: v.layer.driver,
			layers: orThrow(layerChain(model, v.layer)),
			subject: `layer:${v.layer.chainId}`,
		};
	}
	throw new UsageError(r.error);
}

function view(driver: string | null, layers: FsLayer[], subject: string): FsView {
	const v = makeView(driver, layers, subject);
	if (!v.ok) throw new UsageError(v.error);
	return v.view;
}

type Out = {
	text(s: string): void | Promise<void>;
	bytes(b: Buffer): void | Promise<void>;
	flush(): void | Promise<void>;
};

/** Writes to a stream in 64 KiB pieces, waiting for 'drain' when the stream asks for it. */
function output(stream: CommandContext['io']['stdout']): Out {
	const stdout = stream as unknown as {
		write(c: string | Buffer): unknown;
		once?(event: 'drain', f: () => void): unknown;
	};
	let pending: string[] = [];
	let length = 0;
	const send = (chunk: string | Buffer): void | Promise<void> => {
		const more = stdout.write(chunk);
		if (more === false && typeof stdout.once === 'function')
			return new Promise(resolve => stdout.once!('drain', resolve));
	};
	const flush = (): void | Promise<void> => {
		if (length === 0) return;
		const all = pending.join('');
		pending = [];
		length = 0;
		return send(all);
	};
	return {
		text(str: string) {
			pending.push(str);
			length += str.length;
			if (length >= 1 << 16) return flush();
		},
		async bytes(b: Buffer) {
			await flush();
			await send(b);
		},
		flush,
	};
}

function xattrWarning(source: Source, v: FsView): Finding[] {
	if (v.style !== 'overlay' && v.style !== 'both') return [];
	if (source.xattrLimit === undefined) return [];
	const what =
		v.style === 'overlay'
			? "so opaque directories (a directory deleted and recreated in a layer) cannot be told apart: their lower layers' files are shown as if still there"
			: 'only the `.wh..wh..opq` markers show opaque directories';
	return [
		{
			severity: 'warning',
			code: 'files.xattrs-unreadable',
			subject: v.subject,
			message: `${source.xattrLimit}; ${what}`,
		},
	];
}

function statRow(
	source: Source,
	sourcePath: string,
	path: string,
	layer: string,
	status?: FileRow['status'],
	whiteout?: boolean,
): FileRow | Finding {
	const st = source.stat(sourcePath);
	if (!st.ok)
		return {
			severity: 'error',
			code: 'files.unreadable',
			subject: 'root',
			path: st.error.path,
			message: `${path}: ${st.error.message}`,
		};
	let linkTarget: string | undefined;
	if (st.value.kind === 'symlink') {
		const t = source.readLink(sourcePath);
		if (t.ok) linkTarget = t.value;
	}
	return fileRow(path, st.value, layer, {
		...(linkTarget !== undefined ? {linkTarget} : {}),
		...(status !== undefined ? {status} : {}),
		...(whiteout === true ? {whiteout} : {}),
	});
}

type ListWriter<T> = {row(r: T): void | Promise<void>; end(findings: readonly Finding[]): Promise<void>};

/** Streams rows as text lines, or as `{"<key>": [...], "findings": [...]}` with --json; findings go to stderr in text mode. */
async function listWriter<T>(
	ctx: CommandContext,
	out: Out,
	key: string,
	line: (r: T) => string,
): Promise<ListWriter<T>> {
	const json = ctx.args.json;
	let first = true;
	if (json) await out.text(`{"${key}": [`);
	return {
		async row(r) {
			if (json) await out.text(`${first ? '\n' : ',\n'}  ${safeJson(r)}`);
			else await out.text(line(r));
			first = false;
		},
		async end(findings) {
			if (json) await out.text(`${first ? '' : '\n'}],\n"findings": ${safeJson(findings, 2)}}\n`);
			await out.flush();
			if (!json && findings.length > 0) ctx.io.stderr.write(findingLines(findings));
		},
	};
}

async function emit<T>(
	ctx: CommandContext,
	out: Out,
	rows: Iterable<T | Finding>,
	findings: Finding[],
	key: string,
	line: (r: T) => string,
): Promise<void> {
	const w = await listWriter(ctx, out, key, line);
	for (const r of rows) {
		if (isFinding(r)) findings.push(r);
		else await w.row(r);
	}
	await w.end(findings);
}

/** The exit code of files, diff and cat when a layer of the view could not be read whole (its files are left out), and of export, which refuses such a view. */
const incompleteExit = 5;

const damageWords: Record<ContentDamage['state'], string> = {
	missing: 'is missing',
	symlink: 'is a symlink (not followed)',
	'not-a-dir': 'is not a directory',
	unreadable: 'cannot be read',
	empty: 'was emptied',
};

/**
 * The layers of these views whose content directory the model found damaged (missing, a symlink,
 * not a directory, unreadable, emptied: Layer.contentDamage): one `files.incomplete` finding each.
 */
function incomplete(model: Model, views: ReadonlyArray<FsView | null>): Finding[] {
	const damaged = new Map<string, ContentDamage>();
	for (const l of model.layers) if (l.contentDamage !== undefined) damaged.set(l.contentDamage.path, l.contentDamage);
	for (const c of model.containers)
		for (const e of c.chain) if (e.contentDamage !== undefined) damaged.set(e.contentDamage.path, e.contentDamage);
	if (damaged.size === 0) return [];
	const out: Finding[] = [];
	const seen = new Set<string>();
	for (const v of views) {
		if (v === null) continue;
		for (const l of v.layers) {
			const d = damaged.get(l.dir);
			if (d === undefined || seen.has(l.dir)) continue;
			seen.add(l.dir);
			const which =
				l.role === 'rw'
					? 'its RW layer'
					: l.role === 'init'
						? 'its init layer'
						: `image layer ${l.chainId ?? l.cacheId}`;
			out.push({
				severity: 'error',
				code: 'files.incomplete',
				subject: v.subject,
				path: l.dir,
				message: `${which}'s content directory ${l.dir} ${damageWords[d.state]}: this output leaves out that layer's files${d.state === 'empty' ? '' : ' and shows what the layers below hold in their place'} (layerlens check says what happened)`,
			});
		}
	}
	return out;
}

function isFinding(r: unknown): r is Finding {
	return typeof r === 'object' && r !== null && 'severity' in r && 'code' in r;
}

/**
 * The image layer to list from its tar-split record: with --tar-split, REF must be one; without
 * it, an image layer whose directory is missing or whose driver keeps files outside the root
 * (devicemapper, zfs, windowsfilter) is listed from its record too, with an info finding saying so.
 */
function tarSplitLayer(
	model: Model,
	ref: string,
	asked: boolean,
	findings: Finding[],
	opts: ResolveOptions,
): Layer | undefined {
	const r = resolveRef(model, ref, opts);
	if (!r.ok || r.value.kind !== 'layer') {
		if (!asked) return undefined;
		if (r.ok && r.value.kind === 'container' && r.value.via !== undefined)
			throw new UsageError(`--tar-split lists image layers: a container's RW and init layers have no tar-split record`);
		if (!r.ok) throw new UsageError(r.error);
		throw new UsageError(
			`--tar-split lists one image layer, not ${r.value.kind === 'image' ? 'an image' : 'a container'}: give a layer's chain id or cache id (layerlens inspect ${ref} lists them)`,
		);
	}
	const layer = r.value.layer;
	if (asked) return layer;
	const damaged =
		layer.contentDamage === undefined
			? undefined
			: `its content directory ${layer.contentDamage.path} ${damageWords[layer.contentDamage.state]}`;
	const why =
		unsupportedDriver(layer.driver) ??
		(layer.path !== null && !layer.pathExists ? `its directory ${layer.path} is missing` : damaged);
	if (why === undefined) return undefined;
	findings.push({
		severity: 'info',
		code: 'files.from-tar-split',
		subject: `layer:${layer.chainId}`,
		path: tarSplitRecord(model, layer),
		message: `listed from the layer's tar-split record: ${why}`,
	});
	return layer;
}

function tarSplitRecord(model: Model, layer: Layer): string {
	return `${layer.metaPath}/${model.layout === 'v1' ? 'tar-data.json.gz' : 'tar-split.json.gz'}`;
}

/** `files LAYER --tar-split`: the layer's entries from its tar-split record, in the layer tar's order. */
async function filesFromTarSplit(
	ctx: CommandContext,
	layer: Layer,
	start: string,
	findings: Finding[],
): Promise<number> {
	const {loaded} = ctx;
	const model = loaded.model;
	const onProblem = (f: Finding): void => void findings.push(f);
	const subject = `layer:${layer.chainId}`;
	let below: FsView | 'none' | null = layer.parent === null ? 'none' : null;
	const parent = layer.parent === null ? undefined : layerByChainId(model, layer.parent, layer.driver);
	if (layer.parent !== null && parent === undefined)
		findings.push({
			severity: 'info',
			code: 'files.status-unknown',
			subject,
			message: `added and modified are not told apart (the parent layer ${layer.parent} is not in the layer store); deletions and opaque directories are shown`,
		});
	if (parent !== undefined) {
		const chain = layerChain(model, parent);
		const v = typeof chain === 'string' ? {ok: false as const, error: chain} : makeView(layer.driver, chain, subject);
		if (v.ok) below = v.view;
		else
			findings.push({
				severity: 'info',
				code: 'files.status-unknown',
				subject,
				message: `added and modified are not told apart (the layers below cannot be read: ${v.error}); deletions and opaque directories are shown`,
			});
	}
	const under = underArgument(start);
	const record = tarSplitRecord(model, layer);
	const cacheId = layer.cacheId ?? layer.chainId;
	const w = await listWriter(ctx, output(ctx.io.stdout), 'entries', (r: FileRow) => fileLine(r, true));
	const listed = await listTarSplit(
		loaded.source,
		record,
		subject,
		below,
		item => {
			if (under(item.rel))
				return w.row(
					tarFileRow(`/${item.rel}`, item.header, cacheId, {
						...(item.status !== undefined ? {status: item.status} : {}),
						whiteout: item.whiteout,
					}),
				);
		},
		onProblem,
	);
	if (!listed.ok) {
		const code = listed.reason === 'missing' ? 'files.tar-split-missing' : 'files.tar-split-invalid';
		findings.push({
			severity: 'error',
			code,
			subject,
			path: record,
			message:
				listed.reason === 'missing' ? `layer ${layer.chainId} has no tar-split record (${record})` : listed.message,
		});
	}
	await w.end(findings);
	return 0;
}

/** `layerlens files REF [PATH]`. */
export async function filesCommand(ctx: CommandContext): Promise<number> {
	const {loaded, args} = ctx;
	const source = loaded.source;
	const start = (args.refs[1] ?? '/')
		.split('/')
		.filter(p => p !== '' && p !== '.')
		.join('/');
	const findings: Finding[] = [];
	const fromRecord = tarSplitLayer(loaded.model, args.refs[0]!, args.tarSplit, findings, refOptions(loaded.source));
	if (fromRecord !== undefined) return filesFromTarSplit(ctx, fromRecord, start, findings);
	const target = resolveTarget(loaded.model, args.refs[0]!, refOptions(loaded.source));
	const onProblem = (f: Finding): void => void findings.push(f);
	const out = output(ctx.io.stdout);
	if (target.kind === 'merged') {
		const v = view(target.driver, target.layers, target.subject);
		append(findings, xattrWarning(source, v));
		const lost = incomplete(loaded.model, [v]);
		append(findings, lost);
		const at = resolveArgument(source, v, start, false, onProblem);
		if (!at.ok && lost.length > 0) {
			ctx.io.stderr.write(findingLines(lost));
			ctx.io.stderr.write(message(`${at.error} (a layer of this view could not be read: the path may be in it)`));
			return incompleteExit;
		}
		if (!at.ok) throw new UsageError(at.error);
		const layerId = (i: number): string => v.layers[i]!.cacheId;
		function* rows(): Generator<FileRow | Finding> {
			if (at.ok && at.rel !== '')
				yield statRow(source, join(v.layers[at.entry.layer]!.dir, at.rel), `/${at.rel}`, layerId(at.entry.layer));
			if (!at.ok || at.entry.kind !== 'dir') return;
			for (const w of walkMerged(source, v, at.rel, at.entry.dirLayers, onProblem)) {
				yield statRow(source, join(v.layers[w.entry.layer]!.dir, w.rel), `/${w.rel}`, layerId(w.entry.layer));
			}
		}
		await emit(ctx, out, rows(), findings, 'entries', (r: FileRow) => fileLine(r, false));
		return lost.length > 0 ? incompleteExit : 0;
	}
	const top = view(target.driver, target.layers.slice(0, 1), target.subject);
	const below = target.layers.length > 1 ? view(target.driver, target.layers.slice(1), target.subject) : null;
	append(findings, xattrWarning(source, top));
	const lost = incomplete(loaded.model, [top, below]);
	append(findings, lost);
	const under = underArgument(start);
	function* rows(): Generator<FileRow | Finding> {
		for (const item of layerItems(source, top, below, onProblem)) {
			if (!under(item.rel)) continue;
			const fromBelow = item.status === 'deleted' && top.style === 'none';
			const whiteout = item.status === 'deleted' && !fromBelow;
			yield statRow(
				source,
				item.path,
				`/${item.rel}`,
				fromBelow ? below!.layers[0]!.cacheId : top.layers[0]!.cacheId,
				item.status,
				whiteout,
			);
		}
	}
	await emit(ctx, out, rows(), findings, 'entries', (r: FileRow) => fileLine(r, true));
	return lost.length > 0 ? incompleteExit : 0;
}

/** `layerlens diff CONTAINER`: docker diff's A/C/D lines. */
export async function diffCommand(ctx: CommandContext): Promise<number> {
	const {loaded, args} = ctx;
	const source = loaded.source;
	const target = resolveTarget(loaded.model, args.refs[0]!, refOptions(loaded.source));
	if (target.kind !== 'merged' || target.what !== 'container') throw new UsageError('diff takes a container');
	const why = unsupportedDriver(target.driver ?? '');
	if (why !== undefined) throw new UsageError(why);
	const findings: Finding[] = [];
	const onProblem = (f: Finding): void => void findings.push(f);
	const layers = target.layers;
	const rw = view(target.driver, layers, target.subject);
	append(findings, xattrWarning(source, rw));
	let changes: Iterable<Change>;
	let lost: Finding[];
	if (rw.style === 'aufs') {
		lost = incomplete(loaded.model, [rw]);
		changes = aufsChanges(
			source,
			layers[0]!.dir,
			layers.slice(1).map(l => l.dir),
			target.subject,
			onProblem,
		);
	} else {
		const parent = layers.length > 1 ? view(target.driver, layers.slice(1), target.subject) : null;
		lost = incomplete(loaded.model, [rw, parent]);
		changes = naiveChanges(source, rw, parent, {prune: rw.style !== 'none', onProblem});
	}
	append(findings, lost);
	type Row = {readonly kind: string; readonly path: string};
	function* rows(): Generator<Row> {
		for (const c of changes) yield {kind: c.kind, path: `/${c.rel}`};
	}
	await emit(ctx, output(ctx.io.stdout), rows(), findings, 'changes', (c: Row) => diffLine(c.kind, c.path));
	return lost.length > 0 ? incompleteExit : 0;
}

/**
 * A PATH argument as typed, or else as shown: names are printed escaped (`\\xff` for a byte that
 * is not UTF-8, `\\u200b` for an invisible character; view/sanitize.ts), and a terminal cannot
 * even pass such a byte in an argument, so the escaped form is tried when the literal one is not there.
 */
function resolveArgument(
	source: Source,
	v: FsView,
	arg: string,
	follow: boolean,
	onProblem: (f: Finding) => void,
): ReturnType<typeof resolvePath> {
	const seen: Finding[] = [];
	const literal = resolvePath(source, v, arg, follow, f => void seen.push(f));
	const unescaped = literal.ok ? undefined : parseEscapes(arg);
	if (unescaped !== undefined) {
		const r = resolvePath(source, v, unescaped, follow, onProblem);
		if (r.ok) return r;
	}
	seen.forEach(onProblem);
	return literal;
}

/** A layer listing's PATH filter: the path as typed or as shown (see resolveArgument). */
function underArgument(start: string): (rel: string) => boolean {
	const forms = [start, parseEscapes(start)].filter((x): x is string => x !== undefined);
	return rel => forms.some(p => p === '' || rel === p || rel.startsWith(`${p}/`));
}

function mergedView(loaded: CommandContext['loaded'], ref: string): FsView {
	const target = resolveTarget(loaded.model, ref, refOptions(loaded.source));
	return view(target.driver, target.layers, target.subject);
}

/** `layerlens cat REF PATH`: a file's bytes as the container or image sees them (symlinks followed inside the view). */
export async function catCommand(ctx: CommandContext): Promise<number> {
	const {loaded, args} = ctx;
	const source = loaded.source;
	const v = mergedView(loaded, args.refs[0]!);
	const lost = incomplete(loaded.model, [v]);
	const findings: Finding[] = [...xattrWarning(source, v), ...lost];
	const r = resolveArgument(source, v, args.refs[1]!, true, f => void findings.push(f));
	if (!r.ok && lost.length > 0) {
		ctx.io.stderr.write(findingLines(lost));
		ctx.io.stderr.write(message(`${r.error} (a layer of this view could not be read: the file may be in it)`));
		return incompleteExit;
	}
	if (!r.ok) throw new UsageError(r.error);
	if (r.entry.kind !== 'file')
		throw new UsageError(`/${r.rel}: is a ${r.entry.kind === 'dir' ? 'directory' : r.entry.kind}, not a regular file`);
	const path = join(v.layers[r.entry.layer]!.dir, r.rel);
	const opened = source.openRead?.(path);
	if (opened === undefined) throw new UsageError('this root cannot read file contents');
	if (!opened.ok && opened.error.code !== 'io') throw new UsageError(`/${r.rel}: ${opened.error.message}`);
	if (!opened.ok) {
		// The file is there but its content cannot be read (a truncated or sparse archive member): a finding, exit 5 (incomplete).
		findings.push({
			severity: 'error',
			code: 'files.unreadable',
			subject: v.subject,
			path,
			message: `/${r.rel}: its content cannot be read (${opened.error.message}); nothing was written`,
		});
		ctx.io.stderr.write(findingLines(findings));
		return incompleteExit;
	}
	const out = output(ctx.io.stdout);
	const reader = opened.value;
	const buffer = Buffer.allocUnsafe(1 << 20);
	let cut = false;
	try {
		for (let pos = 0; ; ) {
			const got = reader.read(buffer, pos);
			if (!got.ok) {
				findings.push({
					severity: 'error',
					code: 'files.unreadable',
					subject: v.subject,
					path,
					message: `/${r.rel}: ${got.error.message} (after ${pos} of ${reader.size} bytes): the output is incomplete`,
				});
				cut = true;
				break;
			}
			if (got.value === 0) break;
			await out.bytes(Buffer.from(buffer.subarray(0, got.value)));
			pos += got.value;
		}
	} finally {
		reader.close();
	}
	if (findings.length > 0) ctx.io.stderr.write(findingLines(findings));
	return lost.length > 0 || cut ? incompleteExit : 0;
}

/** `layerlens export REF -o OUT.tar|- [--hash]`. */
export async function exportCommand(ctx: CommandContext): Promise<number> {
	const {loaded, args} = ctx;
	const source = loaded.source;
	const target = args.output;
	if (target === null) throw new UsageError('export needs -o FILE (or -o - for stdout)');
	if (args.hash && target === '-')
		throw new UsageError('--hash writes its manifest beside the output file: give -o FILE');
	const v = mergedView(loaded, args.refs[0]!);
	const lost = incomplete(loaded.model, [v]);
	if (lost.length > 0) {
		// An incomplete export would look complete: nothing is written.
		ctx.io.stderr.write(findingLines(lost));
		ctx.io.stderr.write(
			message(
				`export refused: ${lost.length === 1 ? 'a layer' : `${lost.length} layers`} of ${v.subject} could not be read whole, so the tar would lack files without saying so; nothing was written`,
			),
		);
		return incompleteExit;
	}
	const findings: Finding[] = [...xattrWarning(source, v)];
	const onProblem = (f: Finding): void => void findings.push(f);
	let unreadable = 0;
	if (target === '-') {
		const out = output(ctx.io.stdout);
		unreadable = (await exportTar(source, v, {put: b => out.bytes(b)}, {onProblem})).unreadable;
		await out.flush();
	} else {
		// Both names are checked before anything is created; nothing is left behind on failure.
		const opened = openOutputs(args.hash ? [target, `${target}.sha256`] : [target], evidenceOf(source));
		if (!opened.ok) throw new UsageError(opened.error);
		const [file, manifest] = opened.files as [OutputFile, OutputFile | undefined];
		try {
			const result = await exportTar(source, v, file, {
				onProblem,
				...(manifest !== undefined
					? {onHash: (name: string, sha: string) => manifest.put(encodeName(manifestLine(name, sha)))}
					: {}),
			});
			unreadable = result.unreadable;
			file.finish();
			manifest?.finish();
			file.commit();
			manifest?.commit();
			ctx.io.stderr.write(
				message(
					`wrote ${target}: ${result.entries} entries, ${result.files} regular files, ${result.bytes} bytes${manifest !== undefined ? `; sha256 manifest ${target}.sha256` : ''}${result.unreadable > 0 ? `; INCOMPLETE: the content of ${result.unreadable} regular file${result.unreadable === 1 ? '' : 's'} could not be read (see below)` : ''}`,
				),
			);
		} catch (error) {
			for (const f of opened.files) f.abort();
			throw error;
		}
	}
	if (findings.length > 0) ctx.io.stderr.write(findingLines(findings));
	// Content that could not be read is never silent: the export is incomplete.
	return unreadable > 0 ? incompleteExit : 0;
}
