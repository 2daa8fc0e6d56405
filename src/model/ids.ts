import type {Container, Image} from './types.ts';

/** Chain ids from diff ids (computed where the image stores are read). */
export {chainIds} from '../read/image-store.ts';

/** The 12-character form docker prints ('-' for no id). Not cleaned: views print it through clean. */
export function shortId(id: string | null | undefined): string {
	if (id === null || id === undefined) return '-';
	return id.replace(/^sha256:/, '').slice(0, 12);
}

/** An image's layers from the top down (chainIds are bottom first, as rootfs.diff_ids): a new array. */
export function layersTopDown(i: Pick<Image, 'chainIds'>): string[] {
	return [...i.chainIds].reverse();
}

/** A container's status as docker ps words it: `exited (0)`, `running`, `created`…; `unknown` when its state was not read. */
export function statusText(c: Pick<Container, 'status' | 'exitCode'>): string {
	if (c.status === null) return 'unknown';
	if (c.status === 'exited') return `exited (${c.exitCode ?? '?'})`;
	return c.status;
}

const zeroTime = /^0001-01-01T00:00:00(\.0+)?Z$/;

/** Go writes the zero time as 0001-01-01T00:00:00Z: it means "never". */
export function realTime(t: string | undefined): string | null {
	if (t === undefined || t === '' || zeroTime.test(t)) return null;
	return t;
}
