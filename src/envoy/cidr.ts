// IP addresses and CIDR ranges, v4 and v6, as Envoy compares them. Pure.

/** Whether `address` lies in `prefix/bits`; a v4 address is never in a v6 range or the reverse. */
export function cidrContains(prefix: string, bits: number, address: string): boolean {
  const a = ipToBigInt(prefix);
  const b = ipToBigInt(address);
  if (!a || !b || a.v6 !== b.v6) return false;
  const width = a.v6 ? 128 : 32;
  if (bits === 0) return true;
  const shift = BigInt(width - bits);
  return a.value >> shift === b.value >> shift;
}

function ipToBigInt(ip: string): { value: bigint; v6: boolean } | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), v6: false };
  }
  if (!ip.includes(':')) return null;
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), v6: true };
}
