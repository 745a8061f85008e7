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
  if (isPlainObject(secret.data)) for (const [key, value] of Object.entries(secret.data)) values.set(key, Buffer.from(typeof value === 'string' ? value : '', 'base64'));
  if (isPlainObject(secret.stringData)) for (const [key, value] of Object.entries(secret.stringData)) values.set(key, Buffer.from(typeof value === 'string' ? value : '', 'utf8'));
  const emptyKeys = [...values].filter(([, value]) => value.length === 0).map(([key]) => key).sort();
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

/** The first PEM block, as Go's pem.Decode finds it, read as a certificate (x509.ParseCertificates reads it in Istio). */
function firstPemCertificate(value: Buffer): Validity[] | null {
  const block = /^-----BEGIN ([^\r\n]*)-----\r?\n([\s\S]*?)^-----END \1-----/m.exec(value.toString('latin1'));
  if (!block) return null;
  const body = block[2]!.split(/\r?\n/).filter((line) => !line.includes(':')).join('');
  try {
    const certificate = new X509Certificate(Buffer.from(body, 'base64'));
    return [{ notBefore: new Date(certificate.validFrom).toISOString(), notAfter: new Date(certificate.validTo).toISOString() }];
  } catch {
    return null;
  }
}
