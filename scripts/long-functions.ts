// Usage: node --import tsx scripts/long-functions.ts [--over N] [folder or file ...]
// Prints `file:line name lines` for every function, arrow function, method, accessor and
// constructor in src/ and components/ (or the folders and files named) whose text spans more than
// N lines (80 unless told), longest first. A function's span runs from its first line to its last,
// nested functions included; each nested function is also counted on its own. Exits 0 whatever it
// finds: it is a finder, not a gate.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export type LongFunction = {file: string; line: number; name: string; lines: number};

const repo = path.join(import.meta.dirname, '..');

function sourceFiles(target: string): string[] {
	const stat = fs.statSync(target, {throwIfNoEntry: false});
	if (stat === undefined) return [];
	if (stat.isFile()) return /\.tsx?$/.test(target) && !target.endsWith('.d.ts') ? [target] : [];
	if (!stat.isDirectory()) return [];
	const out: string[] = [];
	for (const entry of fs.readdirSync(target).sort()) {
		if (entry === 'node_modules' || entry.startsWith('.')) continue;
		for (const file of sourceFiles(path.join(target, entry))) out.push(file);
	}
	return out;
}

function propertyName(name: ts.PropertyName | ts.BindingName, sf: ts.SourceFile): string {
	if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
	if (ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
	return name.getText(sf);
}

/** The name a reader would look for: the declared name, or what the function is assigned to. */
function functionName(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
	if (ts.isConstructorDeclaration(node)) return 'constructor';
	if (node.name !== undefined) return propertyName(node.name, sf);
	const parent = node.parent;
	if (ts.isVariableDeclaration(parent)) return propertyName(parent.name, sf);
	if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return propertyName(parent.name, sf);
	if (ts.isBinaryExpression(parent)) return parent.left.getText(sf);
	if (ts.isExportAssignment(parent)) return 'default';
	if (ts.isCallExpression(parent)) {
		const callee = parent.expression.getText(sf);
		return `<callback of ${callee.length > 40 ? `${callee.slice(0, 40)}…` : callee}>`;
	}
	return '<anonymous>';
}

export function longFunctions(file: string, over: number): LongFunction[] {
	const text = fs.readFileSync(file, 'utf8');
	const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
	const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
	const found: LongFunction[] = [];
	const visit = (node: ts.Node): void => {
		if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
			const fn = node as ts.FunctionLikeDeclaration;
			const first = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
			const last = sf.getLineAndCharacterOfPosition(fn.getEnd()).line;
			const lines = last - first + 1;
			if (lines > over) found.push({file, line: first + 1, name: functionName(fn, sf), lines});
		}
		ts.forEachChild(node, visit);
	};
	visit(sf);
	return found;
}

function main(argv: string[]): void {
	let over = 80;
	const targets: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--over') {
			const n = Number(argv[++i]);
			if (!Number.isInteger(n) || n < 0) {
				console.error('long-functions: --over takes a whole number of lines');
				process.exit(2);
			}
			over = n;
		} else targets.push(arg);
	}
	if (targets.length === 0) targets.push(path.join(repo, 'src'), path.join(repo, 'components'));
	const found: LongFunction[] = [];
	for (const target of targets) {
		for (const file of sourceFiles(path.resolve(target))) {
			for (const f of longFunctions(file, over)) found.push(f);
		}
	}
	found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
	for (const f of found) console.log(`${path.relative(process.cwd(), f.file)}:${f.line} ${f.name} ${f.lines}`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename)
	main(process.argv.slice(2));
