import {initPlaceholders} from '../teach/explain.ts';

/**
 * What the files of a container's init layer are for: the one table of teach/explain.ts
 * (initPlaceholders), which `inspect --explain` prints too. docker create makes this layer between
 * the image and the RW layer with empty placeholders that the runtime mounts over at each start.
 */
export const initFiles: ReadonlyArray<{readonly path: string; readonly purpose: string}> = initPlaceholders.map(n => ({path: n.label.replace(/\/$/, ''), purpose: n.text}));

export function initPurpose(path: string): string | undefined {
	return initFiles.find(f => f.path === path)?.purpose;
}
