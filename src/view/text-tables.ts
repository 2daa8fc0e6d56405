import type {Container, Image} from '../model/types.ts';
import {humanSize, shortId, table, utc} from './format.ts';
import {statusText} from '../model/ids.ts';

/** `layerlens ls`: like `docker ps -a`, with absolute UTC times (evidence has no "now"). */
export function renderContainers(containers: readonly Container[]): string {
	return table(
		['CONTAINER ID', 'NAME', 'IMAGE', 'STATUS', 'CREATED'],
		containers.map(c => [
			shortId(c.id),
			c.name ?? '-',
			c.imageRef || shortId(c.imageId),
			statusText(c),
			utc(c.created),
		]),
	);
}

/** `layerlens images`: like `docker images -a`: one row per tag, untagged images as <none>. */
export function renderImages(images: readonly Image[]): string {
	const rows: string[][] = [];
	for (const i of images) {
		const note = i.intermediate ? 'intermediate' : i.dangling ? 'dangling' : '';
		const row = (repo: string, tag: string) => [repo, tag, shortId(i.id), utc(i.created), humanSize(i.size), note];
		// Like docker images: an image pulled by digest only shows its repository, with no tag.
		if (i.tags.length === 0 && i.digests.length === 0) rows.push(row('<none>', '<none>'));
		if (i.tags.length === 0)
			for (const repo of new Set(i.digests.map(d => d.slice(0, d.lastIndexOf('@'))))) rows.push(row(repo, '<none>'));
		for (const t of i.tags) {
			const at = t.lastIndexOf(':');
			rows.push(at > 0 && !t.slice(at).includes('/') ? row(t.slice(0, at), t.slice(at + 1)) : row(t, '<none>'));
		}
	}
	return table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'NOTE'], rows);
}
