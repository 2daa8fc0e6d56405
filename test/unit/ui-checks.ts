import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openSource} from '../../src/load.ts';
import {readInPhases} from '../../src/ui/phases.ts';
import {copyTree} from '../helpers/fake-root.ts';
import {realRoot} from '../helpers/real-fixtures.ts';

// The interactive UI marks the findings of the fast checks on the nodes they concern, not only
// those of reading and linking.

test('the UI model carries check findings: a broken overlay2 lower file is marked on its container', () => {
	const real = realRoot('overlay2');
	if (real === null) return console.log('  (skipped: no real fixtures here)');
	const copy = copyTree(real);
	try {
		const id = fs.readdirSync(path.join(copy, 'containers'))[0]!;
		const mountId = fs.readFileSync(path.join(copy, 'image/overlay2/layerdb/mounts', id, 'mount-id'), 'utf8').trim();
		const lower = path.join(copy, 'overlay2', mountId, 'lower');
		fs.writeFileSync(lower, fs.readFileSync(lower, 'utf8').split(':').reverse().join(':'));
		let first = false;
		const {model} = readInPhases(
			openSource(copy),
			{images: true, layers: true, mounts: true, driverDirs: true, hostConfig: true},
			{first: () => (first = true)},
		);
		assert.ok(first);
		const mine = model.findings.filter(f => f.subject === `container:${id}`).map(f => f.code);
		assert.ok(mine.includes('driver.lower-mismatch'), mine.join(', '));
	} finally {
		fs.rmSync(copy, {recursive: true, force: true});
	}
});

test.run();
