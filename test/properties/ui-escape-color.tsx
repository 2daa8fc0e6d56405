import chalk from 'chalk';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {App} from '../../components/App.tsx';
import type {Model} from '../../src/model/types.ts';
import {detailLines, detailTitle} from '../../src/ui/detail.ts';
import {plainFrame, plainFrameText} from '../../src/ui/plain-frame.ts';
import {rowLine} from '../../src/ui/rows.ts';
import {promptLine, statusLine} from '../../src/ui/status.ts';
import {initNav} from '../../src/ui/nav.ts';
import {type Line, type Segment, lineText, paneTitleText, seg} from '../../src/ui/text.ts';
import {type TreeIndex, type TreeNode, buildTree} from '../../src/ui/tree.ts';
import {renderApp} from '../helpers/ink.ts';
import {syntheticModel} from '../helpers/ui-model.ts';

// The explorer's one place that cleans evidence text (src/ui/text.ts seg) and its colour switch:
// a hostile container name, command, image tag, finding and root through every pane, and the
// Ink frame without colour codes when colour is off.

const hostile = 'evil\u001b]52;c;ZWNobyBwd25lZA==\u0007\u009b31m\u202e\u2066\u200b\u2028\n\t\udcff';
const shown = String.raw`evil\x1b]52;c;ZWNobyBwd25lZA==\x07\u009b31m\u202e\u2066\u200b\u2028\n\t\xff`;

/** Characters no pane may carry raw (C0, DEL, C1, format, invisible, separators, surrogates). */
const raw = /[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cs}]/u;

function hostileModel(): Model {
	const m = syntheticModel({containers: 2, images: 1, layers: 2});
	const [c, ...rest] = m.containers;
	const image = m.images[0]!;
	return {
		...m,
		root: `/var/lib/${hostile}`,
		drivers: [...m.drivers, hostile],
		containers: [{...c!, name: hostile, command: hostile, imageRef: hostile, path: `containers/${hostile}`}, ...rest],
		images: [{...image, tags: [`${hostile}:1`]}, ...m.images.slice(1)],
		findings: [
			...m.findings,
			{code: `code.${hostile}`, severity: 'warning', subject: `container:${c!.id}`, message: hostile, path: hostile},
		],
	};
}

function every(tree: TreeIndex): TreeNode[] {
	const out: TreeNode[] = [];
	const walk = (n: TreeNode) => {
		out.push(n);
		for (const k of tree.children(n)) walk(k);
	};
	for (const s of tree.sections) for (const n of tree.tops.get(s.section) ?? []) walk(n);
	return out;
}

function noRaw(line: Line | string, what: string): void {
	const text = typeof line === 'string' ? line : lineText(line);
	const m = raw.exec(text);
	assert.is(m, null, `${what}: raw U+${m?.[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(text.slice(0, 120))}`);
}

test('seg() cleans: a segment shows hostile text as escapes, and cleaning twice changes nothing', () => {
	const s = seg(hostile, 'id');
	assert.is(s.text, shown);
	assert.is(seg(s.text).text, shown);
	// @ts-expect-error: a Segment cannot be written as an object literal (it would skip the escaper)
	const forged: Segment = {text: hostile, tone: 'plain'};
	assert.ok(forged.text === hostile, 'the brand is a type, not a value');
	assert.is(paneTitleText(hostile, 'note', 200, true).includes(shown), true);
});

test('every explorer pane: tree rows, details, titles, status and prompt carry no raw hostile character', () => {
	const model = hostileModel();
	const tree = buildTree(model);
	const nodes = every(tree);
	let saw = 0;
	for (const node of nodes) {
		noRaw(rowLine(tree, {node, expanded: true}, 400), `row ${node.key}`);
		for (const l of detailLines(tree, node, () => ({
			ok: true,
			total: 1,
			entries: [{name: hostile, kind: 'file', whiteout: false}],
		}))) {
			noRaw(l, `details ${node.key}`);
			if (lineText(l).includes(shown)) saw++;
		}
		noRaw(detailTitle(node) === null ? '' : paneTitleText(detailTitle(node)!, '', 400, false), `title ${node.key}`);
	}
	assert.ok(saw > 5, `the hostile text is shown (escaped) in the details: ${saw} lines`);
	const nav = initNav(tree, 20, 20);
	noRaw(statusLine(model, {sample: false, loading: false}, false, 400), 'status');
	noRaw(promptLine(nav), 'prompt');
	for (const l of plainFrameText({
		model,
		loading: false,
		details: null,
		files: () => null,
		sample: false,
		columns: 160,
		rows: 40,
	}))
		noRaw(l, 'plain frame');
});

test('the Ink frame of a hostile model carries no raw hostile character', async () => {
	const level = chalk.level;
	// Ink draws no SGR code at level 0: any ESC or other control in the frame came from the evidence.
	chalk.level = 0;
	const app = await renderApp(<App model={hostileModel()} source={null} width={160} height={40} />);
	try {
		for (const l of (app.lastFrame() ?? '').split('\n')) noRaw(l, 'frame');
		await app.press('right', 'down', 'tab');
		for (const l of (app.lastFrame() ?? '').split('\n')) noRaw(l, 'frame after moving');
		assert.ok(app.frame().includes('evil\\x1b]52'), 'the hostile name is on screen, escaped');
	} finally {
		app.unmount();
		chalk.level = level;
	}
});

/** SGR colour codes: foreground 30–37, 90–97, 38;…; background 40–47, 100–107, 48;…. */
const colour = /\u001b\[(?:\d+;)*(?:3[0-8]|9[0-7]|4[0-8]|10[0-7])(?:;\d+)*m/;

test('colour off (NO_COLOR, --no-color): the Ink frame has bold, dim and inverse but no colour codes', async () => {
	const level = chalk.level;
	chalk.level = 1;
	try {
		const model = syntheticModel({containers: 3, images: 1, layers: 2});
		const on = await renderApp(<App model={model} source={null} width={120} height={30} />);
		const onFrame = on.lastFrame() ?? '';
		const onText = on.frame();
		on.unmount();
		assert.match(onFrame, colour, 'with colour the frame has colour codes (so this test can fail)');
		const off = await renderApp(<App model={model} source={null} width={120} height={30} color={false} />);
		const sameText = off.frame() === onText;
		await off.press('?');
		const help = off.lastFrame() ?? '';
		await off.press('?', 'down', 'right');
		const offFrame = off.lastFrame() ?? '';
		off.unmount();
		for (const [what, frame] of [
			['tree', offFrame],
			['help', help],
		] as const) {
			const m = colour.exec(frame);
			assert.is(m, null, `${what}: colour code ${JSON.stringify(m?.[0])}`);
		}
		assert.match(offFrame, /\u001b\[7m/, 'the selection and status bar stay inverse');
		assert.match(offFrame, /\u001b\[1m/, 'titles stay bold');
		assert.ok(sameText, 'the same text either way');
	} finally {
		chalk.level = level;
	}
});

test('colour off: the plain opening frame writes no colour codes either, and the same text', () => {
	const model = syntheticModel({containers: 3, images: 1, layers: 2});
	const input = {model, loading: false, details: null, files: () => null, sample: false, columns: 120, rows: 30};
	assert.match(plainFrame(input), colour);
	const off = plainFrame({...input, color: false});
	assert.is(colour.exec(off), null);
	assert.match(off, /\u001b\[7m/);
	const strip = (s: string) => s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
	assert.is(strip(off), strip(plainFrame(input)));
});

test.run();
