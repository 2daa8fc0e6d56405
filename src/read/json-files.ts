import {type Finding, finding, worse} from '../finding.ts';
import {type ParsedJson, parseJson, pathKey} from '../formats/json-parse.ts';
import type {Source, SourceError} from '../sources/source.ts';

/** Caps on what is read into memory from the evidence. */
export const caps = {
	/** A container's config.v2.json / hostconfig.json, an image config, repositories.json. */
	json: 16 * 1024 * 1024,
	/** One-line id files: mount-id, cache-id, diff, parent, size, link, lower. */
	small: 64 * 1024,
	/** Findings listed one by one about the stray entries of one directory; the rest are counted in one `entry.list-capped`. */
	entryFindings: 100,
} as const;

export type Read<T> = {readonly value: T | undefined; readonly findings: Finding[]};

function sourceFinding(
	error: SourceError,
	subject: string,
	what: string,
	severity: 'error' | 'warning' = 'error',
): Finding {
	const code = {
		missing: 'missing',
		'not-a-file': 'not-a-file',
		'not-a-dir': 'not-a-dir',
		symlink: 'symlink',
		'too-large': 'too-large',
		denied: 'unreadable',
		'bad-path': 'bad-path',
		io: 'unreadable',
	}[error.code];
	return finding(severity, `file.${code}`, subject, `${what}: ${error.message}`, error.path);
}

/** Reads a small text file and trims surrounding white space. A missing file gives no value and, unless optional, a finding. */
export function readText(
	source: Source,
	rel: string,
	subject: string,
	what: string,
	opts: {optional?: boolean} = {},
): Read<string> {
	const r = source.readFile(rel, caps.small);
	if (!r.ok) {
		if (r.error.code === 'missing' && opts.optional) return {value: undefined, findings: []};
		return {value: undefined, findings: [sourceFinding(r.error, subject, what)]};
	}
	return {value: r.value.toString('utf8').trim(), findings: []};
}

/**
 * Reads and parses a JSON file; the raw bytes are kept for hashing, and the exact text of numbers
 * JavaScript cannot hold as written by path (parseJson). Values nested deeper than maxJsonDepth are
 * not loaded (`json.too-deep`); numbers loaded as their decimal text are a `json.big-number`.
 * `firstValue`: read as Go's json.Decoder reads (the first value; bytes after it are a
 * `json.trailing-data` warning), for the files dockerd reads that way; otherwise, as json.Unmarshal
 * does, bytes after the value make the file invalid.
 */
export function readJson(
	source: Source,
	rel: string,
	subject: string,
	what: string,
	/** optional: a missing file is no finding; severity and consequence (what it means, added to the message) for the findings; cap: bytes read at most. */
	opts: {
		optional?: boolean;
		severity?: 'error' | 'warning';
		consequence?: string;
		cap?: number;
		firstValue?: boolean;
	} = {},
): Read<{json: unknown; bytes: Buffer; numbers: ReadonlyMap<string, string>}> {
	const severity = opts.severity ?? 'error';
	const then = opts.consequence === undefined ? '' : `: ${opts.consequence}`;
	const r = source.readFile(rel, opts.cap ?? caps.json);
	if (!r.ok) {
		if (r.error.code === 'missing' && opts.optional) return {value: undefined, findings: []};
		return {value: undefined, findings: [sourceFinding(r.error, subject, what, severity)]};
	}
	if (r.value.length === 0) {
		return {value: undefined, findings: [finding(severity, 'json.empty', subject, `${what} is empty${then}`, rel)]};
	}
	const parsed = parseJson(r.value.toString('utf8'));
	if (!parsed.ok) {
		return {
			value: undefined,
			findings: [finding(severity, 'json.invalid', subject, `${what} is not valid JSON (${parsed.error})${then}`, rel)],
		};
	}
	const p = parsed.value;
	if (p.trailing > 0 && opts.firstValue !== true) {
		return {
			value: undefined,
			findings: [
				finding(
					severity,
					'json.invalid',
					subject,
					`${what} is not valid JSON (${p.trailing} bytes follow the JSON value; Docker's json.Unmarshal refuses the file)${then}`,
					rel,
				),
			],
		};
	}
	return {
		value: {json: p.value, bytes: r.value, numbers: p.numberText},
		findings: parsedFindings(p, subject, what, rel),
	};
}

/** The findings of a parse that loaded: values too deep, numbers kept as text, bytes after the value. */
export function parsedFindings(p: ParsedJson, subject: string, what: string, rel?: string): Finding[] {
	const out: Finding[] = [];
	if (p.tooDeep !== undefined) {
		const n = p.tooDeep.count;
		out.push(
			finding(
				'warning',
				'json.too-deep',
				subject,
				`${what}: ${n} ${n === 1 ? 'value' : 'values'} nested deeper than ${p.tooDeep.limit} levels not loaded (shown as null), the first at ${p.tooDeep.first}`,
				rel,
			),
		);
	}
	if (p.inexact.length > 0) {
		const shown = p.inexact
			.slice(0, 5)
			.map(x => `${x.path} = ${x.text}`)
			.join(', ');
		const more = p.inexact.length > 5 ? ` and ${p.inexact.length - 5} more` : '';
		out.push(
			finding(
				'warning',
				'json.big-number',
				subject,
				`${what}: ${p.inexact.length === 1 ? 'a number' : `${p.inexact.length} numbers`} JavaScript cannot hold exactly kept as decimal text (a string in JSON output): ${shown}${more}`,
				rel,
			),
		);
	}
	if (p.trailing > 0) {
		out.push(
			finding(
				'warning',
				'json.trailing-data',
				subject,
				`${what}: ${p.trailing} bytes follow the JSON value; read as dockerd reads it (the first value; the rest is ignored)`,
				rel,
			),
		);
	}
	return out;
}

/**
 * A whole number field as Docker's Go type holds it (int, int64, uint32…): a safe integer in
 * [min, max] written without a fraction or exponent. Anything else (a fraction, 1e400, a string, a
 * number beyond 2^53) is `invalid` with the field's exact text, for a `*.field-invalid` finding.
 */
export function intField(
	v: unknown,
	numbers: ReadonlyMap<string, string> | undefined,
	path: ReadonlyArray<string | number>,
	range: {min: number; max: number} = {min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER},
): {value?: number; invalid?: string} {
	if (v === undefined || v === null) return {};
	const text = numbers?.get(pathKey(path));
	const shown =
		text ??
		(typeof v === 'string'
			? JSON.stringify(v)
			: typeof v === 'number'
				? String(v)
				: Array.isArray(v)
					? 'an array'
					: typeof v === 'object'
						? 'an object'
						: String(v));
	if (typeof v !== 'number' || !Number.isSafeInteger(v) || (text !== undefined && /[.eE]/.test(text)))
		return {invalid: shown};
	if (v < range.min || v > range.max) return {invalid: shown};
	return {value: v};
}

/**
 * Findings about the entries of one directory that are not its objects (stray files, symlinks,
 * entries of the wrong kind), on the directory's own subject: the first `caps.entryFindings` are
 * kept one by one, the rest are counted by code in one `entry.list-capped` finding (at the worst
 * severity among them), so that 150 000 stray entries stay a short, complete report.
 */
export function entryFindings(
	findings: Finding[],
	subject: string,
	dir: string,
): {add(f: Finding): void; done(): void} {
	let kept = 0;
	const more = new Map<string, number>();
	let worst: Finding['severity'] = 'info';
	return {
		add(f) {
			if (kept < caps.entryFindings) {
				findings.push(f);
				kept++;
				return;
			}
			more.set(f.code, (more.get(f.code) ?? 0) + 1);
			worst = worse(worst, f.severity);
		},
		done() {
			if (more.size === 0) return;
			let total = 0;
			for (const n of more.values()) total += n;
			const counts = [...more]
				.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
				.map(([code, n]) => `${n} ${code}`)
				.join(', ');
			findings.push(
				finding(
					worst,
					'entry.list-capped',
					subject,
					`${total} more findings on entries of ${dir}/ not listed one by one after the first ${caps.entryFindings} (${counts})`,
					dir,
				),
			);
			more.clear();
		},
	};
}

export function sourceErrorFinding(
	error: SourceError,
	subject: string,
	what: string,
	severity: 'error' | 'warning' = 'error',
): Finding {
	return sourceFinding(error, subject, what, severity);
}

/** Field access on untrusted JSON: each returns undefined when the type is wrong. */
export function obj(v: unknown): Record<string, unknown> | undefined {
	return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** An object's string values only (labels, options). defineProperty: a key such as "__proto__" from the evidence stays a plain key. */
export function stringMap(v: unknown): Record<string, string> | undefined {
	const o = obj(v);
	if (o === undefined) return undefined;
	const out: Record<string, string> = {};
	for (const [k, x] of Object.entries(o))
		if (typeof x === 'string')
			Object.defineProperty(out, k, {value: x, enumerable: true, writable: true, configurable: true});
	return out;
}

export function str(v: unknown): string | undefined {
	return typeof v === 'string' ? v : undefined;
}

export function bool(v: unknown): boolean | undefined {
	return typeof v === 'boolean' ? v : undefined;
}

export function strArray(v: unknown): string[] | undefined {
	return Array.isArray(v) && v.every(x => typeof x === 'string') ? (v as string[]) : undefined;
}

export const hex64 = /^[0-9a-f]{64}$/;

/**
 * An id that names a directory (a layer's cache id): one safe path component, never `.`, `..`, empty,
 * or with `/` or NUL. dockerd itself only refuses an empty cache-id (layer/filestore.go
 * GetCacheID), then joins it to the driver's home, so `..` would name the directory above it.
 */
export function isPathId(v: string): boolean {
	return /^[0-9a-zA-Z_.-]{1,128}$/.test(v) && v !== '.' && v !== '..';
}

/** layerdb/mounts/<id>/{mount-id,init-id}: what dockerd accepts (layer/filestore.go stringIDRegexp; GetMountID, GetInitID). */
export const mountIdRe = /^[a-f0-9]{64}(-init)?$/;
export const digest = /^sha256:[0-9a-f]{64}$/;
