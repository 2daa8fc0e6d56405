import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {
	type Line,
	lineText,
	message,
	padCols,
	padSeg,
	plainLines,
	renderLines,
	seg,
	t,
	tone,
	trimEndLine,
} from '../../src/view/line.ts';
import {makePaint} from '../../src/view/paint.ts';

// The one place that cleans evidence text (src/view/line.ts): views build Lines with seg(), the
// t tag and tone constructors, and print them with renderLines. These tests keep it the one place:
// the builders clean, and no view, command or component calls clean() or writes an interpolated
// template by hand (a new view that did would print evidence raw).

const repo = path.join(import.meta.dirname, '..', '..');
const hostile = 'a\u001b[31m\u009b\u202e\u200b\n\tz';
const shown = String.raw`a\x1b[31m\u009b\u202e\u200b\n\tz`;

test('the builders clean every string and keep segments; colour is added after cleaning', () => {
	assert.is(seg(hostile).text, shown);
	assert.is(lineText(t`x ${hostile} ${tone.id(hostile)} ${3}`), `x ${shown} ${shown} 3`);
	assert.is(lineText(t`${[seg('k'), tone.dim(hostile)]}`), `k${shown}`);
	assert.is(padSeg('\u001b', 6).text, '\\x1b  ');
	assert.is(padCols('\u001b', 6).text, '\\x1b  ');
	assert.is(lineText(trimEndLine(t`a ${tone.dim('b')}  ${''}`)), 'a b');
	assert.is(plainLines([t`${hostile}`, []]), `${shown}\n\n`);
	assert.is(message(hostile), `layerlens: ${shown}\n`);
	const lines: Line[] = [t`${tone.title('T')} ${hostile}`];
	assert.is(renderLines(lines, makePaint(0)), `T ${shown}\n`);
	const coloured = renderLines(lines, makePaint(1));
	assert.is(coloured, `\u001b[1mT\u001b[22m ${shown}\n`, "the only ESC is the painter's");
});

function files(dir: string): string[] {
	return fs
		.readdirSync(dir, {withFileTypes: true})
		.flatMap(e =>
			e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
		);
}

const shownText = [
	...files(path.join(repo, 'src', 'view')),
	...files(path.join(repo, 'src', 'ui')),
	...files(path.join(repo, 'src', 'commands')),
	path.join(repo, 'src', 'cli.ts'),
	...files(path.join(repo, 'components')),
];

/**
 * The builders that clean before they measure or cut, and the writers of other formats, may call
 * clean(): line.ts (seg and its kin), format.ts (table cells, imageLabel for the search, a time that
 * does not parse), wrap, a history step cut at 50 characters, the timeline's CSV cells and its table's
 * 120-character cut, graph labels.
 */
const mayClean: Record<string, number> = {
	'src/view/line.ts': 4,
	'src/view/format.ts': 6,
	'src/view/explain-text.ts': 1,
	'src/view/text-tree.ts': 1,
	'src/view/timeline-text.ts': 2,
	'src/view/graph-text.ts': 2,
};

test('no view, command or component calls clean() beyond the builders', () => {
	for (const f of shownText) {
		const rel = path.relative(repo, f);
		if (rel === 'src/view/sanitize.ts') continue;
		const code = fs.readFileSync(f, 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '');
		const n = [...code.matchAll(/\bclean\b(?=\)|\()/g)].length;
		assert.ok(
			n <= (mayClean[rel] ?? 0),
			`${rel}: ${n} uses of clean() (${mayClean[rel] ?? 0} allowed): build the text with seg, t or tone (src/view/line.ts) instead`,
		);
	}
});

/** Interpolated templates written straight to a stream: the version line, the check progress line (its text through seg) and the launcher's first screen (loading lines already cleaned). */
const mayWriteTemplate: Record<string, number> = {'src/cli.ts': 2, 'components/launch.ts': 1};

test('no view, command or component writes a hand-built template to a stream', () => {
	for (const f of shownText) {
		const rel = path.relative(repo, f);
		const n = [...fs.readFileSync(f, 'utf8').matchAll(/\.write\(`[^`]*\$\{/g)].length;
		assert.ok(
			n <= (mayWriteTemplate[rel] ?? 0),
			`${rel}: ${n} writes of an interpolated template: build Lines and write renderLines(...) or message(...)`,
		);
	}
});

test.run();
