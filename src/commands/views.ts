import {append} from '../append.ts';
import {type ResolveOptions, resolveAnyRef, resolveRef} from '../model/resolve.ts';
import {shortNameReader} from '../read/drivers/records.ts';
import type {Source} from '../sources/source.ts';
import type {Container, Image, Model} from '../model/types.ts';
import {imagesJson, inspectAnyJson, lsJson, modelJson, treeJson} from '../view/json.ts';
import {renderContainers, renderImages} from '../view/text-tables.ts';
import {renderTree} from '../view/text-tree.ts';
import {type CommandContext, UsageError, json} from './context.ts';

/** `layerlens model`: the whole linked model as JSON. */
export function modelCommand({loaded, io}: CommandContext): number {
	io.stdout.write(json(modelJson(loaded.model)));
	return 0;
}

/** `layerlens ls`: containers newest first, like docker ps -a. */
export function lsCommand({args, loaded, io}: CommandContext): number {
	const newestFirst = [...loaded.model.containers].reverse();
	io.stdout.write(args.json ? json(lsJson(newestFirst)) : renderContainers(newestFirst));
	return 0;
}

/** `layerlens images`: images newest first, like docker images -a. */
export function imagesCommand({args, loaded, io}: CommandContext): number {
	const newestFirst = [...loaded.model.images].sort((a, b) =>
		(a.created ?? '') < (b.created ?? '') ? 1 : (a.created ?? '') > (b.created ?? '') ? -1 : 0,
	);
	io.stdout.write(args.json ? json(imagesJson(newestFirst)) : renderImages(newestFirst));
	return 0;
}

/** What REFs may read beyond the model: the `l/` short names of layer directories. */
export function refOptions(source: Source): ResolveOptions {
	return {shortName: shortNameReader(source)};
}

export function selectForTree(
	model: Model,
	refs: readonly string[],
	opts: ResolveOptions = {},
): {containers: Container[]; images: Image[]} {
	if (refs.length === 0)
		return {containers: model.containers, images: model.images.filter(i => i.containers.length === 0)};
	const containers: Container[] = [];
	const images: Image[] = [];
	for (const ref of refs) {
		const r = resolveRef(model, ref, opts);
		if (!r.ok) throw new UsageError(r.error);
		if (r.value.kind === 'container') containers.push(r.value.container);
		else if (r.value.kind === 'image') {
			const img = r.value.image;
			const users = model.containers.filter(c => img.containers.includes(c.id));
			if (users.length > 0) append(containers, users);
			else images.push(img);
		} else {
			const l = r.value.layer;
			append(
				containers,
				model.containers.filter(c => l.containers.includes(c.id)),
			);
			append(
				images,
				model.images.filter(i => l.images.includes(i.id) && i.containers.length === 0),
			);
		}
	}
	return {containers: [...new Set(containers)], images: [...new Set(images)]};
}

/** `layerlens tree [REF...]`: each container with its chain, then images without containers. */
export function treeCommand({args, loaded, io, paint}: CommandContext): number {
	const {containers, images} = selectForTree(loaded.model, args.refs, refOptions(loaded.source));
	io.stdout.write(
		args.json
			? json(treeJson(loaded.model, containers, images))
			: renderTree(loaded.model, containers, images, {paint}),
	);
	return 0;
}

/** `layerlens inspect REF`: one container, image, layer, volume or network as JSON (a volume or network by its name, as docker volume/network inspect take it). */
export function inspectCommand({args, loaded, io}: CommandContext): number {
	const r = resolveAnyRef(loaded.model, args.refs[0]!, refOptions(loaded.source));
	if (!r.ok) throw new UsageError(r.error);
	io.stdout.write(json(inspectAnyJson(loaded.model, r.value)));
	return 0;
}
