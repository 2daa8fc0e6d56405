import {gunzipSync} from 'node:zlib';
import {append} from '../append.ts';
import type {Container, Image, Model} from '../model/types.ts';
import type {Source} from '../read/source.ts';
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
	/** Cap on entries walked per RW layer and lines read per container. */
	readonly maxPerContainer?: number;
};

/** Log files are read whole, up to this size each; larger ones are cut with a note event. */
const maxLogBytes = 64 * 1024 * 1024;

function label(c: Container): string {
	return c.name ?? c.id.slice(0, 12);
}

function imageLabel(i: Image): string {
	return i.tags[0] ?? i.digests[0] ?? shortId(i.id);
}

/** Builds every dated event of a host, oldest first. Reads file times and logs through the Source only. */
export function buildTimeline(model: Model, source: Source, opts: TimelineOptions): TimelineEvent[] {
	const out: TimelineEvent[] = [];
	const add = (time: string | null | undefined, e: Omit<TimelineEvent, 'datetime' | 'timestamp' | 'source_time'>) => {
		const us = toMicros(time);
		if (us === null || time === null || time === undefined) return;
		out.push({...e, datetime: isoMicros(us), timestamp: us, source_time: time});
	};
	const addMtime = (rel: string, subject: string, what: string) => {
		const st = source.stat(rel);
		if (!st.ok) return;
		const us = Math.round(st.value.mtimeMs * 1000);
		out.push({message: `${what} last modified`, datetime: isoMicros(us), timestamp: us, timestamp_desc: 'Content Modification Time', kind: 'file.modified', subject, source: rel, field: 'mtime', source_time: new Date(st.value.mtimeMs).toISOString()});
	};
	const max = opts.maxPerContainer ?? 100_000;

	for (const i of model.images) {
		const subject = `image:${i.id}`;
		add(i.created, {message: `image ${imageLabel(i)} created`, timestamp_desc: 'Image Created', kind: 'image.created', subject, source: i.path, field: 'created'});
		i.history.forEach((h, n) => {
			const step = h.createdBy ?? '(no command recorded)';
			add(h.created, {
				message: h.emptyLayer ? `image ${imageLabel(i)} build step (no layer): ${step}` : `layer ${h.chainId === null ? '?' : shortId(h.chainId)} of image ${imageLabel(i)} created by: ${step}`,
				timestamp_desc: h.emptyLayer ? 'Image Build Step' : 'Layer Created',
				kind: h.emptyLayer ? 'image.step' : 'layer.created',
				subject: h.chainId === null ? subject : `layer:${h.chainId}`,
				source: i.path,
				field: `history[${n}].created`,
			});
		});
		add(i.lastUpdated, {message: `image ${imageLabel(i)} last tagged`, timestamp_desc: 'Image Tagged', kind: 'image.tagged', subject, source: `image/${i.driver}/imagedb/metadata/sha256/${i.id.slice(7)}/lastUpdated`, field: 'lastUpdated'});
	}

	for (const c of model.containers) {
		const subject = `container:${c.id}`;
		const config = `${c.path}/config.v2.json`;
		add(c.created, {message: `container ${label(c)} created from ${c.imageRef ?? c.imageId ?? '?'}`, timestamp_desc: 'Container Created', kind: 'container.created', subject, source: config, field: 'Created'});
		add(c.startedAt, {message: `container ${label(c)} started: ${c.command ?? ''}`.trimEnd(), timestamp_desc: 'Container Started', kind: 'container.started', subject, source: config, field: 'State.StartedAt'});
		add(c.finishedAt, {message: `container ${label(c)} finished with exit code ${c.exitCode ?? '?'}`, timestamp_desc: 'Container Finished', kind: 'container.finished', subject, source: config, field: 'State.FinishedAt'});
		addMtime(config, subject, `container ${label(c)} config.v2.json`);
		addMtime(`${c.path}/hostconfig.json`, subject, `container ${label(c)} hostconfig.json`);
		const logs = logFiles(source, c);
		for (const log of logs) addMtime(log.path, subject, `container ${label(c)} log ${log.path.split('/').pop()}`);
		if (opts.logs) for (const log of logs) append(out, logLines(source, c, log, max));
		if (opts.files) {
			const rw = c.chain.find(e => e.role === 'rw');
			if (rw?.path != null) append(out, fileTimes(source, c, rw.path, max));
		}
	}
	out.sort((a, b) => a.timestamp - b.timestamp || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
	return out;
}

type LogFile = {readonly path: string; readonly format: 'json-file' | 'local'; readonly gzip: boolean};

/** containers/<id>/<id>-json.log[.N[.gz]] (json-file) and containers/<id>/local-logs/container.log[.N[.gz]] (local). */
function logFiles(source: Source, c: Container): LogFile[] {
	const out: LogFile[] = [];
	const listed = source.list(c.path);
	if (listed.ok) {
		for (const e of listed.value) {
			const m = new RegExp(`^${c.id}-json\\.log(\\.\\d+)?(\\.gz)?$`).exec(e.name);
			if (m !== null && e.kind === 'file') out.push({path: `${c.path}/${e.name}`, format: 'json-file', gzip: m[2] !== undefined});
		}
	}
	const local = source.list(`${c.path}/local-logs`);
	if (local.ok) {
		for (const e of local.value) {
			const m = /^container\.log(\.\d+)?(\.gz)?$/.exec(e.name);
			if (m !== null && e.kind === 'file') out.push({path: `${c.path}/local-logs/${e.name}`, format: 'local', gzip: m[2] !== undefined});
		}
	}
	return out;
}

function readLog(source: Source, log: LogFile): Buffer | null {
	const r = source.readFile(log.path, maxLogBytes);
	if (!r.ok) return null;
	if (!log.gzip) return r.value;
	try {
		return gunzipSync(r.value, {maxOutputLength: maxLogBytes});
	} catch {
		return null;
	}
}

function logLines(source: Source, c: Container, log: LogFile, max: number): TimelineEvent[] {
	const data = readLog(source, log);
	if (data === null) return [];
	const out: TimelineEvent[] = [];
	const subject = `container:${c.id}`;
	const push = (time: string, stream: string, line: string, field: string) => {
		const us = toMicros(time);
		if (us === null) return;
		out.push({message: `container ${label(c)} ${stream}: ${line.replace(/\r?\n$/, '')}`, datetime: isoMicros(us), timestamp: us, timestamp_desc: 'Log Line Written', kind: 'log.line', subject, source: log.path, field, source_time: time});
	};
	if (log.format === 'json-file') {
		let n = 0;
		for (const text of data.toString('utf8').split('\n')) {
			if (text === '' || out.length >= max) continue;
			n++;
			try {
				const rec = JSON.parse(text) as {log?: unknown; stream?: unknown; time?: unknown};
				if (typeof rec.time === 'string' && typeof rec.log === 'string') push(rec.time, typeof rec.stream === 'string' ? rec.stream : 'log', rec.log, `line ${n}`);
			} catch {
				// A torn last line (the daemon was killed mid-write) is skipped.
			}
		}
	} else {
		for (const entry of localEntries(data)) {
			if (out.length >= max) break;
			const ns = entry.timeNano;
			const iso = isoMicros(Number(ns / 1000n)).replace(/Z$/, '') + String(ns % 1000n).padStart(3, '0') + 'Z';
			push(iso, entry.source || 'log', entry.line, `record ${entry.index}`);
		}
	}
	return out;
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
			continue;
		}
		out.push(e);
	}
	return out;
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

/** Walks a container's RW layer (no symlink followed) and gives each entry's modification time. */
function fileTimes(source: Source, c: Container, dir: string, max: number): TimelineEvent[] {
	const out: TimelineEvent[] = [];
	const subject = `container:${c.id}`;
	const stack: string[] = [''];
	while (stack.length > 0 && out.length < max) {
		const rel = stack.pop()!;
		const listed = source.list(rel === '' ? dir : `${dir}/${rel}`);
		if (!listed.ok) continue;
		for (const e of listed.value) {
			const child = rel === '' ? e.name : `${rel}/${e.name}`;
			const st = source.stat(`${dir}/${child}`);
			if (!st.ok) continue;
			const us = Math.round(st.value.mtimeMs * 1000);
			const what = st.value.kind === 'char' && st.value.rdev?.major === 0 && st.value.rdev.minor === 0 ? 'deleted (whiteout)' : `${st.value.kind} changed`;
			out.push({message: `container ${label(c)} RW layer: /${child} ${what}`, datetime: isoMicros(us), timestamp: us, timestamp_desc: 'Content Modification Time', kind: 'rwfile.modified', subject, source: `${dir}/${child}`, field: 'mtime', source_time: new Date(st.value.mtimeMs).toISOString()});
			if (e.kind === 'dir') stack.push(child);
			if (out.length >= max) break;
		}
	}
	return out;
}
