// scripts/long-functions.ts: the finder of functions over 80 lines, on files written here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {longFunctions} from '../../scripts/long-functions.ts';

/** A function of `lines` lines in all (the header, lines - 2 statements, the closing brace). */
const body = (lines: number): string => Array.from({length: lines - 2}, (_, i) => `\tconst v${i} = ${i};`).join('\n');

test('every kind of function over the limit, named as a reader would look for it; one at the limit is not', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-long-'));
	try {
		const file = path.join(dir, 'x.ts');
		const text = [
			`export function atLimit() {\n${body(80)}\n}`,
			`export function declared() {\n${body(81)}\n}`,
			`export const arrow = () => {\n${body(90)}\n};`,
			`class K {\n\tmethod() {\n${body(82)}\n\t}\n}`,
			`const table = {entry: function () {\n${body(85)}\n}};`,
			`[1].map(x => {\n${body(83)}\n});`,
		].join('\n');
		fs.writeFileSync(file, text);
		const found = longFunctions(file, 80).map(f => `${f.name} ${f.lines}`);
		assert.equal(found, ['declared 81', 'arrow 90', 'method 82', 'entry 85', '<callback of [1].map> 83']);
		const outer = longFunctions(file, 80).find(f => f.name === 'arrow')!;
		assert.is(outer.line, 80 + 81 + 1, 'the line it starts on: after the 80 and 81 lines of the two before it');
		assert.equal(longFunctions(file, 100), []);
	} finally {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

test.run();
