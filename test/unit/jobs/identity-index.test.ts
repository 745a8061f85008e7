// The compute job's identity check (IdentityIndex: each object scanned once per job for every
// workload's identity) against what it replaced, the check of one class's config as one text:
// the same answer on every case.
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ProxyInfo } from '../../../src/model/proxy.js';
import { dependsOnIdentity, IdentityIndex, type ClassMember } from '../../../src/jobs/proxy-classes.js';

/** The check before IdentityIndex: a class's listeners, routes and clusters as one text, scanned for its members. */
function identityInText(text: string, rep: ClassMember, members: ClassMember[]): boolean {
  if (members.length < 2) return false;
  const ipv4 = new Set<string>();
  const ipv6: string[] = [];
  for (const m of members) {
    for (const ip of m.proxy.ips) {
      if (isIPv6(ip)) ipv6.push(ip);
      else ipv4.add(ip);
    }
  }
  for (const match of text.matchAll(/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g)) if (ipv4.has(match[0])) return true;
  if (ipv6.some((ip) => text.includes(ip))) return true;
  const idName = rep.proxy.id.split('.')[0] ?? rep.name;
  return [rep.name, idName, `${rep.name}.${rep.namespace}`].some((token) => containsToken(text, token));
}

function containsToken(text: string, token: string): boolean {
  if (!token) return false;
  const nameChar = /[A-Za-z0-9_-]/;
  for (let i = text.indexOf(token); i >= 0; i = text.indexOf(token, i + 1)) {
    const before = text[i - 1] ?? '';
    const after = text[i + token.length] ?? '';
    if (!nameChar.test(before) && !nameChar.test(after)) return true;
  }
  return false;
}

function member(name: string, ips: string[], id = `${name}.shop`): ClassMember {
  return { namespace: 'shop', name, proxy: { id, ips, type: 'SIDECAR', namespace: 'shop' } as unknown as ProxyInfo };
}

/** The job: two classes of sidecars, one of gateways named with dots, dual-stack and zoned addresses among them. */
const classes: ClassMember[][] = [
  [member('web-1', ['10.0.0.1']), member('web-2', ['10.0.0.2', 'fd00::2']), member('web-10', ['10.0.0.10'])],
  [member('api-1', ['10.0.1.1'], 'api-one.shop'), member('api-2', ['fe80::1%eth0'])],
  [member('gw.a', ['10.0.2.1']), member('gw.b', ['10.0.2.2'], '')],
];
const job = new IdentityIndex(classes.flat());

/** Configs as lists of objects; each case's text is the old check's. */
const texts: unknown[][][] = [
  [[{ name: 'virtualInbound' }], [], [{ name: 'outbound|80||svc.shop.svc.cluster.local' }]],
  [[{ address: '10.0.0.1' }], [], []],
  [[{ address: '10.0.0.12' }], [{ cidr: '110.0.0.1/32' }], [{ v: '10.0.0.1.5' }, { v: '1.10.0.0.1' }]],
  [[], [], [{ endpoint: '10.0.0.2:8080' }]],
  [[], [], [{ endpoint: '[fd00::2]:8080' }]],
  [[], [], [{ endpoint: 'fd00::20' }]], // contains fd00::2 as text
  [[], [], [{ endpoint: 'fe80::1%eth0' }]],
  [[{ tracing: 'web-1' }], [], []],
  [[{ tracing: 'web-10' }], [], []],
  [[{ tracing: 'xweb-1' }, { t: 'web-1_a' }, { t: 'web-1-a' }], [], []],
  [[], [{ domains: ['web-1.shop', 'web-1.shop.svc'] }], []],
  [[], [{ cluster: 'outbound|80||web-1.shop.svc.cluster.local' }], []],
  [[{ t: 'api-1' }], [{ t: 'api-one' }], [{ t: 'api-one2' }]],
  [[{ t: 'gw.a' }], [], []],
  [[{ t: 'gw.ab' }, { t: 'xgw.a' }], [], []],
  [[{ t: 'gw' }], [{ t: 'gw.a.shop' }], []],
  [[{ t: 'a.gw.b-' }], [], [{ t: 'gw.b.' }]],
  [[{ 'web-1': 1 }], [], []],
  [[], [], [{ ips: ['10.0.2.2', '10.0.1.1'] }]],
];

/** Every class, every member as its representative (the job asks about the first only: the others are cases too). */
function* questions(): Generator<[ClassMember, ClassMember[]]> {
  for (const members of [...classes, [classes[0][0]], [classes[0][0], classes[1][0]]]) for (const rep of members) yield [rep, members];
}

const oldAnswer = (config: unknown[][], rep: ClassMember, members: ClassMember[]) => identityInText(JSON.stringify(config), rep, members);
const jobAnswer = (config: unknown[][], rep: ClassMember, members: ClassMember[]) =>
  job.namesIdentity(
    config.flat().map((o) => job.scanOnce(JSON.stringify(o), (text) => text)),
    rep,
    members,
  );

describe('IdentityIndex', () => {
  it("answers as the check of the whole config's text, for every class and representative", () => {
    let named = 0;
    for (const config of texts) {
      for (const [rep, members] of questions()) {
        const expected = oldAnswer(config, rep, members);
        named += expected ? 1 : 0;
        expect({ config, rep: rep.name, members: members.map((m) => m.name), answer: jobAnswer(config, rep, members) }).toEqual({
          config,
          rep: rep.name,
          members: members.map((m) => m.name),
          answer: expected,
        });
        const [listeners, routes, clusters] = config as never[][];
        expect(dependsOnIdentity({ listeners, routes, clusters }, rep, members)).toBe(expected);
      }
    }
    expect(named).toBeGreaterThan(20); // the cases name members, not only leave them out
  });

  it('answers as the old check on random texts of names, addresses and separators', () => {
    const pieces = [
      'web-1',
      'web-2',
      'web-10',
      'api-1',
      'api-one',
      'gw.a',
      'gw.b',
      'shop',
      '10.0.0.1',
      '10.0.0.2',
      '0',
      '1',
      'fd00::2',
      ':',
      '.',
      '-',
      '_',
      '|',
      ' ',
      'x',
      '/',
      '%eth0',
      'fe80::1',
    ];
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + random(6) }, () => pieces[random(pieces.length)]).join('');
      for (const [rep, members] of questions()) {
        const expected = oldAnswer([[{ t: text }]], rep, members);
        if (jobAnswer([[{ t: text }]], rep, members) !== expected)
          expect({ text, rep: rep.name, answer: !expected }).toEqual({ text, rep: rep.name, answer: expected });
      }
    }
  });

  it('scans each object once per job, whatever the classes that name it', () => {
    const index = new IdentityIndex(classes.flat());
    const first = index.scanOnce('o', () => '{"address":"10.0.0.1"}');
    expect(index.scanOnce('o', () => 'anything else')).toBe(first);
    expect(first).toEqual({ addresses: ['10.0.0.1'], tokens: [] });
  });

  it('refuses a class whose workloads it was not built with', () => {
    const stranger = member('other-1', ['10.9.9.9']);
    expect(() => job.namesIdentity([], stranger, [stranger, classes[0][0]])).toThrow(/not built with/);
  });
});
