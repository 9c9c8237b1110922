/**
 * Code outside machines/ asks the node machine through its tags (machines/nodeTags.ts), never by state name: this
 * scans src/, bench/ and scripts/ with the TypeScript compiler (types included) for the ways a state name is read.
 * - `.matches(...)` or `.value` on a node machine snapshot (any value whose `context` is the machine's NodeContext);
 * - a state name (taken from the machine definition itself) as a string literal compared with a plain string
 *   (`topState(value) === 'takingOver'`, a `case 'handingOver':`; not the names that are also role or DNS
 *   connection values, such as 'primary': their reads are caught at `.value`), or looked for in a string (a state
 *   label) with `startsWith`, `endsWith`, `includes`.
 * The only exceptions are listed in ALLOWED below, each with its reason, and each must still be needed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import type { StateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import { nodeMachine } from '../machines/nodeMachine.js';
import { NodeTag } from '../machines/nodeTags.js';
import { NodeDnsConnectionState, NodeRole } from '../src/api/constants.js';

const ROOT = join(import.meta.dirname, '..');
/** The values of the public constants that may equal a state name ('primary', 'secondary', 'disconnected'). */
const CONSTANT_VALUES = new Set<string>([...Object.values(NodeRole), ...Object.values(NodeDnsConnectionState)]);
const SCANNED = ['src', 'bench', 'scripts'];

/** Reads of a snapshot's state value that are allowed, with why. Each must match a read that exists. */
const ALLOWED: readonly { file: string; property: 'value'; why: string }[] = [
  { file: 'src/http/inspector/inspectorPlugin.ts', property: 'value', why: 'the inspector highlights the active states on the chart it draws' },
  { file: 'src/http/inspector/nodeEventLog.ts', property: 'value', why: "the inspector's event log keeps each state value so that replay highlights it on the chart" },
];

/** Every state name of the machine, from its definition, at any depth. */
function stateNames(): Set<string> {
  const names = new Set<string>();
  const visit = (node: StateNode<any, any>): void => {
    for (const [key, child] of Object.entries(node.states)) {
      names.add(key);
      visit(child as StateNode<any, any>);
    }
  };
  visit(nodeMachine.root as StateNode<any, any>);
  return names;
}

/** Every `.ts` file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly what: string;
  readonly property?: string;
}

/** A file that exists only for the scan (the probe that shows the scan is not blind). */
interface VirtualFile {
  readonly path: string;
  readonly text: string;
}

/** The findings of the scan of src/, bench/ and scripts/ and of `probe`, each with where and what. */
function scan(probe: VirtualFile): Finding[] {
  const names = stateNames();
  const files = [...SCANNED.flatMap((dir) => tsFiles(join(ROOT, dir))), probe.path];
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const options = { ...ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => name === probe.path || fileExists(name);
  host.readFile = (name) => (name === probe.path ? probe.text : readFile(name));
  host.getSourceFile = (name, language, ...rest) =>
    name === probe.path ? ts.createSourceFile(name, probe.text, language) : getSourceFile(name, language, ...rest);
  const program = ts.createProgram(files, options, host);
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];

  /** Whether `node`'s type is a node machine snapshot: its `context` is the machine's NodeContext. */
  const isNodeSnapshot = (node: ts.Expression): boolean => {
    const type = checker.getNonNullableType(checker.getTypeAtLocation(node));
    const context = type.getProperty('context');
    if (context === undefined) return false;
    const contextType = checker.getTypeOfSymbolAtLocation(context, node);
    return contextType.getProperty('nodeId') !== undefined && contextType.getProperty('epoch') !== undefined && contextType.getProperty('lease') !== undefined;
  };
  const isPlainString = (node: ts.Expression): boolean => {
    const type = checker.getTypeAtLocation(node);
    return (type.flags & ts.TypeFlags.String) !== 0;
  };
  // A role or DNS connection state compared with its value is no state name, even where the words coincide.
  const isStateName = (node: ts.Node): node is ts.StringLiteral => ts.isStringLiteralLike(node) && names.has(node.text) && !CONSTANT_VALUES.has(node.text);

  for (const source of program.getSourceFiles()) {
    const path = source.fileName.split('/').join(sep);
    if (!files.includes(path)) continue;
    const file = relative(ROOT, path).split(sep).join('/');
    const add = (node: ts.Node, what: string, property?: string) =>
      findings.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what, ...(property === undefined ? {} : { property }) });
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && (node.name.text === 'matches' || node.name.text === 'value') && isNodeSnapshot(node.expression)) {
        add(node, `${node.getText(source)} reads the state of a node machine snapshot`, node.name.text);
      }
      if (ts.isBinaryExpression(node) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(node.operatorToken.kind)) {
        for (const [literal, other] of [[node.left, node.right], [node.right, node.left]] as const) {
          if (isStateName(literal) && isPlainString(other)) add(node, `${node.getText(source)} compares a string with the state name '${literal.text}'`);
        }
      }
      if (ts.isCaseClause(node) && isStateName(node.expression) && ts.isSwitchStatement(node.parent.parent) && isPlainString(node.parent.parent.expression)) {
        add(node, `case '${node.expression.text}' switches on a state name`);
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ['startsWith', 'endsWith', 'includes'].includes(node.expression.name.text) && isPlainString(node.expression.expression)) {
        for (const argument of node.arguments) {
          if (ts.isStringLiteralLike(argument) && names.has(argument.text)) add(node, `${node.getText(source)} looks for the state name '${argument.text}' in a string`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return findings;
}

/** Code that reads state names in each way the scan knows (lines 5 to 9), and compares a role (line 10, allowed). */
const PROBE: VirtualFile = {
  path: join(ROOT, 'src', '__layering_probe__.ts'),
  text: [
    "import type { NodeSnapshot } from '../machines/nodeReplies.js';",
    "import { stateLabel, topState } from '../machines/stateLabel.js';",
    "import { NodeRole } from './api/constants.js';",
    'declare const snapshot: NodeSnapshot;',
    "export const a = snapshot.matches('secondary');",
    'export const b = snapshot.value;',
    "export const c = topState(snapshot.context.role === NodeRole.PRIMARY ? {} : 'x') === 'takingOver';",
    "export const d = stateLabel('x').startsWith('primary');",
    "export function e(label: string): number { switch (label) { case 'handingOver': return 1; default: return 0; } }",
    "export const f = snapshot.context.role === 'primary';",
  ].join('\n'),
};
const PROBE_FILE = relative(ROOT, PROBE.path).split(sep).join('/');

describe('layering: code outside machines/ asks the node machine through tags', () => {
  const all = scan(PROBE);
  const findings = all.filter((finding) => finding.file !== PROBE_FILE);

  it('reads no state name outside machines/ (src, bench, scripts), but for the listed exceptions', () => {
    const allowed = (finding: Finding) => ALLOWED.some((entry) => entry.file === finding.file && entry.property === finding.property);
    expect(findings.filter((finding) => !allowed(finding)).map((f) => `${f.file}:${f.line}: ${f.what}`)).toEqual([]);
  });

  it('needs every listed exception (a stale one is removed, not kept)', () => {
    const unused = ALLOWED.filter((entry) => !findings.some((finding) => finding.file === entry.file && finding.property === entry.property));
    expect(unused).toEqual([]);
  });

  it('sees each way of reading a state name (the scan is not blind), and not a role compared with its value', () => {
    expect(all.filter((finding) => finding.file === PROBE_FILE).map((finding) => finding.line)).toEqual([5, 6, 7, 8, 9]);
  });

  it('tags every top-level state, and every tag is on some state', () => {
    const used = new Set<string>();
    const untagged: string[] = [];
    const visit = (node: StateNode<any, any>, depth: number): void => {
      for (const tag of node.tags) used.add(tag);
      if (depth === 1 && node.tags.length === 0) untagged.push(node.key);
      for (const child of Object.values(node.states)) visit(child as StateNode<any, any>, depth + 1);
    };
    visit(nodeMachine.root as StateNode<any, any>, 0);
    expect(untagged).toEqual([]);
    expect(Object.values(NodeTag).filter((tag) => !used.has(tag))).toEqual([]);
    expect([...used].filter((tag) => !(Object.values(NodeTag) as string[]).includes(tag))).toEqual([]);
  });
});
