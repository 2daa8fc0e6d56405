import {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import zlib from 'node:zlib';
import type {FileReader, Source} from '../sources/source.ts';

/**
 * Reads `image/<driver>/layerdb/sha256/<chain>/tar-split.json.gz`: the tar-split metadata that,
 * with the layer's files, rebuilds the layer's tar stream byte for byte (vbatts/tar-split,
 * `tar/storage/entry.go`). A gzip of JSON objects, one per line, in stream order:
 * `{"type":1,"name":"bin/sh","size":123,"payload":"<base64 CRC-64/ISO>","position":3}` for a
 * file's content, `{"type":2,"payload":"<base64 bytes>","position":4}` for raw bytes (headers,
 * padding, end-of-archive).
 *
 * Streamed: the file is read in pieces through the Source and inflated as a stream, so memory
 * stays bounded by one line, whatever the layer's size.
 */
export type TarSplitEntry =
	| {
			readonly type: 'file';
			readonly position: number;
			/** The tar header's name, as stored ('./bin/sh', 'app/'). Empty when only nameRaw is given. */
			readonly name: string;
			/** The name's bytes when it is not valid UTF-8 (`name_raw`). */
			readonly nameRaw?: Buffer;
			readonly size: number;
			/** 8-byte big-endian CRC-64/ISO of the content; null for empty entries. */
			readonly crc: Buffer | null;
	  }
	| {readonly type: 'segment'; readonly position: number; readonly payload: Buffer};

export type TarSplitResult =
	| {readonly ok: true; readonly entries: number; readonly stopped: boolean}
	| {
			readonly ok: false;
			readonly reason: 'missing' | 'unreadable' | 'invalid' | 'unsupported';
			readonly message: string;
	  };

/** Longest JSON line accepted (a segment holding a very long PAX header is the largest real one). */
const MAX_LINE = 16 << 20;
const CHUNK = 1 << 16;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

class Stop extends Error {}
class Invalid extends Error {}

function bytes(v: unknown, what: string): Buffer {
	if (v === null || v === undefined) return Buffer.alloc(0);
	if (typeof v !== 'string' || v.length % 4 !== 0 || !base64.test(v)) throw new Invalid(`${what} is not base64`);
	return Buffer.from(v, 'base64');
}

function parseEntry(line: string, lineNo: number): TarSplitEntry {
	let json: unknown;
	try {
		json = JSON.parse(line);
	} catch (error) {
		throw new Invalid(
			`line ${lineNo} is not JSON (${error instanceof RangeError ? 'nested too deeply' : (error as Error).message})`,
		);
	}
	if (typeof json !== 'object' || json === null || Array.isArray(json))
		throw new Invalid(`line ${lineNo} is not a JSON object`);
	const o = json as Record<string, unknown>;
	const position = o.position ?? 0;
	if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0)
		throw new Invalid(`line ${lineNo}: position is not a count`);
	if (o.type === 2) return {type: 'segment', position, payload: bytes(o.payload, `line ${lineNo}: payload`)};
	if (o.type !== 1) throw new Invalid(`line ${lineNo}: unknown entry type ${JSON.stringify(o.type)}`);
	const size = o.size ?? 0;
	if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
		throw new Invalid(`line ${lineNo}: size is not a byte count`);
	const name = o.name ?? '';
	if (typeof name !== 'string') throw new Invalid(`line ${lineNo}: name is not a string`);
	const nameRaw = o.name_raw === undefined ? undefined : bytes(o.name_raw, `line ${lineNo}: name_raw`);
	const crc = o.payload === null || o.payload === undefined ? null : bytes(o.payload, `line ${lineNo}: payload`);
	if (crc !== null && crc.length !== 8)
		throw new Invalid(`line ${lineNo}: payload is ${crc.length} bytes, not an 8-byte CRC-64`);
	return {type: 'file', position, name, ...(nameRaw !== undefined && nameRaw.length > 0 ? {nameRaw} : {}), size, crc};
}

/** Where one read of a tar-split file is: what was counted, and why the pipeline was stopped (pipeline() reports an error thrown by the last stage as an abort). */
type Run = {entries: number; lineNo: number; why?: Stop | Invalid; readError?: string};

// biome-ignore lint/suspicious/noConfusingVoidType: a callback may return nothing (go on) or false (stop), sync or async.
type OnEntry = (entry: TarSplitEntry) => boolean | void | Promise<boolean | void>;

/** The file's bytes in pieces; a read error is kept in `run.readError` and thrown. */
async function* fileChunks(reader: FileReader, run: Run): AsyncGenerator<Buffer> {
	const buffer = Buffer.alloc(CHUNK);
	let position = 0;
	for (;;) {
		const r = reader.read(buffer, position);
		if (!r.ok) {
			run.readError = r.error.message;
			throw new Error(run.readError);
		}
		if (r.value === 0) return;
		position += r.value;
		yield Buffer.from(buffer.subarray(0, r.value));
	}
}

/** One line of the inflated stream: parsed and handed to onEntry (blank lines are skipped); an invalid line or onEntry's false stops the run. */
async function oneLine(run: Run, buf: Buffer, onEntry: OnEntry): Promise<void> {
	run.lineNo++;
	const text = buf.toString('utf8').trim();
	if (text === '') return;
	let entry: TarSplitEntry;
	try {
		entry = parseEntry(text, run.lineNo);
	} catch (error) {
		throw (run.why = error as Invalid);
	}
	run.entries++;
	let more = onEntry(entry);
	if (more instanceof Promise) more = await more;
	if (more === false) throw (run.why = new Stop());
}

/** Cuts the inflated stream into lines, holding at most MAX_LINE bytes of a line that spans chunks. */
async function eachLine(inflated: AsyncIterable<Buffer>, run: Run, onEntry: OnEntry): Promise<void> {
	let pending: Buffer[] = [];
	let pendingLength = 0;
	for await (const chunk of inflated) {
		let start = 0;
		for (;;) {
			const nl = chunk.indexOf(0x0a, start);
			if (nl < 0) break;
			const piece = chunk.subarray(start, nl);
			if (pendingLength > 0) {
				pending.push(piece);
				await oneLine(run, Buffer.concat(pending, pendingLength + piece.length), onEntry);
				pending = [];
				pendingLength = 0;
			} else await oneLine(run, piece, onEntry);
			start = nl + 1;
		}
		if (start < chunk.length) {
			pending.push(Buffer.from(chunk.subarray(start)));
			pendingLength += chunk.length - start;
			if (pendingLength > MAX_LINE)
				throw (run.why = new Invalid(`line ${run.lineNo + 1} is longer than ${MAX_LINE} bytes`));
		}
	}
	if (pendingLength > 0) await oneLine(run, Buffer.concat(pending, pendingLength), onEntry);
}

/** Streams the entries of a tar-split file to onEntry, in order; onEntry returns (or resolves to) false to stop early, and is awaited. */
export async function readTarSplit(
	source: Pick<Source, 'openRead'>,
	rel: string,
	onEntry: OnEntry,
): Promise<TarSplitResult> {
	if (source.openRead === undefined)
		return {ok: false, reason: 'unsupported', message: 'this source cannot read file contents in pieces'};
	const opened = source.openRead(rel);
	if (!opened.ok) {
		const reason = opened.error.code === 'missing' ? 'missing' : 'unreadable';
		return {ok: false, reason, message: `${rel}: ${opened.error.message}`};
	}
	const reader = opened.value;
	const run: Run = {entries: 0, lineNo: 0};
	try {
		await pipeline(Readable.from(fileChunks(reader, run)), zlib.createGunzip(), (inflated: AsyncIterable<Buffer>) =>
			eachLine(inflated, run, onEntry),
		);
	} catch (error) {
		if (run.why instanceof Stop) return {ok: true, entries: run.entries, stopped: true};
		if (run.why instanceof Invalid) return {ok: false, reason: 'invalid', message: `${rel}: ${run.why.message}`};
		if (run.readError !== undefined) return {ok: false, reason: 'unreadable', message: `${rel}: ${run.readError}`};
		return {ok: false, reason: 'invalid', message: `${rel}: ${(error as Error).message}`};
	} finally {
		reader.close();
	}
	return {ok: true, entries: run.entries, stopped: false};
}
