import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// trustgate runs on Node 24 LTS (docs/adr/0006-node-24.md). The README's commands fetch it
// (scripts/node.sh) because the machines' own Node may be older; these tests fail when the suite,
// the image or the child processes it starts would run on another line.
const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
const floor = Number(/^>=(\d+)$/.exec(engines)?.[1]);
const major = (version: string) => Number.parseInt(version.replace(/^v/, ''), 10);

describe('the Node runtime', () => {
  it('declares Node 24 or later in package.json engines', () => {
    expect(floor).toBeGreaterThanOrEqual(24);
  });

  it('runs the suite on a Node that meets engines', () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(floor);
  });

  it('gives child processes started as "node" the same Node as the suite', () => {
    // npm, npm's scripts and anything spawning `node` by name resolve it through PATH.
    const fromPath = execFileSync('node', ['-p', 'process.execPath'], { encoding: 'utf8' }).trim();
    expect(fromPath).toBe(process.execPath);
  });

  it('fetches, in scripts/node.sh, a Node of the same line', () => {
    const pinned = /^TRUSTGATE_NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(readFileSync('scripts/node.sh', 'utf8'))?.[1] ?? '';
    expect(major(pinned)).toBeGreaterThanOrEqual(floor);
  });

  it('builds the image on a Node of the same line, pinned by digest', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1] ?? '';
    expect(base).toMatch(/^node:\d+[\w.-]*@sha256:[0-9a-f]{64}$/);
    expect(major(base.slice('node:'.length))).toBeGreaterThanOrEqual(floor);
  });
});
