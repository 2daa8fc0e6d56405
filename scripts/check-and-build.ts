// TypeScript compiled once for `npm test`: one program over everything tsconfig.json includes (src,
// components, test, bench, scripts) is type-checked, and only what is shipped (src/ and components/) is
// emitted to build/, file for file what `tsc -p tsconfig.build.json` writes. Nothing is emitted when
// any file has an error (noEmitOnError, as with tsc). Exit 1 on any diagnostic.
import path from 'node:path';
import ts from 'typescript';

const repo = path.join(import.meta.dirname, '..');
const shipped = ['src', 'components'].map(d => path.join(repo, d) + path.sep);

function report(diagnostics: readonly ts.Diagnostic[]): void {
	const host: ts.FormatDiagnosticsHost = {
		getCanonicalFileName: f => f,
		getCurrentDirectory: () => repo,
		getNewLine: () => '\n',
	};
	const text = process.stdout.isTTY
		? ts.formatDiagnosticsWithColorAndContext(diagnostics, host)
		: ts.formatDiagnostics(diagnostics, host);
	process.stdout.write(text);
}

const config = ts.readConfigFile(path.join(repo, 'tsconfig.json'), ts.sys.readFile);
if (config.error !== undefined) {
	report([config.error]);
	process.exit(1);
}
const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repo);
if (parsed.errors.length > 0) {
	report(parsed.errors);
	process.exit(1);
}
const program = ts.createProgram({rootNames: parsed.fileNames, options: parsed.options});
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) {
	report(diagnostics);
	process.stdout.write(`${diagnostics.length} TypeScript error(s); nothing emitted\n`);
	process.exit(1);
}
const emitErrors: ts.Diagnostic[] = [];
let emitted = 0;
for (const file of program.getSourceFiles()) {
	const name = path.resolve(file.fileName);
	if (file.isDeclarationFile || !shipped.some(dir => name.startsWith(dir))) continue;
	const result = program.emit(file);
	for (const d of result.diagnostics) emitErrors.push(d);
	emitted++;
}
if (emitErrors.length > 0) {
	report(emitErrors);
	process.exit(1);
}
process.stdout.write(`typescript: ${parsed.fileNames.length} files type-checked, ${emitted} emitted to build/\n`);
