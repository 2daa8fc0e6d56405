/**
 * Looking again before calling a live root broken. A dockerd at work leaves, for a few
 * milliseconds, a container whose RW layer is not made yet, a layer whose link is not written, a
 * volume whose directory is gone before its record: findings that exist only mid-operation. When
 * the root is live (sources/live.ts) or changed while it was read, and a read has errors or
 * warnings, the root is read again after a short pause, a few times, until two reads agree. The
 * last read is the answer; what went away, or was seen in the last read only, is left out as
 * mid-operation and named in a root.changed-while-read finding, so nothing is lost silently. A
 * root at rest is read once, as before.
 */
import {type Finding, type Severity, atLeast, finding} from '../finding.ts';
import {type Liveness, type Signature, changedPaths} from '../sources/live.ts';

/** One read of the root: what it gave, its findings, and the root's signature just before and after. */
export type Read<T> = {
	readonly value: T;
	readonly findings: readonly Finding[];
	readonly before: Signature;
	readonly after: Signature;
};

export type LookAgainOptions = {
	readonly live: Liveness;
	/** Reads after the first, at most (default 3). */
	readonly tries?: number;
	/** Pause before each new read (default 300 ms). */
	readonly pauseMs?: number;
	/** Findings at or above this are looked at again (default warning). */
	readonly level?: Severity;
};

export type LookAgainResult<T> = {
	/** The last read's value. */
	readonly value: T;
	/** Whether a finding of the last read stays in the answer. */
	readonly keep: (f: Finding) => boolean;
	/** root.live and root.changed-while-read, as they apply. */
	readonly extra: readonly Finding[];
	/** How many times the root was read. */
	readonly reads: number;
};

/** Findings are the same across reads when these agree (messages may carry sizes or times that move). */
const stableKey = (f: Finding): string => `${f.severity}\0${f.code}\0${f.subject}\0${f.path ?? ''}`;

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

function short(f: Finding): string {
	const s = f.subject;
	const colon = s.indexOf(':');
	// container:<64 hex> → container:<12 hex>, as everywhere else.
	const subject =
		colon > 0 && /^(?:sha256:)?[0-9a-f]{64}$/.test(s.slice(colon + 1))
			? `${s.slice(0, colon)}:${s
					.slice(colon + 1)
					.replace(/^sha256:/, '')
					.slice(0, 12)}`
			: s;
	return `${f.code} on ${subject}`;
}

function list(fs: readonly Finding[], max = 6): string {
	const names = [...new Set(fs.map(short))];
	return names.slice(0, max).join(', ') + (names.length > max ? `, and ${names.length - max} more` : '');
}

function describeChanges(paths: readonly string[]): string {
	const shown = paths.map(p =>
		p === '' ? 'the root directory' : p.startsWith('containers/') ? 'containers/<id>' : `${p}/`,
	);
	const unique = [...new Set(shown)];
	return unique.slice(0, 4).join(', ') + (unique.length > 4 ? ', …' : '');
}

/**
 * Reads again (with `again`) while the last read has findings at or above the level that the read
 * before it did not have, or the other way round, up to `tries` more times. Without liveness and
 * without a change during the first read, returns the first read as it is.
 */
export async function lookAgain<T>(
	first: Read<T>,
	again: () => Read<T> | Promise<Read<T>>,
	opts: LookAgainOptions,
): Promise<LookAgainResult<T>> {
	const level = opts.level ?? 'warning';
	const problems = (r: Read<T>): Finding[] => r.findings.filter(f => atLeast(f.severity, level));
	const keysOf = (r: Read<T>): Set<string> => new Set(problems(r).map(stableKey));
	const changes = new Set(changedPaths(first.before, first.after));
	if (!opts.live.live && changes.size === 0) return {value: first.value, keep: () => true, extra: [], reads: 1};
	const tries = opts.tries ?? 3;
	const pause = opts.pauseMs ?? 300;
	const reads: Array<Read<T>> = [first];
	let stable = problems(first).length === 0;
	for (let i = 0; i < tries && !stable; i++) {
		await sleep(pause);
		const prev = reads[reads.length - 1]!;
		const next = await again();
		const during = changedPaths(next.before, next.after);
		for (const p of [...changedPaths(prev.after, next.before), ...during]) changes.add(p);
		reads.push(next);
		const a = keysOf(prev);
		const b = keysOf(next);
		// A read without problems is an answer; so are two reads that agree on a root that held still.
		stable = b.size === 0 || (during.length === 0 && a.size === b.size && [...a].every(k => b.has(k)));
	}
	const last = reads[reads.length - 1]!;
	const lastKeys = keysOf(last);
	// Seen in the last read only, when the reads never agreed: mid-operation as well.
	const before = reads.length > 1 ? keysOf(reads[reads.length - 2]!) : lastKeys;
	const onlyLast = stable ? [] : problems(last).filter(f => !before.has(stableKey(f)));
	const setAside = new Set(onlyLast.map(stableKey));
	const gone = new Map<string, Finding>();
	for (const r of reads.slice(0, -1))
		for (const f of problems(r)) if (!lastKeys.has(stableKey(f))) gone.set(stableKey(f), f);
	const extra: Finding[] = [];
	if (opts.live.live)
		extra.push(
			finding(
				'info',
				'root.live',
				'root',
				`a process on this machine holds this root (${opts.live.evidence.join('; ')}): it is read as it is at this moment, and may change while it is read`,
			),
		);
	if (changes.size > 0 || gone.size > 0 || onlyLast.length > 0) {
		const parts = [
			`${changes.size > 0 ? `the root changed while it was read (${describeChanges([...changes].sort())})` : 'findings moved between reads of the root'}; read ${reads.length} time${reads.length === 1 ? '' : 's'}, ${pause} ms apart`,
		];
		if (gone.size > 0) parts.push(`left out as mid-operation, gone on a later read: ${list([...gone.values()])}`);
		if (onlyLast.length > 0) parts.push(`left out as mid-operation, seen in the last read only: ${list(onlyLast)}`);
		if (!stable && problems(last).length > 0)
			parts.push(`the reads never agreed: run check again when the daemon is idle`);
		extra.push(finding('info', 'root.changed-while-read', 'root', parts.join('; ')));
	}
	return {value: last.value, keep: f => !setAside.has(stableKey(f)), extra, reads: reads.length};
}
