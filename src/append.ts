/**
 * Big arrays without the stack: spreading items into `push` or `Math.max` passes every item as an
 * argument and throws "Maximum call stack size exceeded" past ~120 000 items, and evidence can hold
 * any number of them (entries in a directory, findings, Env entries).
 */

/** Appends every item of each list to `to`, one by one; returns `to`. */
export function append<T>(to: T[], ...lists: ReadonlyArray<Iterable<T>>): T[] {
	for (const list of lists) for (const x of list) to.push(x);
	return to;
}

/** The largest number, or `floor` when there is none (or all are smaller). */
export function maxOf(xs: Iterable<number>, floor = -Infinity): number {
	let out = floor;
	for (const x of xs) if (x > out) out = x;
	return out;
}
