// One name per registry (docs/policy.md "Matching"). Policies, trust.servers, credentials and the
// verification cache all key on the registry host, so every spelling that reaches the same
// registry must become the same string, or a deny written for one spelling is stepped around by
// another. Host names and IP literals are compared as an https URL's host is (WHATWG URL host
// parsing): case folded, IPv6 compressed, IPv4 in dotted decimal, and the default port :443
// dropped, since `https://host` and `https://host:443` are one endpoint.
import { HOST_RE } from './grammar.js';

/** docker.io is the default registry; these hosts are other names for it (with any spelling). */
export const DEFAULT_REGISTRY = 'docker.io';
export const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([DEFAULT_REGISTRY, 'index.docker.io', 'registry-1.docker.io']);

/** Plain HTTP: a registry reached over HTTP answers as `host` and as `host:80` alike. */
const HTTP_PORT = '80';

export type CanonicalHost = { readonly host: string } | { readonly problem: string };

/**
 * The canonical name of a registry host (with its port, if not 443): `docker.io`,
 * `registry.example.com`, `localhost:5000`, `[::1]:5000`; or why it is not a registry host.
 * Port 80 is refused: with docker's and containerd's HTTP fallback `host:80` reaches the registry
 * `host` names, yet over HTTPS it is another endpoint, so no single name would be right.
 */
export function canonicalRegistry(host: string): CanonicalHost {
  const match = HOST_RE.exec(host);
  if (!match) return { problem: `registry host "${host}" is not a valid host name` };
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { problem: `registry port ${port} is out of range` };
  let url: URL;
  try {
    url = new URL(`https://${host}`);
  } catch {
    return { problem: `registry host "${host}" is not a valid host name (a name ending in a number must be an IPv4 address)` };
  }
  if (url.port === HTTP_PORT) {
    return { problem: `registry port 80 is refused: it may reach the same registry as "${url.hostname}" without a port, so name the registry one way (without ":80" if it serves HTTPS on 443)` };
  }
  if (DOCKER_HUB_ALIASES.has(url.host)) return { host: DEFAULT_REGISTRY };
  return { host: ipv4Mapped(url.hostname, url.port) ?? url.host };
}

/**
 * `[::ffff:a00:5]` is 10.0.0.5 written as IPv6: Go's dialer (containerd, docker) connects to it
 * over IPv4, so it reaches the registry `10.0.0.5` names and takes that name.
 */
function ipv4Mapped(hostname: string, port: string): string | undefined {
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(hostname);
  if (!mapped) return undefined;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  const ipv4 = [high >> 8, high & 255, low >> 8, low & 255].join('.');
  return port === '' ? ipv4 : `${ipv4}:${port}`;
}
