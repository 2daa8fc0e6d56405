import {Readable} from 'node:stream';
import {createGunzip} from 'node:zlib';
import {type Finding, finding} from '../finding.ts';
import type {Container, Image, Model} from '../model/types.ts';
import {logFileProblem} from '../read/container-files.ts';
import type {Source} from '../sources/source.ts';
import {shortId} from '../model/ids.ts';
import {isoMicros, toMicros} from './time.ts';

/**
 * One dated event, in the fields Timesketch imports (`message`, `datetime`, `timestamp_desc`,
 * `timestamp` in microseconds) plus our own: what kind of event, which object, and where the
 * time was read (`source` file relative to the root, `field` within it, `source_time` as stored).
 */
export type TimelineEvent = {
	readonly message: string;
	readonly datetime: string;
	readonly timestamp: number;
	readonly timestamp_desc: string;
	readonly kind: string;
	readonly subject: string;
	readonly source: string;
	readonly field: string;
	readonly source_time: string;
};

export type TimelineOptions = {
	/** RW-layer file times. */
	readonly files: boolean;
	/** Log lines (json-file and local drivers). */
	readonly logs: boolean;
	/** Cap on entries walked per RW layer and log lines read per container (default defaultMaxPerContainer). */
	readonly maxPerContainer?: number;
	/** Collects what could not be put in the timeline: caps reached, unreadable or damaged logs and directories. */
	readonly findings?: Finding[];
};

/** Events are sorted in memory: at most this many log lines per container, and as many RW-layer entries (a finding says where it stopped). */
const defaultMaxPerContainer = 100_000;

/** A json-file line longer than this is not parsed (dockerd splits messages at 16 KiB); it is counted in a finding. */
const maxLineBytes = 1 << 20;

/** A local-driver record longer than this ends the file as damaged (dockerd's local driver writes messages of at most 1 MB). */
const maxRecordBytes = 4 << 20;

function label(c: Container): string {
	return c.name ?? shortId(c.id);
}

function imageLabel(i: Image): string {
	return i.tags[0] ?? i.digests[0] ?? shortId(i.id);
}

type NewEvent = Omit<TimelineEvent, 'datetime' | 'timestamp' | 'source_time'>;

/** The events being gathered: one dated by a time as stored, or by a file's mtime. */
class Events {
	readonly out: TimelineEvent[] = [];
	private readonly source: Source;

	constructor(source: Source) {
		this.source = source;
	}

	add(time: string | null | undefined, e: NewEvent): void {
		const us = toMicros(time);
		if (us === null || time === null || time === undefined) return;
		this.out.push({...e, datetime: isoMicros(us), timestamp: us, source_time: time});
	}

	addMtime(rel: string, subject: string, what: string): void {
		const st = this.source.stat(rel);
		if (!st.ok) return;
		const us = Math.round(st.value.mtimeMs * 1000);
		this.out.push({
			message: `${what} last modified`,
			datetime: isoMicros(us),
			timestamp: us,
			timestamp_desc: 'Content Modification Time',
			kind: 'file.modified',
			subject,
			source: rel,
			field: 'mtime',
			source_time: new Date(st.value.mtimeMs).toISOString(),
		});
	}
}

/** An image's creation, each build step (with or without a layer), and its last tagging. */
function imageEvents(events: Events, i: Image): void {
	const subject = `image:${i.id}`;
	events.add(i.created, {
		message: `image ${imageLabel(i)} created`,
		timestamp_desc: 'Image Created',
		kind: 'image.created',
		subject,
		source: i.path,
		field: 'created',
	});
	i.history.forEach((h, n) => {
		const step = h.createdBy ?? '(no command recorded)';
		events.add(h.created, {
			message: h.emptyLayer
				? `image ${imageLabel(i)} build step (no layer): ${step}`
				: `layer ${h.chainId === null ? '?' : shortId(h.chainId)} of image ${imageLabel(i)} created by: ${step}`,
			timestamp_desc: h.emptyLayer ? 'Image Build Step' : 'Layer Created',
			kind: h.emptyLayer ? 'image.step' : 'layer.created',
			subject: h.chainId === null ? subject : `layer:${h.chainId}`,
			source: i.path,
			field: `history[${n}].created`,
		});
	});
	events.add(i.lastUpdated, {
		message: `image ${imageLabel(i)} last tagged`,
		timestamp_desc: 'Image Tagged',
		kind: 'image.tagged',
		subject,
		source: `image/${i.driver}/imagedb/metadata/sha256/${i.id.slice(7)}/lastUpdated`,
		field: 'lastUpdated',
	});
}

/** A container's log lines, file after file, at most max in all; reaching the cap is a finding. */
async function logEvents(
	events: Events,
	source: Source,
	c: Container,
	logs: readonly LogFile[],
	max: number,
	report: (f: Finding) => void,
): Promise<void> {
	const subject = `container:${c.id}`;
	let budget = max;
	for (let i = 0; i < logs.length; i++) {
		const log = logs[i]!;
		const r = await logLines(source, c, log, budget, report);
		for (const e of r.events) events.out.push(e);
		budget -= r.events.length;
		if (r.cappedAfter !== undefined) {
			const rest = logs.slice(i + 1).map(l => l.path.split('/').pop()!);
			report(
				finding(
					'warning',
					'timeline.logs-capped',
					subject,
					`timeline --logs keeps at most ${max} log lines per container: container ${label(c)} reached it in ${log.path} after ${r.cappedAfter}; the rest of that file${rest.length > 0 ? ` and ${rest.length} more log file${rest.length === 1 ? '' : 's'} (${rest.join(', ')})` : ''} are not in the timeline`,
					log.path,
				),
			);
			break;
		}
	}
}

/** A container's creation, start and finish, its files' mtimes, and (as asked) its log lines and RW-layer file times. */
async function containerEvents(
	events: Events,
	source: Source,
	c: Container,
	opts: TimelineOptions,
	report: (f: Finding) => void,
): Promise<void> {
	const max = opts.maxPerContainer ?? defaultMaxPerContainer;
	const subject = `container:${c.id}`;
	const config = `${c.path}/config.v2.json`;
	events.add(c.created, {
		message: `container ${label(c)} created from ${c.imageRef ?? c.imageId ?? '?'}`,
		timestamp_desc: 'Container Created',
		kind: 'container.created',
		subject,
		source: config,
		field: 'Created',
	});
	events.add(c.startedAt, {
		message: `container ${label(c)} started: ${c.command ?? ''}`.trimEnd(),
		timestamp_desc: 'Container Started',
		kind: 'container.started',
		subject,
		source: config,
		field: 'State.StartedAt',
	});
	events.add(c.finishedAt, {
		message: `container ${label(c)} finished with exit code ${c.exitCode ?? '?'}`,
		timestamp_desc: 'Container Finished',
		kind: 'container.finished',
		subject,
		source: config,
		field: 'State.FinishedAt',
	});
	events.addMtime(config, subject, `container ${label(c)} config.v2.json`);
	events.addMtime(`${c.path}/hostconfig.json`, subject, `container ${label(c)} hostconfig.json`);
	const logs = logFiles(source, c, opts.logs ? report : () => {});
	for (const log of logs) events.addMtime(log.path, subject, `container ${label(c)} log ${log.path.split('/').pop()}`);
	if (opts.logs) await logEvents(events, source, c, logs, max, report);
	if (opts.files) {
		const rw = c.chain.find(e => e.role === 'rw');
		if (rw?.path != null) for (const e of fileTimes(source, c, rw.path, max, report)) events.out.push(e);
	}
}

/** Builds every dated event of a host, oldest first. Reads file times and logs (streamed) through the Source only. */
export async function buildTimeline(model: Model, source: Source, opts: TimelineOptions): Promise<TimelineEvent[]> {
	const report = (f: Finding): void => void opts.findings?.push(f);
	const events = new Events(source);
	for (const i of model.images) imageEvents(events, i);
	for (const c of model.containers) await containerEvents(events, source, c, opts, report);
	const out = events.out;
	out.sort(
		(a, b) =>
			a.timestamp - b.timestamp ||
			(a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
			(a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
	);
	return out;
}

type LogFile = {readonly path: string; readonly format: 'json-file' | 'local'; readonly gzip: boolean};

/** containers/<id>/<id>-json.log[.N[.gz]] (json-file) and containers/<id>/local-logs/container.log[.N[.gz]] (local). */
function logFiles(source: Source, c: Container, report: (f: Finding) => void): LogFile[] {
	const out: LogFile[] = [];
	const subject = `container:${c.id}`;
	const listed = source.list(c.path);
	if (listed.ok) {
		for (const e of listed.value) {
			const m = new RegExp(`^${c.id}-json\\.log(\\.\\d+)?(\\.gz)?$`).exec(e.name);
			if (m === null) continue;
			if (e.kind === 'file') out.push({path: `${c.path}/${e.name}`, format: 'json-file', gzip: m[2] !== undefined});
			else report(logFileProblem(source, `${c.path}/${e.name}`, e, subject)!);
		}
	}
	const local = source.list(`${c.path}/local-logs`);
	if (local.ok) {
		for (const e of local.value) {
			const m = /^container\.log(\.\d+)?(\.gz)?$/.exec(e.name);
			if (m === null) continue;
			if (e.kind === 'file')
				out.push({path: `${c.path}/local-logs/${e.name}`, format: 'local', gzip: m[2] !== undefined});
			else report(logFileProblem(source, `${c.path}/local-logs/${e.name}`, e, subject)!);
		}
	} else if (local.error.code !== 'missing') {
		report(
			finding(
				'warning',
				'log.unreadable',
				subject,
				`${c.path}/local-logs cannot be read (${local.error.message}): the local driver's log lines are not in \`timeline --logs\``,
				`${c.path}/local-logs`,
			),
		);
	}
	return out;
}

/** A log file's bytes, streamed (inflated as a stream when gzipped): memory does not grow with the file. */
async function* logBytes(source: Source, log: LogFile): AsyncGenerator<Buffer> {
	const opened = source.openRead?.(log.path);
	if (opened === undefined) throw new Error('this root cannot read file contents');
	if (!opened.ok) throw new Error(opened.error.message);
	const reader = opened.value;
	function* raw(): Generator<Buffer> {
		const buffer = Buffer.allocUnsafe(1 << 20);
		for (let pos = 0; ; ) {
			const got = reader.read(buffer, pos);
			if (!got.ok) throw new Error(got.error.message);
			if (got.value === 0) return;
			pos += got.value;
			yield Buffer.from(buffer.subarray(0, got.value));
		}
	}
	try {
		if (!log.gzip) {
			yield* raw();
			return;
		}
		const input = Readable.from(raw(), {objectMode: false});
		const gunzip = createGunzip({chunkSize: 1 << 16});
		input.on('error', error => gunzip.destroy(error));
		input.pipe(gunzip);
		try {
			for await (const chunk of gunzip) yield chunk as Buffer;
		} finally {
			input.destroy();
			gunzip.destroy();
		}
	} finally {
		reader.close();
	}
}

type LogRead = {
	readonly events: TimelineEvent[];
	/** Set when the budget ran out: 'line N' / 'record N', the last one kept. */
	readonly cappedAfter?: string;
};

/** One log file as it is read: its events so far, counts of what was left out, and where the budget stopped it. */
class LogState {
	readonly out: TimelineEvent[] = [];
	readonly subject: string;
	unparsed = 0;
	long = 0;
	n = 0;
	capped: string | undefined;
	/** The last line or record ends without a newline or is cut short. */
	torn = false;
	/** json-file: the line read so far, or a line longer than maxLineBytes being skipped. */
	private pending: Buffer[] = [];
	private pendingBytes = 0;
	private skipping = false;
	/** local: the bytes of a record not read to its end yet. */
	private rest: Buffer = Buffer.alloc(0);
	private readonly c: Container;
	private readonly log: LogFile;
	private readonly budget: number;
	private readonly report: (f: Finding) => void;

	constructor(c: Container, log: LogFile, budget: number, report: (f: Finding) => void) {
		this.c = c;
		this.log = log;
		this.budget = budget;
		this.report = report;
		this.subject = `container:${c.id}`;
	}

	private push(time: string, stream: string, line: string, field: string): void {
		const us = toMicros(time);
		if (us === null) {
			this.unparsed++;
			return;
		}
		this.out.push({
			message: `container ${label(this.c)} ${stream}: ${line.replace(/\r?\n$/, '')}`,
			datetime: isoMicros(us),
			timestamp: us,
			timestamp_desc: 'Log Line Written',
			kind: 'log.line',
			subject: this.subject,
			source: this.log.path,
			field,
			source_time: time,
		});
	}

	private jsonLine(bytes: Buffer): void {
		this.n++;
		if (bytes.length === 0) return;
		try {
			const rec = JSON.parse(bytes.toString('utf8')) as {log?: unknown; stream?: unknown; time?: unknown};
			if (typeof rec.time === 'string' && typeof rec.log === 'string')
				this.push(rec.time, typeof rec.stream === 'string' ? rec.stream : 'log', rec.log, `line ${this.n}`);
			else this.unparsed++;
		} catch {
			this.unparsed++;
		}
	}

	/** A json-file chunk: each line ending in it taken, the rest held (or skipped when too long). False when reading stops. */
	jsonChunk(chunk: Buffer): boolean {
		let from = 0;
		for (;;) {
			if (this.out.length >= this.budget) {
				this.capped = `line ${this.n}`;
				return false;
			}
			const nl = chunk.indexOf(0x0a, from);
			if (nl < 0) {
				if (!this.skipping && from < chunk.length) {
					this.pending.push(chunk.subarray(from));
					this.pendingBytes += chunk.length - from;
					if (this.pendingBytes > maxLineBytes) {
						this.skipping = true;
						this.pending = [];
						this.pendingBytes = 0;
					}
				}
				return true;
			}
			if (this.skipping) {
				this.skipping = false;
				this.n++;
				this.long++;
			} else
				this.jsonLine(
					this.pending.length === 0
						? chunk.subarray(from, nl)
						: Buffer.concat([...this.pending, chunk.subarray(from, nl)]),
				);
			this.pending = [];
			this.pendingBytes = 0;
			from = nl + 1;
		}
	}

	/** A local-driver chunk: each record completed by it taken, the rest held. False when reading stops (budget, or a damaged length). */
	localChunk(chunk: Buffer): boolean {
		const log = this.log;
		this.rest = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
		const rest = this.rest;
		let pos = 0;
		while (rest.length - pos >= 4) {
			if (this.out.length >= this.budget) {
				this.capped = `record ${this.n}`;
				return false;
			}
			const size = rest.readUInt32BE(pos);
			if (size > maxRecordBytes) {
				this.report(
					finding(
						'warning',
						'log.damaged',
						this.subject,
						`${log.path}: record ${this.n + 1} claims ${size} bytes (the local driver writes at most 1 MB): the file is damaged there, and the rest of it is not in the timeline`,
						log.path,
					),
				);
				return false;
			}
			if (rest.length - pos < size + 8) break;
			this.n++;
			const e = localEntry(rest.subarray(pos + 4, pos + 4 + size), this.n);
			pos += size + 8;
			if (e === null) this.unparsed++;
			else this.push(localTime(e.timeNano), e.source || 'log', e.line, `record ${e.index}`);
		}
		this.rest = rest.subarray(pos);
		return true;
	}

	/** The end of the file (not capped): a last line or record without its end is taken, or counted, as torn. */
	finish(): void {
		if (this.log.format === 'json-file' && (this.pendingBytes > 0 || this.skipping)) {
			this.torn = true;
			if (this.skipping) this.long++;
			else this.jsonLine(Buffer.concat(this.pending));
		}
		if (this.log.format === 'local' && this.rest.length > 0) {
			this.torn = true;
			this.unparsed++;
		}
	}
}

/** One log file's lines as events, at most `budget`; what is skipped, damaged or unreadable is reported. */
async function logLines(
	source: Source,
	c: Container,
	log: LogFile,
	budget: number,
	report: (f: Finding) => void,
): Promise<LogRead> {
	const s = new LogState(c, log, budget, report);
	const subject = s.subject;
	try {
		for await (const chunk of logBytes(source, log)) {
			if (!(log.format === 'json-file' ? s.jsonChunk(chunk) : s.localChunk(chunk))) break;
		}
		if (s.capped === undefined) s.finish();
	} catch (error) {
		report(
			finding(
				'warning',
				'log.damaged',
				subject,
				`${log.path} could not be read to its end (${error instanceof Error ? error.message : String(error)}) after ${log.format === 'json-file' ? `line ${s.n}` : `record ${s.n}`}: the rest of it is not in the timeline`,
				log.path,
			),
		);
	}
	const {long, unparsed} = s;
	if (long > 0)
		report(
			finding(
				'warning',
				'log.lines-skipped',
				subject,
				`${long} line${long === 1 ? '' : 's'} of ${log.path} ${long === 1 ? 'is' : 'are'} longer than ${maxLineBytes} bytes (dockerd splits messages at 16 KiB) and ${long === 1 ? 'is' : 'are'} not in the timeline`,
				log.path,
			),
		);
	if (unparsed > 0) {
		const why = s.torn ? ' (the last one ends without a newline: normal when the daemon stopped mid-write)' : '';
		report(
			finding(
				'info',
				'log.lines-unparsed',
				subject,
				`${unparsed} ${log.format === 'json-file' ? 'line' : 'record'}${unparsed === 1 ? '' : 's'} of ${log.path} ${unparsed === 1 ? 'is' : 'are'} not a log record with a time${why}, and not in the timeline`,
				log.path,
			),
		);
	}
	return s.capped === undefined ? {events: s.out} : {events: s.out, cappedAfter: s.capped};
}

function localTime(ns: bigint): string {
	return `${isoMicros(Number(ns / 1000n)).replace(/Z$/, '') + String(ns % 1000n).padStart(3, '0')}Z`;
}

type LocalEntry = {source: string; timeNano: bigint; line: string; index: number};

/** The local driver's records: uint32 BE length, protobuf LogEntry{1 source, 2 time_nano, 3 line, 4 partial}, uint32 BE length. */
export function localEntries(data: Buffer): LocalEntry[] {
	const out: LocalEntry[] = [];
	let pos = 0;
	let index = 0;
	while (pos + 4 <= data.length) {
		const size = data.readUInt32BE(pos);
		if (size > data.length - pos - 8) break;
		const msg = data.subarray(pos + 4, pos + 4 + size);
		pos += 8 + size;
		index++;
		const e = localEntry(msg, index);
		if (e !== null) out.push(e);
	}
	return out;
}

/** One LogEntry message; null when it is not valid protobuf. */
function localEntry(msg: Buffer, index: number): LocalEntry | null {
	const e: LocalEntry = {source: '', timeNano: 0n, line: '', index};
	let p = 0;
	try {
		while (p < msg.length) {
			const [key, p1] = varint(msg, p);
			p = p1;
			const field = Number(key >> 3n);
			const wire = Number(key & 7n);
			if (wire === 0) {
				const [v, p2] = varint(msg, p);
				p = p2;
				if (field === 2) e.timeNano = v;
			} else if (wire === 2) {
				const [len, p2] = varint(msg, p);
				const end = p2 + Number(len);
				if (end > msg.length) throw new Error('truncated');
				const bytes = msg.subarray(p2, end);
				if (field === 1) e.source = bytes.toString('utf8');
				if (field === 3) e.line = bytes.toString('utf8');
				p = end;
			} else if (wire === 1) p += 8;
			else if (wire === 5) p += 4;
			else throw new Error('bad wire type');
		}
	} catch {
		return null;
	}
	return e;
}

function varint(buf: Buffer, start: number): [bigint, number] {
	let result = 0n;
	let shift = 0n;
	let p = start;
	for (;;) {
		if (p >= buf.length || shift > 63n) throw new Error('truncated varint');
		const b = buf[p++]!;
		result |= BigInt(b & 0x7f) << shift;
		if ((b & 0x80) === 0) return [result, p];
		shift += 7n;
	}
}

/** Walks a container's RW layer (no symlink followed) and gives each entry's modification time; the cap and what could not be read are reported. */
function fileTimes(
	source: Source,
	c: Container,
	dir: string,
	max: number,
	report: (f: Finding) => void,
): TimelineEvent[] {
	const out: TimelineEvent[] = [];
	const subject = `container:${c.id}`;
	const stack: string[] = [''];
	const unreadable: string[] = [];
	let left = 0;
	while (stack.length > 0) {
		const rel = stack.pop()!;
		const at = rel === '' ? dir : `${dir}/${rel}`;
		const listed = source.list(at);
		if (!listed.ok) {
			unreadable.push(`${at} (${listed.error.message})`);
			continue;
		}
		for (let i = 0; i < listed.value.length; i++) {
			if (out.length >= max) {
				left = listed.value.length - i;
				break;
			}
			const e = listed.value[i]!;
			const child = rel === '' ? e.name : `${rel}/${e.name}`;
			const st = source.stat(`${dir}/${child}`);
			if (!st.ok) {
				unreadable.push(`${dir}/${child} (${st.error.message})`);
				continue;
			}
			const us = Math.round(st.value.mtimeMs * 1000);
			const what =
				st.value.kind === 'char' && st.value.rdev?.major === 0 && st.value.rdev.minor === 0
					? 'deleted (whiteout)'
					: `${st.value.kind} changed`;
			out.push({
				message: `container ${label(c)} RW layer: /${child} ${what}`,
				datetime: isoMicros(us),
				timestamp: us,
				timestamp_desc: 'Content Modification Time',
				kind: 'rwfile.modified',
				subject,
				source: `${dir}/${child}`,
				field: 'mtime',
				source_time: new Date(st.value.mtimeMs).toISOString(),
			});
			if (e.kind === 'dir') stack.push(child);
		}
		if (out.length >= max && (left > 0 || stack.length > 0)) {
			report(
				finding(
					'warning',
					'timeline.files-capped',
					subject,
					`timeline --files keeps at most ${max} entries per container: the walk of container ${label(c)}'s RW layer ${dir} stopped there; ${left > 0 ? `${left} more entr${left === 1 ? 'y' : 'ies'} of /${rel} and ` : ''}${stack.length} director${stack.length === 1 ? 'y' : 'ies'} not walked are not in the timeline`,
					dir,
				),
			);
			break;
		}
	}
	if (unreadable.length > 0) {
		report(
			finding(
				'warning',
				'timeline.files-unreadable',
				subject,
				`${unreadable.length} entr${unreadable.length === 1 ? 'y' : 'ies'} of container ${label(c)}'s RW layer could not be read and ${unreadable.length === 1 ? 'is' : 'are'} not in the timeline: ${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ', …' : ''}`,
				dir,
			),
		);
	}
	return out;
}
