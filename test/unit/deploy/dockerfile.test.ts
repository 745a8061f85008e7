// No Docker engine runs here, so the container image's facts are checked against the repository:
// the Go stage builds with the Go generator/go.mod asks for, the generator lands where the service
// looks for it, the Node stage's `npm ci` does not need Go, and the entrypoint is the package's bin.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const stages = dockerfile.split(/^FROM /m).slice(1);
const stage = (name: string) => stages.find((s) => new RegExp(`^\\S+ AS ${name}$`, 'm').test(s.split('\n')[0]!)) ?? '';

describe('Dockerfile', () => {
  it("builds the generator with generator/go.mod's Go version", () => {
    const goMod = /^go (\d+\.\d+)/m.exec(read('generator/go.mod'))?.[1];
    const arg = /^ARG GO_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
    expect(arg).toBe(goMod);
    expect(stage('generator')).toMatch(/^golang:\$\{GO_VERSION\}-/);
  });

  it('puts the generator where the service looks for it', () => {
    const built = /go build .* -o (\S+) \.\/cmd\/generator/.exec(stage('generator'))?.[1];
    expect(built).toBeDefined();
    const runtime = stages.at(-1)!;
    expect(runtime).toContain(`COPY --from=generator ${built} ./generator/bin/generator`);
    expect(read('src/generator/binary.ts')).toContain("join(projectRoot(), 'generator', 'bin', 'generator')");
  });

  it('runs npm ci in the Node stage without Go (the prepare script sees a prebuilt generator)', () => {
    const build = stage('build');
    const env = build.indexOf('ENV MESHLENS_GENERATOR_BIN=');
    expect(env).toBeGreaterThanOrEqual(0);
    expect(env).toBeLessThan(build.indexOf('RUN npm ci'));
    expect(read('scripts/build-generator.mjs')).toMatch(/if \(process\.env\.MESHLENS_GENERATOR_BIN\) process\.exit\(0\)/);
  });

  it("starts the package's bin as a non-root user", () => {
    const runtime = stages.at(-1)!;
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    expect(runtime).toMatch(/^USER (?!root)\S+$/m);
    expect(runtime).toContain(`ENTRYPOINT ["node", "${pkg.bin.meshlens}"]`);
  });
});
