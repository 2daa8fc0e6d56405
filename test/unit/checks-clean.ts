import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {checks, failsAt} from '../../src/checks/index.ts';
import {checkCommand} from '../../src/commands/check.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {type RealName, checkArchive, checkDir, real, sampleTarball, serious} from '../helpers/check-roots.ts';

// The clean real states: no error and no warning, and with --deep every layer's diff id is
// rebuilt from its tar-split and files (none skipped).

for (const name of ['aufs', 'overlay2', 'sample'] as RealName[]) {
	test(`${name}: the real state is clean, deep included, and every layer verifies`, async () => {
		const root = real(name);
		if (root === null) return console.log(`  skip: ${name} fixture absent`);
		const r = await checkDir(root, true);
		assert.equal(serious(r), []);
		const layers = r.objects.filter(o => o.kind === 'layer');
		assert.ok(layers.length > 0);
		for (const o of layers) {
			const content = o.checks.find(c => c.check === 'layer.content');
			assert.is(content?.status, 'pass', `${o.subject}: ${content?.note ?? 'no layer.content result'}`);
			assert.is(o.checks.find(c => c.check === 'layer.size')?.status, 'pass', `${o.subject} size`);
		}
		// Every model object is listed, each with its read result.
		const {model} = loadModel(openSource(root));
		for (const i of model.images)
			assert.ok(r.objects.some(o => o.subject === `image:${i.id}` && o.checks[0]?.check === 'read'));
		for (const c of model.containers) assert.ok(r.objects.some(o => o.subject === `container:${c.id}`));
		assert.is(failsAt(r, 'warning'), false);
	});
}

test('the sample read from its archive (not extracted) is clean, deep included', async () => {
	const r = await checkArchive(sampleTarball, true);
	assert.equal(serious(r), []);
	const contents = r.objects.flatMap(o => o.checks.filter(c => c.check === 'layer.content'));
	assert.ok(contents.length > 0 && contents.every(c => c.status === 'pass'), contents.map(c => c.note).join('; '));
});

test('check ids are unique; every code a check produces is dotted lowercase', () => {
	const ids = checks.map(c => c.id);
	assert.equal(ids.length, new Set(ids).size);
	for (const c of checks)
		for (const code of [...c.codes, ...c.claims]) assert.match(code, /^[a-z0-9]+(\.[a-z0-9-]+)+$/);
});

test('every code a check produces is produced by a test of a broken real state (test/unit/checks-*.ts)', () => {
	const dir = path.join(import.meta.dirname);
	const tests = fs
		.readdirSync(dir)
		.filter(f => /^checks-(integrity|orphans)\.ts$/.test(f))
		.map(f => fs.readFileSync(path.join(dir, f), 'utf8'))
		.join('\n');
	for (const c of checks)
		for (const code of c.codes)
			assert.ok(tests.includes(`findingsOf(r, '${code}')`) || tests.includes(`'${code}')`), `${code} has a test`);
});

test('checkCommand: text and JSON reports, exit code by --fail-on', async () => {
	const root = real('sample');
	if (root === null) return;
	const {model, raw, source} = loadModel(openSource(root));
	const base = {model, raw, source, deep: false, color: false};
	const text = await checkCommand({...base, json: false, failOn: 'error'});
	assert.is(text.exitCode, 0);
	assert.match(text.output, /^layerlens check /);
	assert.match(text.output, /image\.dangling/);
	assert.match(text.output, /0 errors, 0 warnings, 1 info/);
	assert.not.match(text.output, /\x1b\[/);
	// The sample's dangling image is an info finding: --fail-on info fails.
	assert.is((await checkCommand({...base, json: false, failOn: 'info'})).exitCode, 1);
	assert.is((await checkCommand({...base, json: false, failOn: 'warning'})).exitCode, 0);
	const json = JSON.parse((await checkCommand({...base, json: true, failOn: 'error'})).output) as {
		schema: number;
		summary: {error: number; warning: number; info: number; passed: number};
		objects: Array<{
			subject: string;
			kind: string;
			status: string;
			checks: Array<{check: string; status: string; findings: unknown[]}>;
		}>;
		findings: Array<{code: string; subject: string; severity: string}>;
	};
	assert.is(json.schema, 1);
	assert.equal([json.summary.error, json.summary.warning, json.summary.info], [0, 0, 1]);
	assert.ok(json.summary.passed > 100);
	const dangling = json.objects.find(o => o.checks.some(c => c.check === 'image.dangling' && c.status === 'fail'));
	assert.ok(dangling);
	assert.is(dangling.kind, 'image');
	assert.equal(
		json.findings.map(f => f.code),
		['image.dangling'],
	);
	assert.is(json.findings[0]!.subject, dangling.subject);
});

test.run();
