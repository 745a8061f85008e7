// What ingest checks of a Secret's values before dropping them, kept as facts on the stored Secret
// so that Istio's analyzers can judge it later (the generator gives the Secret stand-in values that
// Istio's own checks judge the same way). Never a value, nor anything derived from a private key.
import { X509Certificate } from 'node:crypto';
import { isPlainObject } from './decode.js';

/** The annotation the generator reads them from (generator/internal/session/secrets.go). */
export const SECRET_FACTS_ANNOTATION = 'meshlens.io/secret-facts';

/** The keys Istio reads a gateway's certificate from (pilot/pkg/credentials/kube: `cert`, `tls.crt`). */
const CERTIFICATE_KEYS = ['cert', 'tls.crt'];

interface Validity {
  notBefore: string;
  notAfter: string;
}

export interface SecretFacts {
  /** Keys whose value is empty: Istio looks for non-empty certificate and key values. */
  emptyKeys?: string[];
  /** By certificate key: the validity of the certificate of the value's first PEM block, or null when it is none. */
  certificates?: Record<string, Validity[] | null>;
}

/** The facts of a Secret's `data` (base64) and `stringData` (plain) values. */
export function secretFacts(secret: Record<string, unknown>): SecretFacts {
  const values = new Map<string, Buffer>();
  if (isPlainObject(secret.data))
    for (const [key, value] of Object.entries(secret.data)) values.set(key, Buffer.from(typeof value === 'string' ? value : '', 'base64'));
  if (isPlainObject(secret.stringData))
    for (const [key, value] of Object.entries(secret.stringData))
      values.set(key, Buffer.from(typeof value === 'string' ? value : '', 'utf8'));
  const emptyKeys = [...values]
    .filter(([, value]) => value.length === 0)
    .map(([key]) => key)
    .sort();
  const certificates: Record<string, Validity[] | null> = {};
  for (const key of CERTIFICATE_KEYS) {
    const value = values.get(key);
    if (value !== undefined && value.length > 0) certificates[key] = firstPemCertificate(value);
  }
  return {
    ...(emptyKeys.length > 0 ? { emptyKeys } : {}),
    ...(Object.keys(certificates).length > 0 ? { certificates } : {}),
  };
}

/**
 * The first PEM block, as Go's pem.Decode finds it, read as a certificate (x509.ParseCertificates
 * reads it in Istio). Found with indexOf, not a regular expression: a value is upload-sized and
 * hostile inputs must stay linear.
 */
function firstPemCertificate(value: Buffer): Validity[] | null {
  const text = value.toString('latin1');
  const begin = text.startsWith('-----BEGIN ') ? 0 : text.indexOf('\n-----BEGIN ') + 1;
  if (begin === 0 && !text.startsWith('-----BEGIN ')) return null;
  const typeEnd = text.indexOf('-----', begin + '-----BEGIN '.length);
  const lineEnd = text.indexOf('\n', begin);
  if (typeEnd === -1 || lineEnd === -1 || typeEnd > lineEnd) return null;
  const end = text.indexOf(`\n-----END ${text.slice(begin + '-----BEGIN '.length, typeEnd)}-----`, lineEnd);
  if (end === -1) return null;
  const body = text
    .slice(lineEnd + 1, end)
    .split(/\r?\n/)
    .filter((line) => !line.includes(':'))
    .join('');
  try {
    const certificate = new X509Certificate(Buffer.from(body, 'base64'));
    return [{ notBefore: new Date(certificate.validFrom).toISOString(), notAfter: new Date(certificate.validTo).toISOString() }];
  } catch {
    return null;
  }
}
