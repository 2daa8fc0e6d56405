/** Chain ids from diff ids (computed where the image stores are read). */
export {chainIds} from '../read/image-store.ts';

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
