import fs from 'node:fs';
import path from 'node:path';
import {stripVTControlCharacters} from 'node:util';
import * as assert from 'uvu/assert';

const snapshots = path.join(import.meta.dirname, '..', '..', 'snapshots');

/** Compares text with snapshots/<name> (ANSI stripped); UPDATE_SNAPSHOTS=1 rewrites the file. */
export function matchSnapshot(name: string, actual: string): void {
	const file = path.join(snapshots, name);
	const text = stripVTControlCharacters(actual);
	if (process.env.UPDATE_SNAPSHOTS === '1' || !fs.existsSync(file)) {
		if (!fs.existsSync(file) && process.env.CI)
			assert.unreachable(`snapshot ${name} is missing (run UPDATE_SNAPSHOTS=1 npm test and commit it)`);
		fs.mkdirSync(path.dirname(file), {recursive: true});
		fs.writeFileSync(file, text);
		return;
	}
	assert.fixture(text, fs.readFileSync(file, 'utf8'), `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 rewrites it)`);
}
