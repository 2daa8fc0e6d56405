/** Docker writes RFC 3339 times with nanoseconds; JavaScript dates keep milliseconds. These keep microseconds. */
const rfc3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Microseconds since the epoch, or null for an unparseable or zero (never) time. */
export function toMicros(t: string | null | undefined): number | null {
	if (t === null || t === undefined) return null;
	const m = rfc3339.exec(t);
	if (m === null) return null;
	if (m[1] === '0001') return null;
	const base = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]}`);
	if (Number.isNaN(base)) return null;
	const frac = Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
	return base * 1000 + frac;
}

/** ISO 8601 in UTC with microseconds, as Timesketch imports it: 2026-11-29T07:22:13.176762Z. */
export function isoMicros(us: number): string {
	const ms = Math.floor(us / 1000);
	const rest = us - ms * 1000;
	const iso = new Date(ms).toISOString(); // …:13.176Z
	return `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}
