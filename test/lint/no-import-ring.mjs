import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

// Relative module specifiers of `import … from`, `export … from`, side-effect and dynamic imports.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]*)['"]/g;
const edgesCache = new Map();

function resolveTs(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base])
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return undefined;
}

function edgesOf(file) {
  let edges = edgesCache.get(file);
  if (!edges) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    edges = [...text.matchAll(SPECIFIER)].map((m) => resolveTs(file, m[1])).filter(Boolean);
    edgesCache.set(file, edges);
  }
  return edges;
}

/** The shortest import path from `start` back to `goal`, or undefined (breadth-first over our .ts files). */
function pathBack(start, goal) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift();
    if (file === goal) {
      const path = [];
      for (let f = file; f !== undefined; f = previous.get(f)) path.unshift(f);
      return path;
    }
    for (const next of edgesOf(file))
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
  }
  return undefined;
}

/**
 * No file may reach itself through imports, type-only imports included: eslint-plugin-import-x's
 * no-cycle skips `import type`, which let a ring of type imports through.
 */
export const noImportRing = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid rings of relative imports, type-only imports included' },
    messages: { ring: 'import ring: {{ring}}' },
    schema: [],
  },
  create(context) {
    const file = resolve(context.filename);
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = resolveTs(file, spec);
      const back = target && pathBack(target, file);
      if (back)
        context.report({
          node,
          messageId: 'ring',
          data: { ring: [file, ...back].map((f) => relative(context.cwd, f)).join(' → ') },
        });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
