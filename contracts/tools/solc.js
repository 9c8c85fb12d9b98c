#!/usr/bin/env node
// Lets forge use solc-js (the npm package `solc`) as its compiler, because forge
// cannot download a native solc on machines without internet access.
// forge calls `solc --version` and `solc [options] --standard-json` with the
// standard JSON input on stdin; solc-js's own CLI rejects some of those options.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

// Import roots: --base-path, every --include-path and the working directory.
const roots = [];
for (let i = 0; i < args.length; i++) {
  if ((args[i] === '--base-path' || args[i] === '--include-path') && i + 1 < args.length) {
    roots.push(args[++i]);
  }
}
roots.push(process.cwd());

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    try {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    } catch (err) {
      // Try the next root.
    }
  }
  return { error: `solc wrapper: cannot find import "${importPath}" under ${roots.join(', ')}` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImport }));
