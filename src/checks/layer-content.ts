import {createHash} from 'node:crypto';
import {type Finding, finding} from '../finding.ts';
import {shortId} from '../model/ids.ts';
import type {Layer} from '../model/types.ts';
import {driverInfo, isDriverName} from '../read/drivers/registry.ts';
import {type FileReader, type Result, type Source, type SourceError, ok, splitPath} from '../sources/source.ts';
import {type TarSplitEntry, type TarSplitResult, readTarSplit} from '../read/tar-split.ts';
import {Crc64} from './crc64.ts';
import {bytesText, diskUsage} from './size.ts';
import {type Check, type CheckContext, type CheckResult, pass, skipped, verdict} from './types.ts';

/**
 * --deep: each layer's diff id verified by rebuilding its tar stream from tar-split.json.gz and
 * the layer's files (the reference layout notes §7), streaming: segments are hashed as they come, files are
 * read in 1 MiB pieces and their CRC-64 checked. Memory stays bounded whatever the layer's size.
 *
 * On a source where reading out of order costs passes (a compressed archive: Source.contentOffset),
 * the record is taken in windows of at most WINDOW (16 MiB: file content, tar headers, bookkeeping):
 * a window's files are read in archive order into memory, then hashed in the record's order, so that
 * a layer costs at most one pass over the archive per window instead of one per file, and layers are
 * taken in the order their directories lie in the archive. A file larger than the window is read in
 * place, in pieces.
 */

const PIECE = 1 << 20;
const PROGRESS_EVERY = 64 << 20;
/**
 * Memory held at once when reading a compressed archive in its own order (see above): the files'
 * content, the record's segments (tar headers) and about ENTRY_COST bytes of bookkeeping per entry.
 */
const WINDOW = 16 << 20;
const ENTRY_COST = 2048;
/** A tar-split record at most this large (compressed) is read whole before its layer's files, on a compressed archive. */
const RECORD_HOLD_MAX = 16 << 20;
/** Entries walked for the size comparison before giving up. */
const SIZE_WALK_CAP = 5_000_000;

type Verified = {
	readonly result: CheckResult;
	/** Sum of the tar's file sizes, when the whole tar-split was read. */
	readonly tarSum?: number;
};

const verifiedCache = new WeakMap<CheckContext, Map<string, Verified>>();

function key(l: Layer): string {
	return `${l.driver}\0${l.chainId}`;
}

/** A tar member name as a path under the layer directory: './a/b/' → 'a/b'; null when it leaves the directory. */
function memberPath(name: string): string | null {
	const parts = splitPath(name.replace(/^\/+/, ''));
	if (parts === null || parts.length === 0) return null;
	return parts.join('/');
}

type Problem = {
	readonly position: number;
	readonly name: string;
	readonly why: string;
	readonly path?: string;
	readonly unverifiable?: boolean;
};

/** A reader over bytes read ahead: size is the file's, data its first bytes, error what stopped reading after them. */
function readAhead(size: number, data: Buffer, error: SourceError | undefined): FileReader {
	return {
		size,
		read(buffer: Buffer, position: number): Result<number> {
			if (position < data.length)
				return ok(data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length)));
			return error === undefined ? ok(0) : {ok: false, error};
		},
		close(): void {},
	};
}

/** A file's whole content read now (when its size is the one expected), for a window read in archive order. */
function prefetch(source: Source, path: string, expected: number, buffer: Buffer): Result<FileReader> {
	const opened = source.openRead!(path);
	if (!opened.ok) return opened;
	const reader = opened.value;
	try {
		if (reader.size !== expected) return ok(readAhead(reader.size, Buffer.alloc(0), undefined));
		const data = Buffer.allocUnsafe(expected);
		let pos = 0;
		while (pos < expected) {
			const got = reader.read(
				pos + buffer.length <= expected ? data.subarray(pos, pos + buffer.length) : data.subarray(pos),
				pos,
			);
			if (!got.ok) return ok(readAhead(reader.size, data.subarray(0, pos), got.error));
			if (got.value === 0) break;
			pos += got.value;
		}
		return ok(readAhead(reader.size, data.subarray(0, pos), undefined));
	} finally {
		reader.close();
	}
}

/**
 * What the rebuilt stream must hash to. Before 1.10 (graph/) a layer has no diff id: its record is
 * `graph/<id>/tar-data.json.gz` (same format), and the digest is known only where a 1.10 daemon's
 * migration wrote `.migration-diffid`; otherwise each file's CRC-64 is what is verified.
 */
function expectation(
	ctx: CheckContext,
	l: Layer,
): {readonly record: string; readonly digest: string | null; readonly what: string} {
	if (ctx.model.layout !== 'v1')
		return {record: `${l.metaPath}/tar-split.json.gz`, digest: l.diffId, what: `its diff id ${l.diffId}`};
	const record = `${l.metaPath}/tar-data.json.gz`;
	const migrated = ctx.source.readFile(`${l.metaPath}/.migration-diffid`, 256);
	const text = migrated.ok ? migrated.value.toString('utf8').trim() : '';
	if (/^sha256:[0-9a-f]{64}$/.test(text))
		return {record, digest: text, what: `the diff id a 1.10 migration recorded (${text})`};
	return {record, digest: null, what: 'its tar-data.json.gz record'};
}

/** The layer directory whose files rebuild the stream, or why this layer cannot be verified on this source. */
function layerToVerify(
	ctx: CheckContext,
	l: Layer,
	digest: string | null,
): {readonly dir: string} | {readonly skip: string} {
	if (digest === null && ctx.model.layout !== 'v1') return {skip: 'its diff id is unknown'};
	if (!isDriverName(l.driver) || l.path === null) return {skip: 'no layer directory (no cache id or unknown driver)'};
	if (ctx.index.store(l.driver)?.layout === 'containerd')
		return {skip: 'containerd store: a snapshot has no tar-split record to rebuild its tar stream from'};
	if (driverInfo(l.driver)?.contentChecked !== true)
		return {skip: `${l.driver} keeps layer data outside the files of the root`};
	if (!l.pathExists) return {skip: `its directory ${l.path} is missing (see layer.dir)`};
	if (ctx.source.openRead === undefined) return {skip: 'this source cannot read file contents'};
	return {dir: l.path};
}

type FileEntry = {readonly position: number; readonly name: string; readonly size: number; readonly crc: Buffer | null};

/** Why a file of the record could not be opened, as the mismatch message says it. */
function unopenedWhy(error: SourceError): string {
	return error.code === 'missing'
		? 'is missing from the layer directory'
		: error.code === 'symlink' || error.code === 'not-a-file' || error.code === 'not-a-dir'
			? `is not a regular file on disk (${error.message})`
			: `cannot be read (${error.message})`;
}

/** One layer's tar stream as it is rebuilt: its hash and length (with progress), the tar's file sizes, and the first difference found. */
class Rebuild {
	readonly sha = createHash('sha256');
	bytes = 0;
	tarSum = 0;
	problem: Problem | undefined;
	private nextReport = PROGRESS_EVERY;
	private readonly ctx: CheckContext;
	private readonly label: string;
	private readonly buffer: Buffer;

	constructor(ctx: CheckContext, label: string, buffer: Buffer) {
		this.ctx = ctx;
		this.label = label;
		this.buffer = buffer;
	}

	hashed(chunk: Buffer): void {
		this.sha.update(chunk);
		this.bytes += chunk.length;
		if (this.bytes >= this.nextReport) {
			this.nextReport += PROGRESS_EVERY;
			this.ctx.progress?.(`verifying ${this.label}: ${bytesText(this.bytes).replace(/ \(.*\)$/, '')}`);
		}
	}

	/** Checks one file of the record against what opened reads; hashes it into the stream. False at the first difference. */
	verifyFile(entry: FileEntry, path: string, opened: Result<FileReader>): boolean {
		if (!opened.ok) {
			this.problem = {
				position: entry.position,
				name: entry.name,
				why: unopenedWhy(opened.error),
				path,
				unverifiable: opened.error.code === 'io' || opened.error.code === 'denied',
			};
			return false;
		}
		const reader = opened.value;
		try {
			if (reader.size !== entry.size) {
				this.problem = {
					position: entry.position,
					name: entry.name,
					why: `is ${reader.size} bytes on disk, the layer recorded ${entry.size}`,
					path,
				};
				return false;
			}
			return this.hashContent(entry, path, reader);
		} finally {
			reader.close();
		}
	}

	/** A file's content read in pieces, CRC-64 checked and hashed into the stream. False at the first difference. */
	private hashContent(entry: FileEntry, path: string, reader: FileReader): boolean {
		const buffer = this.buffer;
		const crc = new Crc64();
		let pos = 0;
		while (pos < entry.size) {
			const got = reader.read(buffer, pos);
			if (!got.ok) {
				this.problem = {
					position: entry.position,
					name: entry.name,
					why: `cannot be read (${got.error.message})`,
					path,
					unverifiable: true,
				};
				return false;
			}
			if (got.value === 0) {
				this.problem = {
					position: entry.position,
					name: entry.name,
					why: `ends after ${pos} of ${entry.size} bytes`,
					path,
				};
				return false;
			}
			const chunk = buffer.subarray(0, Math.min(got.value, entry.size - pos));
			crc.update(chunk);
			this.hashed(chunk);
			pos += chunk.length;
		}
		if (entry.crc !== null && !crc.digest().equals(entry.crc)) {
			this.problem = {
				position: entry.position,
				name: entry.name,
				why: 'has different content (its CRC-64 differs from the one recorded)',
				path,
			};
			return false;
		}
		return true;
	}
}

type Pending = {readonly entry: FileEntry; readonly path: string} | {readonly segment: Buffer};

/** Windows read in archive order (compressed archives only): the entries since the last flush, in record order. */
class ArchiveWindow {
	private items: Pending[] = [];
	private bytes = 0;
	private readonly rebuild: Rebuild;
	private readonly source: Source;
	private readonly buffer: Buffer;
	/** Source.contentOffset; undefined where reading out of order costs nothing (then nothing is held). */
	readonly contentOffset: ((rel: string) => number | undefined) | undefined;

	constructor(
		rebuild: Rebuild,
		source: Source,
		buffer: Buffer,
		contentOffset: ((rel: string) => number | undefined) | undefined,
	) {
		this.rebuild = rebuild;
		this.source = source;
		this.buffer = buffer;
		this.contentOffset = contentOffset;
	}

	get empty(): boolean {
		return this.items.length === 0;
	}

	/** Holds one entry that costs `cost` bytes; flushes when the window is full. False at the first difference. */
	add(p: Pending, cost: number): boolean {
		this.items.push(p);
		this.bytes += cost;
		return this.bytes >= WINDOW ? this.flush() : true;
	}

	/** The held files read in archive order, then every held entry hashed (and checked) in record order. False at the first difference. */
	flush(): boolean {
		const files = this.items.filter((p): p is {entry: FileEntry; path: string} => 'entry' in p);
		const order = files.map(f => ({f, at: this.contentOffset?.(f.path) ?? -1})).sort((a, b) => a.at - b.at);
		const read = new Map<Pending, Result<FileReader>>();
		for (const {f} of order) read.set(f, prefetch(this.source, f.path, f.entry.size, this.buffer));
		const items = this.items;
		this.items = [];
		this.bytes = 0;
		for (const p of items) {
			if ('segment' in p) this.rebuild.hashed(p.segment);
			else if (!this.rebuild.verifyFile(p.entry, p.path, read.get(p)!)) return false;
		}
		return true;
	}
}

/** One tar-split entry taken into the rebuild: a segment hashed, a file verified, or either held in the window. False to stop reading. */
function takeEntry(
	entry: TarSplitEntry,
	rebuild: Rebuild,
	window: ArchiveWindow,
	source: Source,
	dir: string,
): boolean {
	if (entry.type === 'segment') {
		if (window.empty) {
			rebuild.hashed(entry.payload);
			return true;
		}
		return window.add({segment: entry.payload}, entry.payload.length + ENTRY_COST);
	}
	rebuild.tarSum += entry.size;
	if (entry.size === 0) return true;
	// The entries of the window before this one come first: the first difference is the one reported.
	const stop = (p: Problem): false => {
		if (window.empty || window.flush()) rebuild.problem = p;
		return false;
	};
	if (entry.nameRaw !== undefined)
		return stop({
			position: entry.position,
			name: entry.nameRaw.toString('latin1'),
			why: 'its name is not UTF-8, so it cannot be looked up',
			unverifiable: true,
		});
	const rel = memberPath(entry.name);
	if (rel === null)
		return stop({position: entry.position, name: entry.name, why: 'its name leaves the layer directory'});
	const path = `${dir}/${rel}`;
	if (window.contentOffset === undefined || entry.size > WINDOW) {
		if (!window.empty && !window.flush()) return false;
		return rebuild.verifyFile(entry, path, source.openRead!(path));
	}
	return window.add({entry, path}, entry.size + ENTRY_COST);
}

/**
 * Where the record is read from. On a compressed archive it is read whole first (it is small: compressed JSON), so that
 * reading it does not move the one inflater away from the files of the window being read.
 */
function recordSource(ctx: CheckContext, record: string, compressed: boolean): Pick<Source, 'openRead'> {
	if (!compressed) return ctx.source;
	const prefetched = records.get(ctx)?.get(record);
	const held = prefetched !== undefined ? ok(prefetched) : ctx.source.readFile(record, RECORD_HOLD_MAX);
	if (held.ok) return {openRead: () => ok(readAhead(held.value.length, held.value, undefined))};
	return ctx.source;
}

type Expectation = ReturnType<typeof expectation>;

/** The verdict when the record itself could not be read: missing, unreadable on this source, or damaged. */
function recordFailed(l: Layer, tarSplit: string, r: Extract<TarSplitResult, {ok: false}>): Verified {
	const subject = `layer:${l.chainId}`;
	const check = 'layer.content';
	const recordName = tarSplit.slice(tarSplit.lastIndexOf('/') + 1);
	if (r.reason === 'missing') {
		return {
			result: verdict(subject, check, [
				finding(
					'warning',
					'layer.tar-split-missing',
					subject,
					`layer ${shortId(l.chainId)} has no ${recordName}, so its content cannot be verified (Docker also needs it to export or push the layer)`,
					tarSplit,
				),
			]),
		};
	}
	if (
		r.reason === 'unsupported' ||
		(r.reason === 'unreadable' && /cannot reopen|cannot read the archive again|changed since/.test(r.message))
	) {
		return {result: skipped(subject, check, r.message)};
	}
	return {
		result: verdict(subject, check, [
			finding(
				'error',
				'layer.tar-split-invalid',
				subject,
				`the tar-split metadata of layer ${shortId(l.chainId)} is damaged (${r.message}): its content cannot be verified, and Docker cannot export or push it`,
				tarSplit,
			),
		]),
	};
}

/** The verdict once the record was read to its end (or to the first difference): a file differs, the stream's digest differs, or it matches. */
function rebuilt(l: Layer, expect: Expectation, dir: string, entries: number, rebuild: Rebuild): Verified {
	const subject = `layer:${l.chainId}`;
	const check = 'layer.content';
	const tarSplit = expect.record;
	const recordName = tarSplit.slice(tarSplit.lastIndexOf('/') + 1);
	const {problem, tarSum} = rebuild;
	if (problem !== undefined) {
		if (problem.unverifiable)
			return {
				result: skipped(subject, check, `entry ${problem.position} ${JSON.stringify(problem.name)} ${problem.why}`),
			};
		return {
			result: verdict(subject, check, [
				finding(
					'error',
					'layer.content-mismatch',
					subject,
					`layer ${shortId(l.chainId)} does not match ${expect.what}: the first entry that differs is #${problem.position} ${JSON.stringify(problem.name)}, which ${problem.why}; the files in ${dir} were changed after Docker stored the layer, so every image and container using it sees content its image never had`,
					problem.path ?? dir,
				),
			]),
		};
	}
	const digest = `sha256:${rebuild.sha.digest('hex')}`;
	const summary = `${entries} ${recordName} entries, ${bytesText(rebuild.bytes).replace(/ \(.*\)$/, '')} rebuilt`;
	if (expect.digest === null)
		return {
			result: pass(
				subject,
				check,
				`${summary}; every file matches its CRC-64 (no digest was recorded before Docker 1.10; the stream hashes to ${digest})`,
			),
			tarSum,
		};
	if (digest === expect.digest) return {result: pass(subject, check, summary), tarSum};
	return {
		result: verdict(subject, check, [
			finding(
				'error',
				'layer.content-mismatch',
				subject,
				`layer ${shortId(l.chainId)}: every file matches its recorded CRC-64, but the rebuilt tar stream hashes to ${digest}, not ${expect.what}: the tar-split metadata (headers: names, modes, owners, times) was changed, or the diff file was`,
				tarSplit,
			),
		]),
		tarSum,
	};
}

async function verify(ctx: CheckContext, l: Layer, n: number, total: number, buffer: Buffer): Promise<Verified> {
	const expect = expectation(ctx, l);
	const target = layerToVerify(ctx, l, expect.digest);
	if ('skip' in target) return {result: skipped(`layer:${l.chainId}`, 'layer.content', target.skip)};
	const {dir} = target;
	const source = ctx.source;
	const label = `layer ${n}/${total} ${shortId(l.chainId)}`;
	ctx.progress?.(`verifying ${label} (${dir})`);
	const rebuild = new Rebuild(ctx, label, buffer);
	const window = new ArchiveWindow(rebuild, source, buffer, source.contentOffset?.bind(source));
	const r = await readTarSplit(
		recordSource(ctx, expect.record, window.contentOffset !== undefined),
		expect.record,
		entry => takeEntry(entry, rebuild, window, source, dir),
	);
	if (r.ok && rebuild.problem === undefined && !window.empty) window.flush();
	return r.ok ? rebuilt(l, expect, dir, r.entries, rebuild) : recordFailed(l, expect.record, r);
}

/** Tar-split records read ahead, in archive order, on a compressed archive (see prefetchRecords). */
const records = new WeakMap<CheckContext, Map<string, Buffer>>();
/** At most this much of records is read ahead (compressed bytes); the rest is read beside its layer. */
const PREFETCH_MAX = 128 << 20;

/**
 * On a compressed archive, every layer's tar-split record in one sweep, in the order they lie in it:
 * the records (under image/) may lie after the layers' directories, and reading each one just before
 * its layer's files would start the one inflater again from the beginning for every layer.
 */
function prefetchRecords(
	ctx: CheckContext,
	layers: readonly Layer[],
	at: (rel: string) => number | undefined,
): Map<string, Buffer> {
	const out = new Map<string, Buffer>();
	const wanted = layers
		.map(l => ({record: expectation(ctx, l).record, offset: at(expectation(ctx, l).record)}))
		.filter((w): w is {record: string; offset: number} => w.offset !== undefined)
		.sort((a, b) => a.offset - b.offset);
	let total = 0;
	for (const w of wanted) {
		const got = ctx.source.readFile(w.record, RECORD_HOLD_MAX);
		if (!got.ok) continue; // read again, and reported, when its layer is verified
		if (total + got.value.length > PREFETCH_MAX) break;
		total += got.value.length;
		out.set(w.record, got.value);
	}
	return out;
}

async function verifiedLayers(ctx: CheckContext): Promise<Map<string, Verified>> {
	const hit = verifiedCache.get(ctx);
	if (hit !== undefined) return hit;
	const out = new Map<string, Verified>();
	verifiedCache.set(ctx, out);
	const buffer = Buffer.allocUnsafe(PIECE);
	const layers = [...ctx.model.layers];
	// A compressed archive is read through one inflater: layers in the order their directories lie in it.
	const at = ctx.source.contentOffset?.bind(ctx.source);
	if (at !== undefined) {
		const pos = new Map(layers.map(l => [l, (l.path === null ? undefined : at(l.path)) ?? Number.MAX_SAFE_INTEGER]));
		layers.sort((a, b) => pos.get(a)! - pos.get(b)!);
		records.set(ctx, prefetchRecords(ctx, layers, at));
	}
	for (let i = 0; i < layers.length; i++) {
		const l = layers[i]!;
		out.set(key(l), await verify(ctx, l, i + 1, layers.length, buffer));
	}
	return out;
}

const layerContent: Check = {
	id: 'layer.content',
	title: "(--deep) the layer's files and tar-split rebuild a tar stream whose sha256 is its diff id",
	objects: 'layer',
	codes: ['layer.content-mismatch', 'layer.tar-split-missing', 'layer.tar-split-invalid'],
	claims: [],
	deep: true,
	run: async ctx => {
		const verified = await verifiedLayers(ctx);
		return ctx.model.layers.map(l => verified.get(key(l))!.result);
	},
};

const layerSize: Check = {
	id: 'layer.size',
	title: "(--deep) the layer's recorded size is the sum of its files' sizes",
	objects: 'layer',
	codes: ['layer.size-mismatch'],
	claims: [],
	deep: true,
	run: async ctx => {
		const verified = await verifiedLayers(ctx);
		return ctx.model.layers.map((l): CheckResult => {
			const subject = `layer:${l.chainId}`;
			const check = 'layer.size';
			if (l.size === null) return skipped(subject, check, 'no size recorded');
			if (ctx.index.store(l.driver)?.layout === 'containerd')
				return skipped(
					subject,
					check,
					"containerd store: the snapshotter records the directory's disk usage in blocks, not the files' sizes",
				);
			const tarSum = verified.get(key(l))?.tarSum;
			if (tarSum === l.size) return pass(subject, check, "equals the sum of the tar's file sizes");
			let dirSum: number | undefined;
			if (driverInfo(l.driver)?.sizeIsDirSize === true && l.path !== null && l.pathExists) {
				ctx.progress?.(`sizing ${shortId(l.chainId)} (${l.path})`);
				const u = diskUsage(ctx.source, l.path, SIZE_WALK_CAP);
				if (!u.complete) return skipped(subject, check, `${l.path} could not be walked completely`);
				dirSum = u.bytes;
				if (dirSum === l.size) return pass(subject, check, "equals the sum of the directory's file sizes");
			}
			if (tarSum === undefined && dirSum === undefined)
				return skipped(subject, check, 'no tar-split or directory to sum');
			const sums = [
				...(dirSum !== undefined ? [`the files in ${l.path} sum to ${bytesText(dirSum)}`] : []),
				...(tarSum !== undefined ? [`the tar's files sum to ${bytesText(tarSum)}`] : []),
			].join(' and ');
			const findings: Finding[] = [
				finding(
					'warning',
					'layer.size-mismatch',
					subject,
					`layer ${shortId(l.chainId)} records a size of ${bytesText(l.size)}, but ${sums}: the layer's files or its size file changed after Docker stored it (docker images and docker system df report the recorded size)`,
					`${l.metaPath}/size`,
				),
			];
			return verdict(subject, check, findings);
		});
	},
};

export const deepChecks: readonly Check[] = [layerContent, layerSize];
