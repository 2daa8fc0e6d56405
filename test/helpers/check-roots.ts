import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {type CheckReport, runChecks} from '../../src/checks/index.ts';
import {loadModel, openRoot, openSource} from '../../src/load.ts';
import {copyTree} from './fake-root.ts';
import {realRoot} from './real-fixtures.ts';

/** Real states for the checks' tests: the two real fixture trees and the sample, extracted once per process. */
export type RealName = 'aufs' | 'overlay2' | 'sample';

export const repo = path.join(import.meta.dirname, '..', '..');
export const sampleTarball = path.join(repo, 'sample', 'docker.tar.gz');

let sample: string | undefined;

/** The sample, extracted as root with xattrs and device nodes (as its README says). */
export function sampleRoot(): string {
	if (sample !== undefined) return sample;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-sample-'));
	execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpzf', sampleTarball, '-C', dir]);
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
	sample = path.join(dir, 'docker');
	return sample;
}

export function real(name: RealName): string | null {
	return name === 'sample' ? sampleRoot() : realRoot(name);
}

export async function checkDir(dir: string, deep = false): Promise<CheckReport> {
	const {model, raw, source} = loadModel(openSource(dir));
	return runChecks({model, raw, source}, {deep});
}

export async function checkArchive(file: string, deep = false): Promise<CheckReport> {
	const opened = await openRoot(file);
	if (!opened.ok) throw new Error(opened.error);
	const {model, raw, source} = loadModel(opened.source);
	return runChecks({model, raw, source}, {deep});
}

/** Runs the checks on a copy of a real state after `damage` changed it; the copy is removed after. */
export async function checkBroken(
	name: RealName,
	damage: (root: string) => void,
	deep = false,
): Promise<CheckReport | null> {
	const from = real(name);
	if (from === null) return null;
	const dir = copyTree(from);
	try {
		damage(dir);
		return await checkDir(dir, deep);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
}

export const driverOf: Record<RealName, 'aufs' | 'overlay2'> = {aufs: 'aufs', overlay2: 'overlay2', sample: 'overlay2'};

export type DiskLayer = {chainId: string; dir: string; cacheId: string; parent?: string; diffId: string};

/** layerdb entries of a root, read plainly (tests may use node:fs). */
export function diskLayers(root: string, driver: string): DiskLayer[] {
	const base = path.join(root, 'image', driver, 'layerdb', 'sha256');
	return fs
		.readdirSync(base)
		.filter(n => /^[0-9a-f]{64}$/.test(n))
		.sort()
		.map(n => {
			const read = (f: string) => fs.readFileSync(path.join(base, n, f), 'utf8').trim();
			const parent = fs.existsSync(path.join(base, n, 'parent')) ? read('parent') : undefined;
			return {
				chainId: `sha256:${n}`,
				dir: path.join(base, n),
				cacheId: read('cache-id'),
				diffId: read('diff'),
				...(parent !== undefined ? {parent} : {}),
			};
		});
}

export type DiskMount = {containerId: string; mountId: string; initId: string; parent?: string};

export function diskMounts(root: string, driver: string): DiskMount[] {
	const base = path.join(root, 'image', driver, 'layerdb', 'mounts');
	return fs
		.readdirSync(base)
		.sort()
		.map(id => {
			const read = (f: string) => fs.readFileSync(path.join(base, id, f), 'utf8').trim();
			const parent = fs.existsSync(path.join(base, id, 'parent')) ? read('parent') : undefined;
			return {
				containerId: id,
				mountId: read('mount-id'),
				initId: read('init-id'),
				...(parent !== undefined ? {parent} : {}),
			};
		});
}

/** Where a layer's files are, relative to the root. */
export function layerFiles(driver: string, cacheId: string): string {
	return driver === 'aufs' ? `aufs/diff/${cacheId}` : `${driver}/${cacheId}/diff`;
}

/** The first regular, non-empty file under dir (sorted walk), relative to dir. */
export function firstFile(dir: string, rel = ''): string | undefined {
	for (const e of fs
		.readdirSync(path.join(dir, rel), {withFileTypes: true})
		.sort((a, b) => (a.name < b.name ? -1 : 1))) {
		const p = rel === '' ? e.name : `${rel}/${e.name}`;
		if (e.isFile() && fs.statSync(path.join(dir, p)).size > 0) return p;
		if (e.isDirectory()) {
			const hit = firstFile(dir, p);
			if (hit !== undefined) return hit;
		}
	}
	return undefined;
}

export function codesOf(report: CheckReport): string[] {
	return [...new Set(report.findings.map(f => f.code))].sort();
}

export function findingsOf(report: CheckReport, code: string) {
	return report.findings.filter(f => f.code === code);
}

/** Errors and warnings, formatted for an assertion message. */
export function serious(report: CheckReport): string[] {
	return report.findings
		.filter(f => f.severity !== 'info')
		.map(f => `${f.severity} ${f.code} ${f.subject}: ${f.message}`);
}
