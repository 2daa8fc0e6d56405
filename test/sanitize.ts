import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {clean} from '../src/view/sanitize.ts';
import {humanSize, utc} from '../src/view/format.ts';

test('terminal control characters and escape sequences are shown, not obeyed', () => {
	assert.is(clean('evil\u001b[2J\u001b]0;title\u0007name'), 'evil\\x1b[2J\\x1b]0;title\\x07name');
	assert.is(clean('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
	assert.is(clean('\u009b31m'), '\\x9b31m');
	assert.is(clean('file\u202etxt.exe'), 'file\\u202etxt.exe');
	assert.is(clean('plain-name_1.2 ünïcode'), 'plain-name_1.2 ünïcode');
});

test('sizes as docker prints them', () => {
	assert.is(humanSize(0), '0B');
	assert.is(humanSize(999), '999B');
	assert.is(humanSize(1109996), '1.11MB');
	assert.is(humanSize(1982284), '1.98MB');
	assert.is(humanSize(1000), '1kB');
	assert.is(humanSize(5_300_000_000), '5.3GB');
	assert.is(humanSize(null), '-');
});

test('times in UTC to the second', () => {
	assert.is(utc('2017-02-13T16:43:20.189682791Z'), '2017-02-13 16:43:20 UTC');
	assert.is(utc('2017-02-13T17:43:20+01:00'), '2017-02-13 16:43:20 UTC');
	assert.is(utc(null), '-');
	assert.is(utc('garbage\u001b'), 'garbage\\x1b');
});

test.run();
