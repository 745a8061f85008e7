// The GitHub Action (action.yml, composite) checked against the repository: its inputs, the
// commands it runs exist, and the README's workflow uses it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: { id?: string; uses?: string; run?: string; with?: Record<string, string> }[] };
}

const action = parse(read('action.yml')) as Action;

describe('action.yml', () => {
  it('is a composite action with the inputs base, head or mesh, server, token, fail-on', () => {
    expect(action.runs.using).toBe('composite');
    for (const input of ['base', 'head', 'mesh', 'server', 'token', 'fail-on']) expect(Object.keys(action.inputs)).toContain(input);
    expect(action.inputs.head!.required).toBe(true);
    expect(action.inputs['fail-on']!.default).toBe('error');
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['comment', 'exit-code']));
  });

  it("runs the package's CLI with the diff's options, Go from generator/go.mod when offline", () => {
    const scripts = action.runs.steps.map((s) => s.run ?? '').join('\n');
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin.meshlens;
    expect(action.runs.steps.find((s) => s.id === 'diff')).toBeDefined();
    expect(JSON.stringify(action)).toContain(`/${bin.replace(/^\.\//, '')}`);
    expect(scripts).toMatch(/diff "\$\{MESH:\+\$MESH@latest\}\$\{BASE\}" --head "\$HEAD" --format "\$FORMAT" --fail-on "\$FAIL_ON"/);
    expect(scripts).toMatch(/diff --base "\$BASE" --head "\$HEAD"/);
    const go = action.runs.steps.find((s) => s.uses?.startsWith('actions/setup-go@'));
    expect(go?.with?.['go-version-file']).toBe('${{ github.action_path }}/generator/go.mod');
    // The build skips the generator against a service (the prepare script's no-op).
    expect(scripts).toContain('MESHLENS_GENERATOR_BIN=');
    expect(read('scripts/build-generator.mjs')).toMatch(/if \(process\.env\.MESHLENS_GENERATOR_BIN\) process\.exit\(0\)/);
  });

  it("is what the README's workflow uses", () => {
    const readme = read('README.md');
    expect(readme).toMatch(/uses: your-org\/meshlens@main\n\s+continue-on-error: true/);
    expect(readme).toContain("path: '${{ steps.meshlens.outputs.comment }}'");
  });
});
