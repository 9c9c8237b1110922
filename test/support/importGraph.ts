/**
 * The import graph of the repository's own modules, read with the TypeScript compiler's parser (no type checking):
 * every `import`/`export ... from` (type-only ones too: a type is a dependency of the design) and every `import()`
 * of a string literal. Used by test/layering.test.ts for the layering rules of README's layout section.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of a repository module by another, paths relative to the repository root with `/`. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  /** Whether only types are imported (`import type`, `export type`, or every named import marked `type`). */
  readonly typeOnly: boolean;
}

/** The module specifiers of one source file, each with whether it imports types only. */
export function importsOf(fileName: string, source: string): { specifier: string; typeOnly: boolean }[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly =
        clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause !== undefined && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((element) => element.isTypeOnly)) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument)) found.push({ specifier: argument.text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/**
 * The edges between the given modules (`files`: path relative to the root → source). Relative specifiers are
 * resolved as the ESM build does (`./x.js` is `./x.ts`); packages and `node:` modules are left out, and so is a
 * specifier that names no module of `files` (it is returned in `unresolved`).
 */
export function importEdges(files: ReadonlyMap<string, string>): { edges: ImportEdge[]; unresolved: string[] } {
  const edges: ImportEdge[] = [];
  const unresolved: string[] = [];
  for (const [from, source] of files) {
    for (const { specifier, typeOnly } of importsOf(from, source)) {
      if (!specifier.startsWith('.')) continue;
      const base = resolve('/', dirname(from), specifier.split('?')[0]!).slice(1);
      const to = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`].find((candidate) => files.has(candidate));
      if (to === undefined) unresolved.push(`${from} -> ${specifier}`);
      else edges.push({ from, to, typeOnly });
    }
  }
  return { edges, unresolved };
}

/** The `.ts` files under `folders` of `root`, as path (relative, `/`-separated) → source. */
export function readModules(root: string, folders: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.set(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files;
}

/** The layer a module belongs to: `machines`, a folder of `src/` (`api`, `node`, ...), or `src` for src/index.ts. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] !== 'src') return parts[0]!;
  return parts.length > 2 ? parts[1]! : 'src';
}

/**
 * The import cycles between modules: each strongly connected component of more than one module (or a module that
 * imports itself), its members sorted. Tarjan's algorithm.
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (next.get(node) ?? []).includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) connect(node);
  return cycles;
}

/**
 * Parses a folder order written as `api < machines < dns, peer < node < src/index.ts`: each group of folders (same
 * rank) may import only groups to its left. Returns folder → rank (`src` for the main entry).
 */
export function parseFolderOrder(text: string): Map<string, number> {
  const ranks = new Map<string, number>();
  text.split('<').forEach((group, rank) => {
    for (const name of group.split(',').map((part) => part.trim())) {
      // src/index.ts, the main entry, is the layer `src` of folderOf.
      const folder = name === 'src/index.ts' ? 'src' : name;
      if (!/^[a-z]+$/.test(folder)) throw new Error(`not a folder name in the order "${text}": "${name}"`);
      ranks.set(folder, rank);
    }
  });
  return ranks;
}

/** The imports that break the order: from a folder to one of the same rank or above, or to a folder not in it. */
export function orderViolations(edges: readonly ImportEdge[], ranks: ReadonlyMap<string, number>): string[] {
  const violations: string[] = [];
  for (const { from, to } of edges) {
    const [source, target] = [folderOf(from), folderOf(to)];
    if (source === target) continue;
    const [sourceRank, targetRank] = [ranks.get(source), ranks.get(target)];
    if (sourceRank === undefined || targetRank === undefined) violations.push(`${from} -> ${to} (folder ${sourceRank === undefined ? source : target} is not in the order)`);
    else if (targetRank >= sourceRank) violations.push(`${from} -> ${to} (${source} may not import ${target})`);
  }
  return violations;
}
