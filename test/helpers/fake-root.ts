import {createHash} from 'node:crypto';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Builds Docker roots in code, in a temp dir: small, realistic, and easy to break on purpose. */
export type FakeLayer = {diffId: string; cacheId: string; size?: number};
export type FakeImage = {
	layers: FakeLayer[];
	tags?: string[];
	history?: Array<{created_by: string; empty_layer?: boolean}>;
	parent?: string;
	created?: string;
	config?: Record<string, unknown>;
};
export type FakeContainer = {
	id: string;
	name: string;
	image: string;
	imageRef?: string;
	mountId: string;
	state?: Record<string, unknown>;
	created?: string;
};

export function hex(seed: string): string {
	return createHash('sha256').update(seed).digest('hex');
}

export function chain(diffIds: string[]): string[] {
	const out: string[] = [];
	for (const d of diffIds)
		out.push(
			out.length === 0
				? d
				: `sha256:${createHash('sha256')
						.update(`${out.at(-1)} ${d}`)
						.digest('hex')}`,
		);
	return out;
}

export class FakeRoot {
	readonly dir: string;
	readonly driver: 'overlay2' | 'aufs' | 'vfs' | 'fuse-overlayfs';
	constructor(driver: 'overlay2' | 'aufs' | 'vfs' | 'fuse-overlayfs' = 'overlay2') {
		this.driver = driver;
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-fake-'));
		fs.mkdirSync(this.p(`image/${driver}/imagedb/content/sha256`), {recursive: true});
		fs.mkdirSync(this.p(`image/${driver}/layerdb/sha256`), {recursive: true});
		fs.mkdirSync(this.p(`image/${driver}/layerdb/mounts`), {recursive: true});
		fs.mkdirSync(this.p('containers'), {recursive: true});
		this.write(`image/${driver}/repositories.json`, JSON.stringify({Repositories: {}}));
	}

	p(rel: string): string {
		return path.join(this.dir, rel);
	}

	write(rel: string, content: string | Buffer): void {
		fs.mkdirSync(path.dirname(this.p(rel)), {recursive: true});
		fs.writeFileSync(this.p(rel), content);
	}

	layerDir(cacheId: string): string {
		switch (this.driver) {
			case 'aufs':
				return `aufs/diff/${cacheId}`;
			case 'vfs':
				return `vfs/dir/${cacheId}`;
			default:
				return `${this.driver}/${cacheId}/diff`;
		}
	}

	/** Writes layerdb entries and driver dirs for a chain of layers; returns the chain ids. */
	addLayers(layers: FakeLayer[]): string[] {
		const ids = chain(layers.map(l => l.diffId));
		layers.forEach((l, i) => {
			const dir = `image/${this.driver}/layerdb/sha256/${ids[i]!.slice(7)}`;
			this.write(`${dir}/diff`, l.diffId);
			this.write(`${dir}/cache-id`, l.cacheId);
			this.write(`${dir}/size`, String(l.size ?? 100));
			if (i > 0) this.write(`${dir}/parent`, ids[i - 1]!);
			fs.mkdirSync(this.p(this.layerDir(l.cacheId)), {recursive: true});
			if (this.driver === 'aufs')
				this.write(
					`aufs/layers/${l.cacheId}`,
					layers
						.slice(0, i)
						.reverse()
						.map(x => `${x.cacheId}\n`)
						.join(''),
				);
		});
		return ids;
	}

	/** Writes an image config and its layers; returns the image id. */
	addImage(img: FakeImage): string {
		this.addLayers(img.layers);
		const config = JSON.stringify({
			architecture: 'amd64',
			os: 'linux',
			created: img.created ?? '2026-01-01T00:00:00Z',
			config: img.config ?? {Cmd: ['sh'], Env: ['PATH=/bin']},
			rootfs: {type: 'layers', diff_ids: img.layers.map(l => l.diffId)},
			history: img.history ?? img.layers.map((_, i) => ({created_by: `step ${i}`})),
		});
		const id = `sha256:${createHash('sha256').update(config).digest('hex')}`;
		this.write(`image/${this.driver}/imagedb/content/sha256/${id.slice(7)}`, config);
		if (img.parent !== undefined)
			this.write(`image/${this.driver}/imagedb/metadata/sha256/${id.slice(7)}/parent`, img.parent);
		if (img.tags !== undefined && img.tags.length > 0) {
			const file = this.p(`image/${this.driver}/repositories.json`);
			const repos = JSON.parse(fs.readFileSync(file, 'utf8')) as {Repositories: Record<string, Record<string, string>>};
			for (const t of img.tags) {
				const repo = t.replace(/[:@].*$/, '');
				(repos.Repositories[repo] ??= {})[t] = id;
			}
			fs.writeFileSync(file, JSON.stringify(repos));
		}
		return id;
	}

	/** Writes a container: config.v2.json, hostconfig.json, layerdb/mounts and its RW and init dirs. */
	addContainer(c: FakeContainer, parentChainId: string | undefined): void {
		const state = {
			Running: false,
			Paused: false,
			Restarting: false,
			OOMKilled: false,
			Dead: false,
			Pid: 0,
			ExitCode: 0,
			Error: '',
			StartedAt: '0001-01-01T00:00:00Z',
			FinishedAt: '0001-01-01T00:00:00Z',
			...c.state,
		};
		this.write(
			`containers/${c.id}/config.v2.json`,
			JSON.stringify({
				ID: c.id,
				Name: `/${c.name}`,
				Image: c.image,
				Driver: this.driver,
				Created: c.created ?? '2026-01-02T00:00:00Z',
				State: state,
				Path: 'sh',
				Args: [],
				Config: {Image: c.imageRef ?? 'img', Cmd: ['sh']},
			}),
		);
		this.write(`containers/${c.id}/hostconfig.json`, JSON.stringify({RestartPolicy: {Name: 'no'}}));
		const m = `image/${this.driver}/layerdb/mounts/${c.id}`;
		this.write(`${m}/mount-id`, c.mountId);
		this.write(`${m}/init-id`, `${c.mountId}-init`);
		if (parentChainId !== undefined) this.write(`${m}/parent`, parentChainId);
		fs.mkdirSync(this.p(this.layerDir(c.mountId)), {recursive: true});
		fs.mkdirSync(this.p(this.layerDir(`${c.mountId}-init`)), {recursive: true});
	}

	remove(): void {
		fs.rmSync(this.dir, {recursive: true, force: true});
	}
}

/** A copy of a directory tree (symlinks copied as symlinks), for breaking real states on purpose. */
export function copyTree(from: string, to?: string): string {
	const dest = to ?? fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-copy-'));
	// cp -a is ten times faster than fs.cpSync here, and keeps modes, times, links and devices.
	execFileSync('cp', ['-a', `${from}/.`, dest]);
	return dest;
}

/**
 * A root of another driver with a two-layer image (tag app:1) and one container "web": the vfs fake
 * root with image/vfs/ renamed image/<driver>/, vfs/ removed and the container's Driver set. The
 * caller writes the driver's own directories and records.
 */
export function driverRoot(driver: string) {
	const root = new FakeRoot('vfs');
	const layers = [0, 1].map(i => ({
		diffId: `sha256:${hex(`${driver}-diff${i}`)}`,
		cacheId: hex(`${driver}-cache${i}`),
	}));
	const image = root.addImage({layers, tags: ['app:1']});
	const ids = chain(layers.map(l => l.diffId));
	const cid = hex(`${driver}-c1`);
	const mount = hex(`${driver}-m1`);
	root.addContainer({id: cid, name: 'web', image, mountId: mount}, ids[1]);
	fs.renameSync(root.p('image/vfs'), root.p(`image/${driver}`));
	fs.rmSync(root.p('vfs'), {recursive: true});
	const cfg = JSON.parse(fs.readFileSync(root.p(`containers/${cid}/config.v2.json`), 'utf8'));
	cfg.Driver = driver;
	fs.writeFileSync(root.p(`containers/${cid}/config.v2.json`), JSON.stringify(cfg));
	return {root, layers, ids, cid, mount, image};
}
