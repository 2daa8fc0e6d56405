import {createHash} from 'node:crypto';

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256("<ChainID(L0..Ln-1)> <DiffID(Ln)>"). */
export function chainIds(diffIds: readonly string[]): string[] {
	const out: string[] = [];
	let prev: string | undefined;
	for (const d of diffIds) {
		prev = prev === undefined ? d : 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex');
		out.push(prev);
	}
	return out;
}

/** The 12-character form docker prints. */
export function shortId(id: string): string {
	return id.replace(/^sha256:/, '').slice(0, 12);
}

const zeroTime = /^0001-01-01T00:00:00(\.0+)?Z$/;

/** Go writes the zero time as 0001-01-01T00:00:00Z: it means "never". */
export function realTime(t: string | undefined): string | null {
	if (t === undefined || t === '' || zeroTime.test(t)) return null;
	return t;
}
