// Who may ask for a review. A webhook's Service is reachable by every pod the network lets
// through, and an AdmissionReview carries no proof that the API server sent it; kube-apiserver
// can present a client certificate instead (AdmissionConfiguration → WebhookAdmissionConfiguration
// kubeConfigFile), and with tls.clientCAFile only a client holding one is answered.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The codes of a refused client (docs/troubleshooting.md). */
export const ClientAuthCode = {
  CLIENT_CERT_REQUIRED: 'CLIENT_CERT_REQUIRED',
  CLIENT_NOT_ALLOWED: 'CLIENT_NOT_ALLOWED',
} as const;

export interface ClientRefusal {
  readonly status: 401 | 403;
  readonly code: (typeof ClientAuthCode)[keyof typeof ClientAuthCode];
  readonly message: string;
}

/** Undefined: the client may proceed. */
export type ClientCheck = (req: IncomingMessage) => ClientRefusal | undefined;

/**
 * A check of the client certificate the TLS handshake verified against the client CA
 * (server.ts asks for one without requiring it). `names`: the CN or a DNS SAN must be one of
 * them; empty: any certificate from the CA. The verdict is kept per connection: the API server
 * sends many reviews over one keep-alive connection, and its certificate cannot change on it.
 */
export function clientCertificateCheck(names: readonly string[]): ClientCheck {
  const allowed = new Set(names);
  const verdicts = new WeakMap<TLSSocket, ClientRefusal | null>();
  return (req) => {
    const socket = req.socket as TLSSocket;
    let verdict = verdicts.get(socket);
    if (verdict === undefined) {
      verdict = judge(socket, allowed);
      verdicts.set(socket, verdict);
    }
    return verdict ?? undefined;
  };
}

function judge(socket: TLSSocket, allowed: ReadonlySet<string>): ClientRefusal | null {
  if (!socket.authorized) {
    const why = socket.authorizationError ? String(socket.authorizationError) : 'no certificate presented';
    return { status: 401, code: ClientAuthCode.CLIENT_CERT_REQUIRED, message: `a client certificate from tls.clientCAFile is required (${printableName(why)})` };
  }
  if (allowed.size === 0) return null;
  const presented = certificateNames(socket);
  if (presented.some((n) => allowed.has(n))) return null;
  return {
    status: 403,
    code: ClientAuthCode.CLIENT_NOT_ALLOWED,
    message: `client certificate ${presented.map((n) => `"${printableName(n)}"`).slice(0, 5).join(', ') || 'without a name'} is not one of tls.clientNames`,
  };
}

/** The certificate's CN and DNS subject alternative names. */
function certificateNames(socket: TLSSocket): string[] {
  const cert = socket.getPeerCertificate();
  // A subject with two CNs gives an array, whatever @types/node says.
  const cn: unknown = cert.subject?.CN;
  const names = Array.isArray(cn) ? cn.filter((n): n is string => typeof n === 'string') : typeof cn === 'string' ? [cn] : [];
  for (const entry of (cert.subjectaltname ?? '').split(', ')) if (entry.startsWith('DNS:')) names.push(entry.slice(4));
  return names;
}

/** Names come from whoever made the certificate: keep them short and printable in messages and logs. */
function printableName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').replace(/"/g, "'").slice(0, 100);
}
