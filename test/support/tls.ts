// A throwaway CA and a loopback server certificate (IP SANs: Go's TLS ignores the CN).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runOk } from './processes.js';

export interface TlsFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly cert: string;
  readonly key: string;
}

export async function makeTls(dir: string, name = 'server'): Promise<TlsFiles> {
  const f = (n: string) => path.join(dir, n);
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=trustgate test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
  writeFileSync(f(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n');
  await runOk('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '30', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  return { caCert: f('ca.crt'), caKey: f('ca.key'), cert: f(`${name}.crt`), key: f(`${name}.key`) };
}

/** A client certificate (`<name>.crt`, `<name>.key` in `dir`) with CN `cn`, signed by `ca`. */
export async function issueClientCert(dir: string, ca: TlsFiles, name: string, cn: string): Promise<{ cert: string; key: string }> {
  const f = (n: string) => path.join(dir, n);
  await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
  writeFileSync(f(`${name}.ext`), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  await runOk('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', ca.caCert, '-CAkey', ca.caKey, '-CAcreateserial',
    '-days', '30', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
}
