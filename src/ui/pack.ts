/**
 * The model as it crosses from the load worker to the UI thread (postMessage copies it with the
 * structured clone algorithm, which costs time on both sides): what is shared is sent once.
 *
 * - A container's chain is a list of indices into one table of chain entries: the image layers
 *   of 3000 containers are a few hundred distinct entries.
 * - The container ids listed by layers and images are indices into the containers.
 * - A container's config, hostConfig, mountPoints and stored config.v2.json are left out: the UI shows them for the
 *   selected container only, and reads them then (container-details.ts).
 *
 * unpackModel(packModel(m)) equals m with those four fields null. Fields this file does not know
 * (added to the model later) cross as they are.
 */
import type {ChainEntry, Container, Image, Layer, Model} from '../model/types.ts';

/** A container id, as its index in the packed containers when it is one of them. */
type Ref = number | string;

type PackedContainer = Omit<Container, 'chain' | 'config' | 'hostConfig' | 'mountPoints' | 'stored'> & {
	readonly chain: readonly number[];
};
type PackedLayer = Omit<Layer, 'containers'> & {readonly containers: readonly Ref[]};
type PackedImage = Omit<Image, 'containers'> & {readonly containers: readonly Ref[]};

export type PackedModel = Omit<Model, 'containers' | 'layers' | 'images'> & {
	readonly containers: readonly PackedContainer[];
	readonly layers: readonly PackedLayer[];
	readonly images: readonly PackedImage[];
	readonly entries: readonly ChainEntry[];
};

export function packModel(model: Model): PackedModel {
	const index = new Map<string, number>();
	model.containers.forEach((c, i) => index.set(c.id, i));
	const ref = (id: string): Ref => index.get(id) ?? id;
	const entries: ChainEntry[] = [];
	const entryIndex = new Map<string, number>();
	const entryRef = (e: ChainEntry): number => {
		const key = JSON.stringify(e);
		let i = entryIndex.get(key);
		if (i === undefined) {
			i = entries.length;
			entries.push(e);
			entryIndex.set(key, i);
		}
		return i;
	};
	const {containers, layers, images, ...rest} = model;
	return {
		...rest,
		containers: containers.map(c => {
			const {
				chain,
				config: _config,
				hostConfig: _hostConfig,
				mountPoints: _mountPoints,
				stored: _stored,
				...fields
			} = c;
			return {...fields, chain: chain.map(entryRef)};
		}),
		layers: layers.map(l => ({...l, containers: l.containers.map(ref)})),
		images: images.map(i => ({...i, containers: i.containers.map(ref)})),
		entries,
	};
}

/**
 * The model back from its packed form. Takes the packed model over (it is the receiver's own
 * copy): its objects are completed in place, which is several times faster than copying them.
 */
export function unpackModel(packed: PackedModel): Model {
	const {containers, layers, images, entries, ...rest} = packed;
	const ids = containers.map(c => c.id);
	const id = (r: Ref): string => (typeof r === 'number' ? ids[r]! : r);
	type Mutable = {
		chain: unknown;
		config: unknown;
		hostConfig: unknown;
		mountPoints: unknown;
		stored: unknown;
		containers: unknown;
	};
	for (const c of containers) {
		const m = c as unknown as Mutable;
		m.chain = c.chain.map(i => entries[i]!);
		m.config = null;
		m.hostConfig = null;
		m.mountPoints = null;
		m.stored = null;
	}
	for (const x of [...layers, ...images]) (x as unknown as Mutable).containers = x.containers.map(id);
	return {
		...rest,
		images: images as unknown as Image[],
		layers: layers as unknown as Layer[],
		containers: containers as unknown as Container[],
	};
}

/** A piece of a packed model's list, sent ahead of the rest (see splitPacked). */
export type PackedPiece = {readonly field: string; readonly items: readonly unknown[]};

/**
 * Splits a packed model into pieces of at most `size` items of each of its lists, and the rest
 * (the model with those lists emptied), so that the receiving thread copies it in several short
 * steps rather than one long one (keys are handled in between). joinPacked puts it back together.
 */
export function splitPacked(packed: PackedModel, size = 500): {pieces: PackedPiece[]; rest: PackedModel} {
	const pieces: PackedPiece[] = [];
	const rest: Record<string, unknown> = {...packed};
	for (const [field, value] of Object.entries(packed)) {
		if (!Array.isArray(value) || value.length <= size) continue;
		for (let i = 0; i < value.length; i += size) pieces.push({field, items: value.slice(i, i + size)});
		rest[field] = [];
	}
	return {pieces, rest: rest as PackedModel};
}

export function joinPacked(pieces: readonly PackedPiece[], rest: PackedModel): PackedModel {
	const out: Record<string, unknown> = {...rest};
	for (const p of pieces) out[p.field] = [...(out[p.field] as unknown[]), ...p.items];
	return out as PackedModel;
}
